// The project's runs table beyond its page: the sweep panels' data (every matching run's
// parameters and one metric, and how much each parameter matters to it) and saved views.
#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "tracking/experiment_table.h"
#include "tracking/saved_views.h"
#include "tracking/sweep_stats.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/table_query.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxSweepRuns = 10000;

// GET /api/v1/projects/{id}/sweep?metric=KEY&q=&status=&ccols=: the table's filter and
// config columns (the parameters), every matching run, no paging.
HttpResponse Sweep(TrackingService& t, const HttpRequest& req, int64_t project_id) {
  LOUPE_ASSIGN_OR_RESPOND(TableQuery q, ReadTableQuery(req));
  const std::string* metric = req.Query("metric");
  q.metric_columns.clear();
  if (metric && !metric->empty()) q.metric_columns.push_back(*metric);
  q.all_rows = true;
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
    if (!r.metrics.empty() && r.metrics[0] && std::isfinite(*r.metrics[0])) {
      y = *r.metrics[0];
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
    std::set<std::string> distinct(labels[c].begin(), labels[c].end());
    std::optional<double> rho, eta2;
    if (is_numeric) {
      rho = SpearmanRho(numeric[c], numeric_y[c]);
      // Few distinct values are groups as they are; many are binned by rank.
      eta2 = EtaSquared(distinct.size() <= 5 ? labels[c] : QuantileBins(numeric[c], 5), numeric_y[c]);
    } else {
      eta2 = EtaSquared(labels[c], label_y[c]);
    }
    params.push_back({{"key", table.config_columns[c]}, {"kind", is_numeric ? "numeric" : "categorical"},
                      {"runs", labels[c].size()}, {"distinct", distinct.size()},
                      {"rho", rho ? json(*rho) : json(nullptr)}, {"eta2", eta2 ? json(*eta2) : json(nullptr)}});
  }
  return JsonOk({{"metric", metric_key}, {"metrics", table.available_keys}, {"params", params}, {"runs", rows},
                 {"config_keys", table.available_config_keys}});
}

json ViewsJson(const std::vector<SavedView>& views) {
  json arr = json::array();
  for (const SavedView& v : views) arr.push_back({{"name", v.name}, {"query", v.query}});
  return {{"views", arr}};
}

// PUT body {name, query}: saves (or replaces) a view; DELETE ?name=.
HttpResponse PutView(TrackingService& t, const HttpRequest& req, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 64 * 1024));
  auto name = body.find("name");
  auto query = body.find("query");
  if (name == body.end() || !name->is_string() || query == body.end() || !query->is_string()) {
    return JsonError(Status::InvalidArgument("name and query are required strings"));
  }
  if (Status st = SaveView(t, id, {name->get<std::string>(), query->get<std::string>()}); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id));
  return JsonOk(ViewsJson(views));
}

}  // namespace

std::vector<Route> SweepApiRoutes(TrackingService& t) {
  return {{"GET", "/api/v1/projects/:id/sweep",
           WithPathId("project id", [&t](const HttpRequest& req, int64_t id) { return Sweep(t, req, id); })},
          {"GET", "/api/v1/projects/:id/views", WithPathId("project id", [&t](const HttpRequest&, int64_t id) {
             LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id));
             return JsonOk(ViewsJson(views));
           })},
          {"PUT", "/api/v1/projects/:id/views",
           WithPathId("project id", [&t](const HttpRequest& req, int64_t id) { return PutView(t, req, id); })},
          {"DELETE", "/api/v1/projects/:id/views", WithPathId("project id", [&t](const HttpRequest& req, int64_t id) {
             const std::string* name = req.Query("name");
             if (!name || name->empty()) return JsonError(Status::InvalidArgument("name is required"));
             if (Status st = DeleteView(t, id, *name); !st.ok()) return JsonError(st);
             LOUPE_ASSIGN_OR_RESPOND(std::vector<SavedView> views, ListSavedViews(t, id));
             return JsonOk(ViewsJson(views));
           })}};
}

}  // namespace loupe
