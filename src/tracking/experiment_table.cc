#include "tracking/experiment_table.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/csv.h"
#include "common/bounded_json.h"
#include "common/time_util.h"
#include "common/json_flatten.h"
#include "common/number_text.h"
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


// The config leaf at a dotted key, or null when the config lacks it.
const JsonLeaf* ConfigAt(const std::vector<JsonLeaf>& leaves, const std::string& key) {
  for (const JsonLeaf& leaf : leaves) {
    if (leaf.key == key) return &leaf;
  }
  return nullptr;
}

// Metric last values by key, then by experiment id, for the comparison terms whose key
// is a metric of the project.
using MetricValues = std::unordered_map<std::string, std::unordered_map<int64_t, double>>;

bool TermMatches(const Experiment& e, const FilterTerm& term, const std::vector<JsonLeaf>& cfg,
                 const MetricValues& metrics) {
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
      if (const JsonLeaf* v = ConfigAt(cfg, term.key)) return CompareMatches(term, v->text, v->number);
      auto m = metrics.find(term.key);
      if (m == metrics.end()) return false;
      auto it = m->second.find(e.id);
      if (it == m->second.end()) return false;
      return CompareMatches(term, nlohmann::json(it->second).dump(), it->second);
    }
  }
  return false;
}

bool Matches(const Experiment& e, const std::vector<JsonLeaf>& cfg, const TableQuery& q, const RunFilter& filter,
             const MetricValues& metrics) {
  if (!q.status.empty() && q.status != RunStatusName(e.status)) return false;
  for (const FilterTerm& term : filter.terms) {
    if (!TermMatches(e, term, cfg, metrics)) return false;
  }
  return true;
}

// Loss-, accuracy- and score-like metric names: the columns people look at first.
bool HeadlineMetric(const std::string& key) {
  std::string last = key.substr(key.find_last_of('/') == std::string::npos ? 0 : key.find_last_of('/') + 1);
  for (char& c : last) c = Lower(c);
  for (const char* w : {"loss", "acc", "accuracy", "f1", "auc", "error", "err", "perplexity", "ppl", "reward", "score",
                        "bleu", "rouge", "mae", "mse", "rmse", "precision", "recall"}) {
    if (last == w || last.rfind(std::string(w) + "_", 0) == 0 || last.find(std::string("_") + w) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> DefaultMetricColumns(const std::vector<std::pair<std::string, int64_t>>& keys) {
  std::vector<std::string> out;
  for (int pass = 0; pass < 2 && out.size() < 5; ++pass) {
    for (const auto& [k, n] : keys) {  // most common first
      if (out.size() == 5) break;
      if (k.rfind("system/", 0) == 0 || HeadlineMetric(k) != (pass == 0)) continue;
      out.push_back(k);
    }
  }
  return out;
}

// Orders values that may be numbers: numbers first, by value; then text.
bool CellLess(const ConfigCell& a, const ConfigCell& b) {
  if (a.present != b.present) return a.present;
  if (a.number && b.number) return *a.number < *b.number;
  if (a.number.has_value() != b.number.has_value()) return a.number.has_value();
  return a.text < b.text;
}

MetricSummary Summarize(const std::vector<double>& values) {
  MetricSummary m;
  double sum = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (m.n == 0) m.min = m.max = v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
    sum += v;
    ++m.n;
  }
  if (m.n == 0) return m;
  m.mean = sum / static_cast<double>(m.n);
  double sq = 0;
  for (double v : values) {
    if (std::isfinite(v)) sq += (v - m.mean) * (v - m.mean);
  }
  m.stddev = m.n > 1 ? std::sqrt(sq / static_cast<double>(m.n - 1)) : 0;
  return m;
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
  // The metric a sort reads, and which of its values: the last, the minimum or the maximum.
  enum class SortBy { kLast, kMin, kMax };
  SortBy sort_by = SortBy::kLast;
  std::string sort_key;
  using Prefix = std::pair<std::string_view, SortBy>;
  for (const Prefix& p : {Prefix{"metric:", SortBy::kLast}, Prefix{"min:", SortBy::kMin}, Prefix{"max:", SortBy::kMax}}) {
    if (q.sort.rfind(p.first, 0) == 0) {
      sort_key = q.sort.substr(p.first.size());
      sort_by = p.second;
    }
  }
  const std::string sort_config = q.sort.rfind("config:", 0) == 0 ? q.sort.substr(7) : "";
  if (sort_key.empty() && sort_config.empty() && q.sort != "name" && q.sort != "status" && q.sort != "start" &&
      q.sort != "duration") {
    return Status::InvalidArgument(
        "sort must be name, status, start, duration, metric:<key>, min:<key>, max:<key> or config:<key>");
  }

  Result<std::vector<std::pair<std::string, int64_t>>> keys = t.ProjectKeys(project_id);
  if (!keys.ok()) return keys.status();
  for (const auto& [k, n] : *keys) table.available_keys.push_back(k);
  table.metric_columns = q.metric_columns.empty() ? DefaultMetricColumns(*keys) : q.metric_columns;
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

  LOUPE_ASSIGN_OR_RETURN(std::vector<Experiment> all, t.ListExperimentsBrief(project_id));
  table.total_experiments = static_cast<int64_t>(all.size());

  std::vector<TableRow> rows;
  std::vector<std::vector<JsonLeaf>> flat;  // each matching row's config leaves
  std::unordered_map<int64_t, size_t> index;
  rows.reserve(all.size());
  flat.reserve(all.size());
  index.reserve(all.size());
  // Config keys of every run of the project (not just the matching ones, so the picker
  // and the default columns stay put while the search changes): how many runs have each
  // (first appearance breaks ties), and whether their values differ.
  struct KeyInfo {
    size_t first = 0;
    int64_t runs = 0;
    std::string value;
    bool differs = false;
  };
  std::unordered_map<std::string, KeyInfo> key_info;
  for (Experiment& e : all) {
    std::vector<JsonLeaf> leaves = FlattenJsonObject(e.config_json);
    for (const JsonLeaf& leaf : leaves) {
      auto [it, inserted] = key_info.try_emplace(leaf.key);
      const std::string identity = ConfigValueIdentity(leaf.text);  // 1 and 1.0 do not differ
      if (inserted) {
        it->second.first = key_info.size();
        it->second.value = identity;
      } else if (it->second.value != identity) {
        it->second.differs = true;
      }
      ++it->second.runs;
    }
    if (!Matches(e, leaves, q, filter, filter_metrics)) continue;
    TableRow row;
    int64_t end = e.status == RunStatus::kRunning || e.finish_time == 0 ? now_micros : e.finish_time;
    row.duration_micros = std::max<int64_t>(0, end - e.create_time);
    row.metrics.resize(table.metric_columns.size());
    row.ranges.resize(table.metric_columns.size());
    index[e.id] = rows.size();
    flat.push_back(std::move(leaves));
    row.experiment = std::move(e);
    rows.push_back(std::move(row));
  }

  // The default config columns are the most common keys that differ.
  std::vector<std::pair<std::string, KeyInfo>> ranked(key_info.begin(), key_info.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.runs != b.second.runs ? a.second.runs > b.second.runs : a.second.first < b.second.first;
  });
  for (const auto& [k, info] : ranked) {
    if (table.available_config_keys.size() == 500) break;
    table.available_config_keys.push_back(k);
  }
  if (q.config_columns) {
    table.config_columns = *q.config_columns;
  } else {
    for (const auto& [k, info] : ranked) {
      if (table.config_columns.size() == 5) break;
      // Keys that tell runs apart; with a single run, its first keys.
      if (info.differs || all.size() < 2) table.config_columns.push_back(k);
    }
  }
  if (!sort_config.empty() &&
      std::find(table.config_columns.begin(), table.config_columns.end(), sort_config) == table.config_columns.end()) {
    table.config_columns.push_back(sort_config);
  }
  table.group_by = q.group_by;
  const size_t sort_config_col = static_cast<size_t>(
      std::find(table.config_columns.begin(), table.config_columns.end(), sort_config) - table.config_columns.begin());
  ConfigCell absent_group;
  std::vector<ConfigCell> group_cells(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    rows[r].config.resize(table.config_columns.size());
    for (const JsonLeaf& leaf : flat[r]) {
      for (size_t c = 0; c < table.config_columns.size(); ++c) {
        if (table.config_columns[c] == leaf.key) rows[r].config[c] = {true, leaf.text, leaf.number};
      }
      if (!q.group_by.empty() && leaf.key == q.group_by) group_cells[r] = {true, leaf.text, leaf.number};
    }
    rows[r].group = group_cells[r].present ? group_cells[r].text : "—";
    rows[r].group_present = group_cells[r].present;
  }

  // Grouping, sorting by a metric and the CSV need every row's values; otherwise only the
  // page's rows are looked up after paging (a handful of indexed reads per column).
  const bool grouped = !q.group_by.empty();
  const size_t sort_col = static_cast<size_t>(
      std::find(table.metric_columns.begin(), table.metric_columns.end(), sort_key) - table.metric_columns.begin());
  for (size_t c = 0; c < table.metric_columns.size(); ++c) {
    if (!q.all_rows && !grouped && !(c == sort_col && sort_by == SortBy::kLast)) continue;
    Result<std::vector<std::pair<int64_t, double>>> values = t.LastValues(project_id, table.metric_columns[c]);
    if (!values.ok()) return values.status();
    for (const auto& [id, v] : *values) {
      if (auto it = index.find(id); it != index.end()) rows[it->second].metrics[c] = v;
    }
  }
  // Ranges of every row where the export needs them or the sort reads them; otherwise
  // only the page's rows are looked up, after paging.
  auto fill_ranges = [&](std::vector<TableRow>& of, size_t c) -> Status {
    std::vector<int64_t> ids;
    ids.reserve(of.size());
    for (const TableRow& row : of) ids.push_back(row.experiment.id);
    Result<std::vector<std::optional<MetricRange>>> ranges = t.MetricRanges(table.metric_columns[c], ids);
    if (!ranges.ok()) return ranges.status();
    for (size_t i = 0; i < of.size(); ++i) of[i].ranges[c] = (*ranges)[i];
    return Status::Ok();
  };
  for (size_t c = 0; c < table.metric_columns.size(); ++c) {
    if ((q.all_rows && q.ranges) || (c == sort_col && sort_by != SortBy::kLast)) {
      LOUPE_RETURN_IF_ERROR(fill_ranges(rows, c));
    }
  }
  auto sort_value = [&](const TableRow& r) -> std::optional<double> {
    switch (sort_by) {
      case SortBy::kLast:
        if (r.metrics[sort_col] && !std::isnan(*r.metrics[sort_col])) return r.metrics[sort_col];
        return std::nullopt;
      case SortBy::kMin:
        return r.ranges[sort_col] ? std::optional(r.ranges[sort_col]->min) : std::nullopt;
      case SortBy::kMax:
        return r.ranges[sort_col] ? std::optional(r.ranges[sort_col]->max) : std::nullopt;
    }
    return std::nullopt;
  };
  auto missing = [&](const TableRow& r) {
    if (!sort_key.empty()) return !sort_value(r).has_value();
    if (!sort_config.empty()) return !r.config[sort_config_col].present;
    return false;
  };
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
      const std::optional<double> va = sort_value(a);
      const std::optional<double> vb = sort_value(b);
      if (va && vb && *va != *vb) return *va < *vb;
      return x.id < y.id;
    }
    if (!sort_config.empty()) {
      const ConfigCell& ca = a.config[sort_config_col];
      const ConfigCell& cb = b.config[sort_config_col];
      if (CellLess(ca, cb)) return true;
      if (CellLess(cb, ca)) return false;
      return x.id < y.id;
    }
    return x.create_time != y.create_time ? x.create_time < y.create_time : x.id < y.id;
  };
  // Rows without the sorted value go last whichever way the sort goes.
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t ia, size_t ib) {
    const TableRow& a = rows[ia];
    const TableRow& b = rows[ib];
    if (grouped) {
      if (CellLess(group_cells[ia], group_cells[ib])) return true;
      if (CellLess(group_cells[ib], group_cells[ia])) return false;
    }
    bool ma = missing(a), mb = missing(b);
    if (ma != mb) return mb;
    return q.descending ? less(b, a) : less(a, b);
  });
  if (grouped) {
    for (size_t k = 0; k < order.size();) {
      size_t end = k;
      TableGroup g;
      g.value = rows[order[k]].group;
      g.present = rows[order[k]].group_present;
      while (end < order.size() && rows[order[end]].group == g.value &&
             group_cells[order[end]].present == group_cells[order[k]].present) {
        ++end;
      }
      g.count = static_cast<int64_t>(end - k);
      for (size_t c = 0; c < table.metric_columns.size(); ++c) {
        std::vector<double> values;
        for (size_t i = k; i < end; ++i) {
          if (rows[order[i]].metrics[c]) values.push_back(*rows[order[i]].metrics[c]);
        }
        g.metrics.push_back(Summarize(values));
      }
      table.groups.push_back(std::move(g));
      k = end;
    }
  }
  std::vector<TableRow> sorted;
  sorted.reserve(rows.size());
  for (size_t i : order) sorted.push_back(std::move(rows[i]));
  rows = std::move(sorted);

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
    if (q.all_rows || grouped) break;
    for (size_t c = 0; c < table.metric_columns.size(); ++c) {
      if (row.metrics[c] || (c == sort_col && sort_by == SortBy::kLast)) continue;
      Result<Series> s = t.GetSeries(row.experiment.id, table.metric_columns[c]);
      if (s.ok() && s->last_step >= 0) row.metrics[c] = s->last_value;
    }
  }
  if (!q.all_rows && q.ranges) {
    for (size_t c = 0; c < table.metric_columns.size(); ++c) {
      if (!(c == sort_col && sort_by != SortBy::kLast)) LOUPE_RETURN_IF_ERROR(fill_ranges(table.rows, c));
    }
  }
  return table;
}

bool MetricLowerIsBetter(const std::string& key) {
  std::string k;
  for (char c : key) k += Lower(c);
  for (const char* w : {"loss", "err", "perplexity", "ppl", "mse", "mae", "rmse"}) {
    if (k.find(w) != std::string::npos) return true;
  }
  return false;
}

std::string ExperimentTableCsv(const ExperimentTable& table) {
  auto field = [](std::string s) { return CsvField(std::move(s)); };
  std::string out = "id,run_id,name,status,start,duration_seconds";
  for (const std::string& k : table.config_columns) out += "," + field("config." + k);
  // min(KEY) and max(KEY): a key cannot hold parentheses, so no column name clashes.
  for (const std::string& k : table.metric_columns) out += "," + field(k) + "," + field("min(" + k + ")") + "," + field("max(" + k + ")");
  out += ",config\n";
  for (const TableRow& r : table.rows) {
    const Experiment& e = r.experiment;
    out += std::to_string(e.id) + "," + field(e.run_id) + "," + field(e.name) + "," + RunStatusName(e.status) + "," +
           FormatIsoMicros(e.create_time) + ",";
    AppendNumberText(out, static_cast<double>(r.duration_micros) / 1e6);
    // Numbers as they are (a leading '-' is a sign, not a formula).
    for (const ConfigCell& c : r.config) {
      out += ",";
      if (!c.present) continue;
      if (!c.number) {
        out += field(c.text);
        continue;
      }
      std::string shortest;
      AppendNumberText(shortest, *c.number);  // 0.00001 as 1e-05, like the metrics
      // ...unless the text holds more than the double (an integer beyond 2^53): as logged.
      out += ConfigValueIdentity(c.text) == "n:" + shortest ? shortest : c.text;
    }
    auto number = [&](std::optional<double> v) {
      out += ",";
      if (v) AppendNumberText(out, *v);
    };
    for (size_t c = 0; c < r.metrics.size(); ++c) {
      number(r.metrics[c]);
      number(r.ranges[c] ? std::optional(r.ranges[c]->min) : std::nullopt);
      number(r.ranges[c] ? std::optional(r.ranges[c]->max) : std::nullopt);
    }
    out += "," + field(e.config_json) + "\n";
  }
  return out;
}

}  // namespace loupe
