// The job queue over HTTP (DashAI's flow):
//   POST /api/v1/job/                 {"job_type", "kwargs": {...}} (kwargs may also be a JSON
//                                     string, and the body a form, as DashAI's client sends)
//   GET  /api/v1/job/status/{id}      {id, job_type, status, error, result, attempts, ...}
//   GET  /api/v1/job/?limit=100       newest first
//   POST /api/v1/job/{id}/cancel      queued jobs only (409 otherwise)
//   POST /api/v1/job/{id}/retry       failed or cancelled jobs (409 otherwise)
#include <nlohmann/json.hpp>

#include <charconv>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/multipart.h"

namespace loupe {

namespace {

using nlohmann::json;

json JobJson(const JobRecord& j) {
  auto t = [](int64_t micros) { return micros ? json(FormatIsoMicros(micros)) : json(nullptr); };
  return {{"id", j.id}, {"job_type", j.type}, {"kwargs", StoredJson(j.kwargs_json)},
          {"status", j.status}, {"error", j.error.empty() ? json(nullptr) : json(j.error)},
          {"result", StoredJson(j.result_json)}, {"attempts", j.attempts},
          {"created", t(j.create_time)}, {"started", t(j.start_time)}, {"finished", t(j.finish_time)}};
}

HttpResponse Enqueue(jobs::JobQueue& q, const HttpRequest& req) {
  std::string type;
  json kwargs = json::object();
  auto kwargs_from_text = [&](const std::string& text) -> Status {
    if (JsonNestingDepth(text) > kMaxJsonDepth) {
      return Status::InvalidArgument("kwargs is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    kwargs = ParseBoundedJson(text);
    if (kwargs.is_discarded() || !kwargs.is_object()) return Status::InvalidArgument("kwargs must be a JSON object");
    return Status::Ok();
  };
  if (IsMultipart(req)) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<FormPart> parts, ParseMultipart(req));
    for (const FormPart& p : parts) {
      if (p.name == "job_type") type = p.body;
      if (p.name == "kwargs") {
        Status st = kwargs_from_text(p.body);
        if (!st.ok()) return JsonError(st);
      }
    }
  } else {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
    auto t = body.find("job_type");
    if (t != body.end() && t->is_string()) type = t->get<std::string>();
    if (auto k = body.find("kwargs"); k != body.end()) {
      if (k->is_string()) {
        Status st = kwargs_from_text(k->get<std::string>());
        if (!st.ok()) return JsonError(st);
      } else if (k->is_object()) {
        kwargs = *k;
      } else {
        return JsonError(Status::InvalidArgument("kwargs must be a JSON object"));
      }
    }
  }
  if (type.empty()) return JsonError(Status::InvalidArgument("job_type is required"));
  LOUPE_ASSIGN_OR_RESPOND(int64_t id, q.Enqueue(type, kwargs));
  HttpResponse out = JsonOk({{"job_id", id}, {"status", WorkStatus::kNotStarted}});
  out.status = 201;
  return out;
}

}  // namespace

std::vector<Route> JobApiRoutes(jobs::JobQueue& q) {
  std::vector<Route> r;
  r.push_back({"POST", "/api/v1/job/", [&q](const HttpRequest& req) { return Enqueue(q, req); }});
  r.push_back({"GET", "/api/v1/job/", [&q](const HttpRequest& req) {
                 int64_t limit = 100;
                 if (const std::string* v = req.Query("limit")) {
                   auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), limit);
                   if (ec != std::errc() || end != v->data() + v->size() || limit < 1 || limit > 10000) {
                     return JsonError(Status::InvalidArgument("limit must be an integer from 1 to 10000"));
                   }
                 }
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<JobRecord> all, q.List(static_cast<int>(limit)));
                 json out = json::array();
                 for (const JobRecord& j : all) out.push_back(JobJson(j));
                 return JsonOk(out);
               }});
  r.push_back({"GET", "/api/v1/job/status/:id", WithPathId("job id", [&q](const HttpRequest&, int64_t id) {
                 Result<JobRecord> j = q.Get(id);
                 return j.ok() ? JsonOk(JobJson(*j)) : JsonError(j.status());
               })});
  r.push_back({"POST", "/api/v1/job/:id/cancel", WithPathId("job id", [&q](const HttpRequest&, int64_t id) {
                 Status st = q.Cancel(id);
                 if (!st.ok()) return JsonError(st);
                 return JsonOk(JobJson(*q.Get(id)));
               })});
  r.push_back({"POST", "/api/v1/job/:id/retry", WithPathId("job id", [&q](const HttpRequest&, int64_t id) {
                 Status st = q.Retry(id);
                 if (!st.ok()) return JsonError(st);
                 return JsonOk(JobJson(*q.Get(id)));
               })});
  return r;
}

}  // namespace loupe
