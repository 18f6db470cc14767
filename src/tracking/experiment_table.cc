#include "tracking/experiment_table.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "tracking/run_filter.h"

namespace loupe {

namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsFolded(const std::string& hay, const std::string& needle_lower) {
  if (needle_lower.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle_lower.begin(), needle_lower.end(),
                        [](char a, char b) { return Lower(a) == b; });
  return it != hay.end();
}

std::string ValueText(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The config value at a dotted key, or null when the config lacks it.
const nlohmann::json* ConfigAt(const nlohmann::json& cfg, const std::string& key) {
  const nlohmann::json* cur = &cfg;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Metric last values by key, then by experiment id, for the comparison terms whose key
// is a metric of the project.
using MetricValues = std::unordered_map<std::string, std::unordered_map<int64_t, double>>;

bool TermMatches(const Experiment& e, const FilterTerm& term, const nlohmann::json* cfg, const MetricValues& metrics) {
  switch (term.kind) {
    case FilterTerm::Kind::kTag:
      return std::find(e.tags.begin(), e.tags.end(), term.value) != e.tags.end();
    case FilterTerm::Kind::kText: {
      std::string needle;
      for (char c : term.value) needle += Lower(c);
      if (ContainsFolded(e.name, needle) || ContainsFolded(e.run_id, needle) || ContainsFolded(e.config_json, needle)) {
        return true;
      }
      for (const std::string& t : e.tags) {
        if (ContainsFolded(t, needle)) return true;
      }
      return false;
    }
    case FilterTerm::Kind::kCompare: {
      if (const nlohmann::json* v = cfg ? ConfigAt(*cfg, term.key) : nullptr) {
        std::optional<double> number;
        if (v->is_number()) number = v->get<double>();
        return CompareMatches(term, ValueText(*v), number);
      }
      auto m = metrics.find(term.key);
      if (m == metrics.end()) return false;
      auto it = m->second.find(e.id);
      if (it == m->second.end()) return false;
      return CompareMatches(term, nlohmann::json(it->second).dump(), it->second);
    }
  }
  return false;
}

bool Matches(const Experiment& e, const TableQuery& q, const RunFilter& filter, const MetricValues& metrics) {
  if (!q.status.empty() && q.status != RunStatusName(e.status)) return false;
  if (filter.empty()) return true;
  nlohmann::json cfg;
  bool parsed = false;
  for (const FilterTerm& term : filter.terms) {
    if (term.kind == FilterTerm::Kind::kCompare && !parsed) {
      cfg = ParseBoundedJson(e.config_json);
      parsed = true;
    }
    if (!TermMatches(e, term, parsed ? &cfg : nullptr, metrics)) return false;
  }
  return true;
}

}  // namespace

Result<ExperimentTable> BuildExperimentTable(TrackingService& t, int64_t project_id, const TableQuery& q,
                                             int64_t now_micros) {
  ExperimentTable table;
  LOUPE_ASSIGN_OR_RETURN(Project project, t.GetProject(project_id));
  table.project = project;
  if (!q.status.empty() && !ParseRunStatus(q.status)) {
    return Status::InvalidArgument("status must be running, finished, crashed or stopped");
  }
  const std::string sort_key = q.sort.rfind("metric:", 0) == 0 ? q.sort.substr(7) : "";
  if (sort_key.empty() && q.sort != "name" && q.sort != "status" && q.sort != "start" && q.sort != "duration") {
    return Status::InvalidArgument("sort must be name, status, start, duration or metric:<key>");
  }

  Result<std::vector<std::pair<std::string, int64_t>>> keys = t.ProjectKeys(project_id);
  if (!keys.ok()) return keys.status();
  for (const auto& [k, n] : *keys) table.available_keys.push_back(k);
  table.metric_columns = q.metric_columns;
  if (table.metric_columns.empty()) {
    for (const auto& [k, n] : *keys) {
      if (table.metric_columns.size() == 4) break;
      if (k.rfind("system/", 0) != 0) table.metric_columns.push_back(k);
    }
  }
  if (!sort_key.empty() &&
      std::find(table.metric_columns.begin(), table.metric_columns.end(), sort_key) == table.metric_columns.end()) {
    table.metric_columns.push_back(sort_key);
  }

  LOUPE_ASSIGN_OR_RETURN(RunFilter filter, ParseRunFilter(q.search));
  MetricValues filter_metrics;
  for (const FilterTerm& term : filter.terms) {
    if (term.kind != FilterTerm::Kind::kCompare || filter_metrics.count(term.key)) continue;
    if (std::find(table.available_keys.begin(), table.available_keys.end(), term.key) == table.available_keys.end()) {
      continue;
    }
    LOUPE_ASSIGN_OR_RETURN(auto values, t.LastValues(project_id, term.key));
    auto& by_id = filter_metrics[term.key];
    for (const auto& [id, v] : values) by_id[id] = v;
  }

  LOUPE_ASSIGN_OR_RETURN(std::vector<Experiment> all, t.ListExperiments(project_id));
  table.total_experiments = static_cast<int64_t>(all.size());

  std::vector<TableRow> rows;
  std::unordered_map<int64_t, size_t> index;
  for (Experiment& e : all) {
    if (!Matches(e, q, filter, filter_metrics)) continue;
    TableRow row;
    int64_t end = e.status == RunStatus::kRunning || e.finish_time == 0 ? now_micros : e.finish_time;
    row.duration_micros = std::max<int64_t>(0, end - e.create_time);
    row.metrics.resize(table.metric_columns.size());
    index[e.id] = rows.size();
    row.experiment = std::move(e);
    rows.push_back(std::move(row));
  }
  // Only a metric sort needs every row's value; otherwise the page's rows are looked up
  // after paging (a handful of indexed reads instead of one scan per column).
  // The CSV export needs every row's values, so it scans every column.
  for (size_t c = 0; c < table.metric_columns.size(); ++c) {
    if (!q.all_rows && table.metric_columns[c] != sort_key) continue;
    Result<std::vector<std::pair<int64_t, double>>> values = t.LastValues(project_id, table.metric_columns[c]);
    if (!values.ok()) return values.status();
    for (const auto& [id, v] : *values) {
      if (auto it = index.find(id); it != index.end()) rows[it->second].metrics[c] = v;
    }
  }
  size_t sort_col = sort_key.empty() ? 0
                                     : static_cast<size_t>(std::find(table.metric_columns.begin(), table.metric_columns.end(), sort_key) -
                                                           table.metric_columns.begin());
  auto less = [&](const TableRow& a, const TableRow& b) -> bool {
    const Experiment& x = a.experiment;
    const Experiment& y = b.experiment;
    if (q.sort == "name") return x.name != y.name ? x.name < y.name : x.id < y.id;
    if (q.sort == "status") {
      std::string sx = RunStatusName(x.status), sy = RunStatusName(y.status);
      return sx != sy ? sx < sy : x.id < y.id;
    }
    if (q.sort == "duration") return a.duration_micros != b.duration_micros ? a.duration_micros < b.duration_micros : x.id < y.id;
    if (!sort_key.empty()) {
      const auto& va = a.metrics[sort_col];
      const auto& vb = b.metrics[sort_col];
      bool na = !va || std::isnan(*va), nb = !vb || std::isnan(*vb);
      if (na != nb) return nb;  // rows without a value go last either way (see below)
      if (!na && *va != *vb) return *va < *vb;
      return x.id < y.id;
    }
    return x.create_time != y.create_time ? x.create_time < y.create_time : x.id < y.id;
  };
  if (q.descending) {
    std::stable_sort(rows.begin(), rows.end(), [&](const TableRow& a, const TableRow& b) {
      if (!sort_key.empty()) {
        const auto& va = a.metrics[sort_col];
        const auto& vb = b.metrics[sort_col];
        bool na = !va || std::isnan(*va), nb = !vb || std::isnan(*vb);
        if (na != nb) return nb;
      }
      return less(b, a);
    });
  } else {
    std::stable_sort(rows.begin(), rows.end(), less);
  }

  if (q.all_rows) {
    table.page = Paginate(static_cast<int64_t>(rows.size()), 1, std::max<int64_t>(1, rows.size()),
                          std::max<int64_t>(1, rows.size()));
    table.rows = std::move(rows);
  } else {
    table.page = Paginate(static_cast<int64_t>(rows.size()), q.page, q.per_page);
    int64_t end = std::min<int64_t>(table.page.offset + table.page.per_page, table.page.total);
    for (int64_t i = table.page.offset; i < end; ++i) table.rows.push_back(std::move(rows[i]));
  }
  for (TableRow& row : table.rows) {
    if (q.all_rows) break;
    for (size_t c = 0; c < table.metric_columns.size(); ++c) {
      if (row.metrics[c] || table.metric_columns[c] == sort_key) continue;
      Result<Series> s = t.GetSeries(row.experiment.id, table.metric_columns[c]);
      if (s.ok() && s->last_step >= 0) row.metrics[c] = s->last_value;
    }
  }
  return table;
}

std::string ExperimentTableCsv(const ExperimentTable& table) {
  // RFC 4180: quote fields holding a comma, quote or line break; double inner quotes.
  // Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
  // leading apostrophe, as OWASP advises: a run named =HYPERLINK(...) stays text.
  auto field = [](std::string s) {
    if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) s.insert(0, 1, '\'');
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  std::string out = "id,run_id,name,status,start,duration_seconds";
  for (const std::string& k : table.metric_columns) out += "," + field(k);
  out += ",config\n";
  for (const TableRow& r : table.rows) {
    const Experiment& e = r.experiment;
    out += std::to_string(e.id) + "," + field(e.run_id) + "," + field(e.name) + "," + RunStatusName(e.status) + "," +
           FormatIsoMicros(e.create_time) + "," + std::to_string(r.duration_micros / 1e6);
    for (const auto& v : r.metrics) {
      out += ",";
      if (v) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", *v);
        out += buf;
      }
    }
    out += "," + field(e.config_json) + "\n";
  }
  return out;
}

}  // namespace loupe
