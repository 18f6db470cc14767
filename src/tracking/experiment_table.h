// The experiments table of a project: search (run_filter.h terms), status filter, sort by
// any column (a metric's last value, minimum or maximum, a config value), config and
// metric columns (each run's last value, minimum and maximum) chosen
// or picked by default, grouping by a config key with each group's metric statistics,
// and paging. One pass over the project's experiments (configs flattened with simdjson)
// plus one indexed lookup per metric column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/pagination.h"
#include "common/status.h"
#include "tracking/tracking_service.h"

namespace loupe {

struct TableQuery {
  std::string search;  // terms that must all match: see tracking/run_filter.h
  std::string status;  // "" or running|finished|crashed|stopped
  // name|status|start|duration|config:<key>|metric:<key> (last value)|min:<key>|max:<key>
  std::string sort = "start";
  bool descending = true;
  std::vector<std::string> metric_columns;  // empty: loss- and accuracy-like keys, then the most shared (up to 5)
  // nullopt: the config keys whose values differ between the matching runs (up to 5)
  std::optional<std::vector<std::string>> config_columns;
  std::string group_by;  // a config key: rows grouped by its value, with each group's metric statistics
  int64_t page = 1;
  int64_t per_page = 50;
  bool all_rows = false;  // CSV export and the sweep panels: every matching row, no paging
  bool ranges = true;     // each row's min and max per metric column (one lookup per row and column)
};

// A run's value of a config column.
struct ConfigCell {
  bool present = false;
  std::string text;              // strings bare, the rest as JSON
  std::optional<double> number;  // for numbers
};

struct TableRow {
  Experiment experiment;
  int64_t duration_micros = 0;
  std::vector<std::optional<double>> metrics;  // one per metric column: the last value
  std::vector<std::optional<MetricRange>> ranges;  // one per metric column: finite min and max over all steps
  std::vector<ConfigCell> config;              // one per config column
  std::string group;                           // the group_by value as text ("—" when absent)
  bool group_present = false;                  // the run has the group_by key
};

// A metric column over a group's runs that have a value (NaN and infinities left out).
struct MetricSummary {
  int64_t n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;  // stddev: sample (n - 1); 0 for one run
};

struct TableGroup {
  std::string value;
  bool present = false;  // false: the runs without the key
  int64_t count = 0;
  std::vector<MetricSummary> metrics;  // one per metric column
};

struct ExperimentTable {
  Project project;
  std::vector<std::string> metric_columns;
  std::vector<std::string> config_columns;
  std::vector<std::string> available_keys;         // metric keys, for the column picker
  std::vector<std::string> available_config_keys;  // config keys of the matching runs, most common first
  std::string group_by;
  std::vector<TableGroup> groups;  // in the order the rows are; empty unless grouped
  Page page;
  int64_t total_experiments = 0;  // before filtering
  std::vector<TableRow> rows;
};

Result<ExperimentTable> BuildExperimentTable(TrackingService& tracking, int64_t project_id, const TableQuery& q,
                                             int64_t now_micros);

std::string ExperimentTableCsv(const ExperimentTable& table);

// Loss-, error- and perplexity-like metric names, where lower is better (the table sorts
// them lowest first on a first click).
bool MetricLowerIsBetter(const std::string& key);

}  // namespace loupe
