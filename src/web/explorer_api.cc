// Dataset explorations over HTTP (DashAI's flow):
//   POST /api/v1/explorer/validate        {dataset_id?, exploration_type, columns, parameters} -> the checked request
//                                         (without a dataset: explorer, column count and parameters only)
//   POST /api/v1/explorer/                the same (+ name?): records it and enqueues an ExplorerJob
//   GET  /api/v1/explorer/?dataset_id=N   explorations, newest last
//   GET  /api/v1/explorer/{id}            status and error
//   GET  /api/v1/explorer/{id}/results    {type: plotly_json | tabular, data, config} (also POST, as DashAI's client)
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;
using explorers::ExplorerService;

json ExplorerJson(const ExplorerRecord& e) {
  return {{"id", e.id}, {"dataset_id", e.dataset_id}, {"name", e.name}, {"exploration_type", e.type},
          {"columns", StoredJson(e.columns_json)},
          {"parameters", StoredJson(e.parameters_json)}, {"status", e.status},
          {"error", e.error.empty() ? json(nullptr) : json(e.error)}, {"job_id", e.job_id ? json(e.job_id) : json(nullptr)},
          {"created", FormatIsoMicros(e.create_time)}, {"finished", e.end_time ? json(FormatIsoMicros(e.end_time)) : json(nullptr)}};
}

HttpResponse Results(ExplorerService& s, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(ExplorerRecord e, s.Get(id));
  if (e.status == WorkStatus::kError) {
    return JsonError(Status::Conflict("explorer " + std::to_string(id) + " failed: " + e.error));
  }
  if (e.status != WorkStatus::kFinished) {
    return JsonError(Status::Conflict("explorer " + std::to_string(id) + " is " + WorkStatusName(e.status) +
                                      "; results come when it is FINISHED"));
  }
  return JsonOkRaw(e.result_json);
}

}  // namespace

std::vector<Route> ExplorerApiRoutes(ExplorerService& s, jobs::JobQueue& q) {
  std::vector<Route> r;
  r.push_back(ReadingPost({"POST", "/api/v1/explorer/validate", [&s](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 LOUPE_ASSIGN_OR_RESPOND(json v, s.Validate(body, /*allow_no_dataset=*/true));
                 json out = v;
                 out["valid"] = true;
                 return JsonOk(out);
               }}));
  r.push_back({"POST", "/api/v1/explorer/", [&s, &q](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 LOUPE_ASSIGN_OR_RESPOND(ExplorerRecord e, s.Create(body));
                 Result<int64_t> job = q.Enqueue("ExplorerJob", {{"explorer_id", e.id}});
                 if (!job.ok()) return JsonError(job.status());
                 if (Status st = s.SetJob(e.id, *job); !st.ok()) {
                   // The job is queued and will run; only the explorer's link to it is missing.
                   spdlog::warn("explorer {}: could not record its job {}: {}", e.id, *job, st.message());
                 }
                 Result<ExplorerRecord> now = s.Get(e.id);
                 HttpResponse out = JsonOk(ExplorerJson(now.ok() ? *now : e));
                 out.status = 201;
                 return out;
               }});
  r.push_back({"GET", "/api/v1/explorer/", [&s](const HttpRequest& req) {
                 int64_t dataset = 0;
                 if (const std::string* v = req.Query("dataset_id")) {
                   LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(v, "dataset_id"));
                   dataset = id;
                 }
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<ExplorerRecord> all, s.List(dataset));
                 json out = json::array();
                 for (const ExplorerRecord& e : all) out.push_back(ExplorerJson(e));
                 return JsonOk(out);
               }});
  r.push_back({"GET", "/api/v1/explorer/:id", WithPathId("explorer id", [&s](const HttpRequest&, int64_t id) {
                 Result<ExplorerRecord> e = s.Get(id);
                 return e.ok() ? JsonOk(ExplorerJson(*e)) : JsonError(e.status());
               })});
  for (const char* method : {"GET", "POST"}) {
    r.push_back(ReadingPost({method, "/api/v1/explorer/:id/results",
                             WithPathId("explorer id", [&s](const HttpRequest&, int64_t id) { return Results(s, id); })}));
  }
  return r;
}

}  // namespace loupe
