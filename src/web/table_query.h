// The runs table's query string, shared by its page, its CSV export and the JSON route
// the sweep panels read: q, status, sort, dir, cols (metric keys), ccols (config keys;
// present and empty means none), group, page, per_page.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tracking/experiment_table.h"
#include "web/http_types.h"

namespace loupe {

// "a,b,,c" -> {a, b, c}.
std::vector<std::string> SplitCommas(const std::string& s);

// Comma-separated lists (a form's repeated fields arrive joined the same way); at most
// 20 metric and 20 config columns.
Result<TableQuery> ReadTableQuery(const HttpRequest& req);

}  // namespace loupe
