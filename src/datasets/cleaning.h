// Cleaning a dataset: drop columns, drop rows with missing values, fill missing values,
// keep the rows that match a condition — steps applied in order to a copy, never to the
// dataset itself. Each step is recorded with what it did (rows removed, the value a fill
// used, computed on the rows left at that point), so the copy says how it was made and
// the same steps replay to the same table.
//
// Steps (JSON objects, at most kMaxSteps):
//   {"op": "drop_columns", "columns": ["a", ...]}
//   {"op": "drop_missing", "columns": ["a", ...]}     columns absent or []: any column
//   {"op": "fill_missing", "column": "a", "with": "mean"|"median"|"mode"|"value", "value": ...}
//   {"op": "filter_rows", "column": "a", "test": "=="|"!="|"<"|"<="|">"|">="|"contains"|
//                         "missing"|"present", "value": ...}   keeps the rows that pass
// Numbers and datetimes compare as values (a datetime as ISO 8601 text); other columns
// compare as text; a missing value passes only "missing" (the result counts them). A
// step's "result" sent back with it (a recorded step replayed) is ignored.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "datasets/table.h"

namespace loupe::datasets {

inline constexpr size_t kMaxCleaningSteps = 50;

struct CleanedTable {
  std::string csv;                             // the kept columns and rows, as text
  nlohmann::json steps = nlohmann::json::array();  // the steps as given, each with its "result"
  std::map<std::string, ColumnType> set_by_hand;   // kept columns whose type was chosen by hand
  size_t rows = 0;
};

// InvalidArgument naming the step (1-based) and what is wrong with it.
Result<CleanedTable> ApplyCleaning(const Table& table, const nlohmann::json& steps);

}  // namespace loupe::datasets
