#include "web/table_query.h"

#include "common/pagination.h"

namespace loupe {

namespace {

constexpr size_t kMaxColumns = 20;

}  // namespace

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<TableQuery> ReadTableQuery(const HttpRequest& req) {
  TableQuery q;
  if (auto v = req.Query("q")) q.search = *v;  // ParseRunFilter bounds it, with a message
  if (auto v = req.Query("status")) q.status = *v;
  if (auto v = req.Query("sort"); v && !v->empty()) q.sort = *v;
  if (auto v = req.Query("dir")) q.descending = *v != "asc";
  if (auto v = req.Query("cols")) q.metric_columns = SplitCommas(*v);
  if (auto v = req.Query("ccols")) q.config_columns = SplitCommas(*v);
  if (auto v = req.Query("group")) q.group_by = *v;
  if (q.metric_columns.size() > kMaxColumns || (q.config_columns && q.config_columns->size() > kMaxColumns)) {
    return Status::InvalidArgument("the table shows at most 20 metric and 20 config columns");
  }
  if (q.group_by.size() > 1000) return Status::InvalidArgument("group must be a config key of at most 1000 bytes");
  q.page = ParsePageNumber(req.Query("page"), 1);
  q.per_page = ParsePageNumber(req.Query("per_page"), 50);
  return q;
}

}  // namespace loupe
