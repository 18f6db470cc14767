// The rows of SwanLab's offline board (swanboard) as its routes send them: peewee's
// model_to_dict of each table, foreign keys expanded into nested rows, and the few
// values Loupe keeps differently (config, colours, chart types) in swanboard's form.
// Reference: SwanHubX/SwanLab-Dashboard swanboard/db/models and controller/utils/charts.py.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "store/store_types.h"

namespace loupe::swanlab {

// UI state swanboard keeps on the project and experiment rows (Loupe keeps it apart).
struct GroupState {
  int pinned_opened = 1;
  int hidden_opened = 0;
};

// The 16-colour palettes of the light and dark themes; an experiment's colour is fixed
// by its place in the project (sort 1 takes the first), so deleting another keeps it.
const std::vector<std::string>& LightPalette();
const std::vector<std::string>& DarkPalette();

// Project row: {id, name, description, sum, charts, pinned_opened, hidden_opened, more,
// version, create_time, update_time}; `has_charts` is swanboard's 0/1 "charts" flag.
nlohmann::json ProjectRow(const Project& p, const GroupState& g, bool has_charts);

// Experiment row (model_to_dict): every column, project_id the nested project row.
nlohmann::json ExperimentRow(const Experiment& e, const nlohmann::json& project_row, const GroupState& g);
// Experiment.__dict__() (what PATCH /experiment/{id}/show answers): no colours or group
// state.
nlohmann::json ExperimentInstance(const Experiment& e, const nlohmann::json& project_row);

// config.yaml as the SwanLab SDK writes it: each top-level key {desc: null, sort: its
// position, value}.
nlohmann::json WrappedConfig(const std::string& config_json);

// "default" for scalar charts (SwanLab's name for a line chart), else the media type.
std::string ChartType(const std::string& series_type);

// A chart row with swanboard's additions (error, source, multi, source_map). An
// experiment's chart has no experiment_id key (swanboard clears it) and project_id
// null; a project's has experiment_id null and project_id the project row.
nlohmann::json ChartRow(const Chart& c, const nlohmann::json& project_row);

// A namespace row with its chart ids: exactly one of experiment_row and project_row is
// an object, the other null.
nlohmann::json NamespaceRow(const Namespace& n, const nlohmann::json& experiment_row,
                            const nlohmann::json& project_row, nlohmann::json chart_ids);

// The synthetic pinned (-1) or hidden (-2) group.
nlohmann::json PinnedOrHidden(int id, int opened, const nlohmann::json& experiment_row,
                              const nlohmann::json& project_row, nlohmann::json chart_ids);

}  // namespace loupe::swanlab
