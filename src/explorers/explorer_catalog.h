// The dataset explorers (DashAI's Explorer components): what columns each takes, its
// parameters, and the computation that turns a table into a result
// {type: "plotly_json" | "tabular", data, config}. Figures are computed here, not in
// the browser: a histogram of a million rows is 30 bars on the wire, not a million
// values.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "datasets/table.h"
#include "training/params.h"

namespace loupe::explorers {

struct ExplorerInfo {
  std::string name;
  std::string description;
  size_t min_columns = 1, max_columns = 1;  // max 0: any number
  std::vector<datasets::ColumnType> column_types;  // allowed for the chosen columns
  std::vector<training::ParamSpec> params;
  std::vector<std::string> column_params;  // parameters that name a column (optional)
};

const std::vector<ExplorerInfo>& ExplorerCatalog();
const ExplorerInfo* FindExplorer(const std::string& name);
nlohmann::json ExplorerJson(const ExplorerInfo& e);  // for the component API

// Checks an exploration against the dataset's columns ({name, type} pairs). Returns
// the parameters with defaults filled in. Without a dataset (nullptr), everything that
// does not need one: the explorer, the number of columns and the parameters' schema.
Result<nlohmann::json> ValidateExploration(const std::string& type, const std::vector<std::string>& columns,
                                           const nlohmann::json& parameters,
                                           const std::vector<std::pair<std::string, datasets::ColumnType>>* dataset_columns);

// Runs a validated exploration.
Result<nlohmann::json> RunExploration(const std::string& type, const std::vector<std::string>& columns,
                                      const nlohmann::json& parameters, const datasets::Table& table);

}  // namespace loupe::explorers
