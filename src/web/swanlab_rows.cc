#include "web/swanlab_rows.h"

#include "common/json_order.h"
#include "common/time_util.h"

namespace loupe::swanlab {

using nlohmann::json;

namespace {

json Iso(int64_t micros) { return micros ? json(FormatIsoMicros(micros)) : json(nullptr); }

const std::string& PaletteColour(const std::vector<std::string>& palette, int64_t sort) {
  return palette[static_cast<size_t>(sort > 0 ? sort - 1 : 0) % palette.size()];
}

}  // namespace

const std::vector<std::string>& LightPalette() {
  static const std::vector<std::string> p = {
      "#528d59", "#587ad2", "#c24d46", "#9cbe5d", "#6ebad3", "#dfb142", "#6d4ba4", "#8cc5b7",
      "#892d58", "#40877c", "#d0703c", "#d47694", "#e3b292", "#b15fbb", "#905f4a", "#989fa3"};
  return p;
}

const std::vector<std::string>& DarkPalette() {
  static const std::vector<std::string> p = {
      "#5da265", "#6b8ce3", "#d5605a", "#b0d071", "#7fcbe2", "#f0c253", "#815fb8", "#9fd8ca",
      "#a3466f", "#52998e", "#e3854f", "#e78aa8", "#f2c4a5", "#c575cf", "#a6735d", "#aab2b6"};
  return p;
}

json ProjectRow(const Project& p, const GroupState& g, bool has_charts) {
  return {{"id", p.id},
          {"name", p.name},
          {"description", p.description},
          {"sum", p.sum},
          {"charts", has_charts ? 1 : 0},
          {"pinned_opened", g.pinned_opened},
          {"hidden_opened", g.hidden_opened},
          {"more", nullptr},
          {"version", LOUPE_VERSION},
          {"create_time", Iso(p.create_time)},
          {"update_time", Iso(p.update_time)}};
}

json ExperimentInstance(const Experiment& e, const json& project_row) {
  return {{"id", e.id},
          {"project_id", project_row},
          {"run_id", e.run_id},
          {"name", e.name},
          {"description", e.description},
          {"sort", e.sort},
          {"status", SwanlabStatusCode(e.status)},
          {"show", e.show ? 1 : 0},
          {"more", nullptr},
          {"version", LOUPE_VERSION},
          {"create_time", Iso(e.create_time)},
          {"update_time", Iso(e.update_time)},
          {"finish_time", Iso(e.finish_time)}};
}

json ExperimentRow(const Experiment& e, const json& project_row, const GroupState& g) {
  json row = ExperimentInstance(e, project_row);
  row["light"] = PaletteColour(LightPalette(), e.sort);
  row["dark"] = PaletteColour(DarkPalette(), e.sort);
  row["pinned_opened"] = g.pinned_opened;
  row["hidden_opened"] = g.hidden_opened;
  return row;
}

json WrappedConfig(const std::string& config_json) {
  json out = json::object();
  Result<JsonMembers> members = ObjectMembersInOrder(config_json);
  if (!members.ok()) return out;
  int64_t sort = 0;
  for (const auto& [key, raw] : *members) {
    json value = json::parse(raw, nullptr, false);
    out[key] = {{"desc", nullptr}, {"sort", sort++}, {"value", value.is_discarded() ? json(nullptr) : value}};
  }
  return out;
}

std::string ChartType(const std::string& series_type) { return series_type == "line" ? "default" : series_type; }

json ChartRow(const Chart& c, const json& project_row) {
  json row = json::object();
  row["id"] = c.id;
  if (c.project_id) row["experiment_id"] = nullptr;
  row["project_id"] = c.project_id ? project_row : json(nullptr);
  row["name"] = c.name;
  row["description"] = nullptr;
  row["system"] = 1;  // made by Loupe when the key first arrived, as swanboard's auto charts
  row["type"] = ChartType(c.type);
  row["reference"] = "step";
  row["config"] = nullptr;
  row["status"] = c.status;
  row["sort"] = c.pin_sort ? json(*c.pin_sort) : json(nullptr);
  row["more"] = nullptr;
  row["create_time"] = Iso(c.create_time);
  row["update_time"] = Iso(c.update_time);
  row["error"] = json::object();
  return row;
}

json NamespaceRow(const Namespace& n, const json& experiment_row, const json& project_row, json chart_ids) {
  return {{"id", n.id},
          {"experiment_id", experiment_row},
          {"project_id", project_row},
          {"name", n.name},
          {"description", nullptr},
          {"sort", n.sort},
          {"opened", n.opened},
          {"more", nullptr},
          {"create_time", Iso(n.create_time)},
          {"update_time", Iso(n.update_time)},
          {"charts", std::move(chart_ids)}};
}

json PinnedOrHidden(int id, int opened, const json& experiment_row, const json& project_row, json chart_ids) {
  return {{"id", id},
          {"name", id == -1 ? "pinned" : "hidden"},
          {"charts", std::move(chart_ids)},
          {"opened", opened},
          {"experiment_id", experiment_row},
          {"project_id", project_row}};
}

}  // namespace loupe::swanlab
