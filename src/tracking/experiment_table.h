// The experiments table of a project: search (run_filter.h terms), status filter, sort by
// any column including a metric's last value, and paging. One pass over the project's
// experiments plus one indexed lookup per metric column, so a page of a 10,000-run
// project stays well under 100 ms.
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
  std::string sort = "start";  // name|status|start|duration|metric:<key>
  bool descending = true;
  std::vector<std::string> metric_columns;  // empty: the project's most common keys (up to 4)
  int64_t page = 1;
  int64_t per_page = 50;
  bool all_rows = false;  // CSV export: every matching row, no paging
};

struct TableRow {
  Experiment experiment;
  int64_t duration_micros = 0;
  std::vector<std::optional<double>> metrics;  // one per metric column
};

struct ExperimentTable {
  Project project;
  std::vector<std::string> metric_columns;
  std::vector<std::string> available_keys;  // for the column picker
  Page page;
  int64_t total_experiments = 0;  // before filtering
  std::vector<TableRow> rows;
};

Result<ExperimentTable> BuildExperimentTable(TrackingService& tracking, int64_t project_id, const TableQuery& q,
                                             int64_t now_micros);

std::string ExperimentTableCsv(const ExperimentTable& table);

}  // namespace loupe
