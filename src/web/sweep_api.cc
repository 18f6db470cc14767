// The project's runs table beyond its page: the sweep panels' data (every matching run's
// parameters and one metric, and how much each parameter matters to it) and saved views.
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "tracking/experiment_table.h"
#include "tracking/saved_views.h"
#include "common/number_text.h"
#include "common/sweep_stats.h"
#include "tracking/validation.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/table_query.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxSweepRuns = 10000;

// GET /api/v1/projects/{id}/sweep?metric=KEY&value=last|min|max&q=&status=&ccols=: the
// table's filter and config columns (the parameters), every matching run with its last,
// smallest or largest value of the metric, no paging.
HttpResponse Sweep(TrackingService& t, const HttpRequest& req, int64_t project_id) {
  LOUPE_ASSIGN_OR_RESPOND(TableQuery q, ReadTableQuery(req));
  const std::string* metric = req.Query("metric");
  const std::string* value_param = req.Query("value");
  const std::string value = value_param && !value_param->empty() ? *value_param : "last";
  if (value != "last" && value != "min" && value != "max") {
    return JsonError(Status::InvalidArgument("value must be last, min or max"));
  }
  q.metric_columns.clear();
  if (metric && !metric->empty()) q.metric_columns.push_back(*metric);
  q.all_rows = true;
  q.ranges = value != "last";
  q.group_by.clear();
  q.sort = "start";
  LOUPE_ASSIGN_OR_RESPOND(ExperimentTable table, BuildExperimentTable(t, project_id, q, 0));
  if (table.rows.size() > kMaxSweepRuns) {
    return JsonError(Status::TooLarge("the sweep panels draw at most " + std::to_string(kMaxSweepRuns) +
                                      " runs; this filter matches " + std::to_string(table.rows.size())));
  }
  const std::string metric_key = table.metric_columns.empty() ? "" : table.metric_columns[0];
  json rows = json::array();
  // Per parameter: the runs that have both it and a finite metric value.
  std::vector<std::vector<double>> numeric(table.config_columns.size()), numeric_y(table.config_columns.size());
  std::vector<std::vector<std::string>> labels(table.config_columns.size());
  std::vector<std::vector<double>> label_y(table.config_columns.size());
  std::vector<bool> all_numeric(table.config_columns.size(), true);
  for (const TableRow& r : table.rows) {
    json params = json::array();
    for (const ConfigCell& c : r.config) {
      params.push_back(!c.present ? json(nullptr) : c.number ? json(*c.number) : json(c.text));
    }
    double y = 0;
    bool has_y = false;
    if (value == "last" && !r.metrics.empty() && r.metrics[0] && std::isfinite(*r.metrics[0])) {
      y = *r.metrics[0];
      has_y = true;
    } else if (value != "last" && !r.ranges.empty() && r.ranges[0]) {
      y = value == "min" ? r.ranges[0]->min : r.ranges[0]->max;
      has_y = true;
    }
    rows.push_back({{"id", r.experiment.id}, {"name", r.experiment.name},
                    {"status", RunStatusName(r.experiment.status)}, {"params", params},
                    {"metric", has_y ? json(y) : json(nullptr)}});
    for (size_t c = 0; c < r.config.size(); ++c) {
      const ConfigCell& cell = r.config[c];
      if (!cell.present) continue;
      if (!cell.number) all_numeric[c] = false;
      if (!has_y) continue;
      labels[c].push_back(cell.text);
      label_y[c].push_back(y);
      if (cell.number) {
        numeric[c].push_back(*cell.number);
        numeric_y[c].push_back(y);
      }
    }
  }
  json params = json::array();
  for (size_t c = 0; c < table.config_columns.size(); ++c) {
    const bool is_numeric = all_numeric[c] && !numeric[c].empty();
    // Numbers are compared as numbers (1 and 1.0 are one value; integers beyond 2^53 by
    // their digits, which a double cannot tell apart).
    std::vector<std::string> identities;
    for (const std::string& text : labels[c]) identities.push_back(ConfigValueIdentity(text));
    const size_t distinct = is_numeric ? std::set<std::string>(identities.begin(), identities.end()).size()
                                       : std::set<std::string>(labels[c].begin(), labels[c].end()).size();
    std::optional<double> rho, eta2;
    if (is_numeric) {
      rho = SpearmanRho(numeric[c], numeric_y[c]);
      eta2 = distinct <= 5 ? EtaSquared(identities, numeric_y[c]) : NumericEtaSquared(numeric[c], numeric_y[c]);
    } else {
      eta2 = EtaSquared(labels[c], label_y[c]);
    }
    params.push_back({{"key", table.config_columns[c]}, {"kind", is_numeric ? "numeric" : "categorical"},
                      {"runs", labels[c].size()}, {"distinct", distinct},
                      {"rho", rho ? json(*rho) : json(nullptr)}, {"eta2", eta2 ? json(*eta2) : json(nullptr)}});
  }
  return JsonOk({{"metric", metric_key}, {"value", value}, {"metrics", table.available_keys}, {"params", params}, {"runs", rows},
                 {"config_keys", table.available_config_keys}});
}

json ViewsJson(const std::vector<SavedView>& views, SavedKind kind) {
  json arr = json::array();
  for (const SavedView& v : views) {
    if (kind == SavedKind::kViews) {
      arr.push_back({{"name", v.name}, {"query", v.value}});
    } else {
      arr.push_back({{"name", v.name}, {"keys", SplitCommas(v.value)}});
    }
  }
  return {{kind == SavedKind::kViews ? "views" : "panels", arr}};
}

// PUT body {name, query} (views) or {name, keys: [...]} (panels): adds or replaces one.
HttpResponse PutSaved(TrackingService& t, const HttpRequest& req, int64_t id, SavedKind kind) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 64 * 1024));
  auto name = body.find("name");
  if (name == body.end() || !name->is_string()) return JsonError(Status::InvalidArgument("name is a required string"));
  std::string value;
  if (kind == SavedKind::kViews) {
    auto query = body.find("query");
    if (query == body.end() || !query->is_string()) return JsonError(Status::InvalidArgument("query is a required string"));
    value = query->get<std::string>();
  } else {
    auto keys = body.find("keys");
    if (keys == body.end() || !keys->is_array() || keys->empty()) {
      return JsonError(Status::InvalidArgument("keys is a required, non-empty array of metric keys"));
    }
    for (const json& k : *keys) {
      if (!k.is_string()) return JsonError(Status::InvalidArgument("keys must be strings"));
      if (Status st = ValidateKey(k.get<std::string>(), t.limits()); !st.ok()) return JsonError(st);
      value += (value.empty() ? "" : ",") + k.get<std::string>();
    }
  }
  if (Status st = SaveView(t, id, kind, {name->get<std::string>(), value}); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id, kind));
  return JsonOk(ViewsJson(views, kind));
}

void AddSavedRoutes(std::vector<Route>& r, TrackingService& t, const std::string& path, SavedKind kind) {
  r.push_back({"GET", path, WithPathId("project id", [&t, kind](const HttpRequest&, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id, kind));
                 return JsonOk(ViewsJson(views, kind));
               })});
  r.push_back({"PUT", path, WithPathId("project id", [&t, kind](const HttpRequest& req, int64_t id) {
                 return PutSaved(t, req, id, kind);
               })});
  r.push_back({"DELETE", path, WithPathId("project id", [&t, kind](const HttpRequest& req, int64_t id) {
                 const std::string* name = req.Query("name");
                 if (!name || name->empty()) return JsonError(Status::InvalidArgument("name is required"));
                 if (Status st = DeleteView(t, id, kind, *name); !st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id, kind));
                 return JsonOk(ViewsJson(views, kind));
               })});
}

}  // namespace

std::vector<Route> SweepApiRoutes(TrackingService& t) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/projects/:id/sweep",
               WithPathId("project id", [&t](const HttpRequest& req, int64_t id) { return Sweep(t, req, id); })});
  AddSavedRoutes(r, t, "/api/v1/projects/:id/views", SavedKind::kViews);
  AddSavedRoutes(r, t, "/api/v1/projects/:id/panels", SavedKind::kPanels);
  return r;
}

}  // namespace loupe
