#include "web/launch_api.h"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

// The spec a request carries: the body itself, or the text in its "spec_text".
Result<json> SpecOfBody(const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(json body, ParseJsonObject(req, launch::kMaxSpecBytes + 4096));
  if (!body.contains("spec_text")) return body;
  if (body.size() != 1 || !body["spec_text"].is_string()) {
    return Status::InvalidArgument("send the spec as a JSON object, or {\"spec_text\": \"...\"} alone");
  }
  return launch::SpecFromText(body["spec_text"].get<std::string>());
}

json ProblemsJson(const std::vector<launch::SpecProblem>& problems) {
  json out = json::array();
  for (const launch::SpecProblem& p : problems) out.push_back({{"field", p.field}, {"message", p.message}});
  return out;
}

}  // namespace

Result<launch::LaunchService::GpuPickerQuery> GpuPickerQueryOf(const HttpRequest& req) {
  LOUPE_RETURN_IF_ERROR(OnlyQueryParams(req, {"min_memory_gb", "sort", "need_gb"}));
  launch::LaunchService::GpuPickerQuery q;
  for (auto [name, out] : {std::pair<const char*, double*>{"min_memory_gb", &q.min_memory_gb}, {"need_gb", &q.need_gb}}) {
    const std::string* v = req.Query(name);
    if (!v || v->empty()) continue;
    char* end = nullptr;
    *out = std::strtod(v->c_str(), &end);
    if (v->size() > 32 || end != v->c_str() + v->size() || !std::isfinite(*out) || *out < 0 || *out > 1e6) {
      return Status::InvalidArgument(std::string(name) + " must be a number from 0 to 1,000,000");
    }
  }
  if (const std::string* v = req.Query("sort"); v && !v->empty()) q.sort = *v;
  return q;
}

std::vector<Route> LaunchApiRoutes(launch::LaunchService& launches) {
  std::vector<Route> r;
  r.push_back(WithAccess(Access::kAdmin, Offload({"POST", "/api/v1/launch/jobs", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"check"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t check_only, QueryInteger(req, "check", 0, 0, 1));
    LOUPE_ASSIGN_OR_RESPOND(json spec_body, SpecOfBody(req));
    launch::JobSpec spec;
    std::vector<launch::SpecProblem> problems = launches.Check(spec_body, spec);
    if (check_only) {
      return JsonOk({{"ok", problems.empty()}, {"problems", ProblemsJson(problems)}, {"spec", launch::SpecToJson(spec)}});
    }
    if (!problems.empty()) {
      HttpResponse resp = JsonError(Status::InvalidArgument(launch::ProblemsText(problems)));
      json env = json::parse(resp.body);
      env["problems"] = ProblemsJson(problems);
      resp.body = env.dump(-1, ' ', false, json::error_handler_t::replace);
      return resp;
    }
    LOUPE_ASSIGN_OR_RESPOND(LaunchJob job, launches.Launch(spec_body, req.caller.user));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.JobJson(job.id));
    HttpResponse resp = JsonOk(out);
    resp.status = 201;
    return resp;
  }})));
  r.push_back({"GET", "/api/v1/launch/jobs", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"limit"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 200, 1, 10000));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.ListJson(limit));
    return JsonOk(out);
  }});
  r.push_back({"GET", "/api/v1/launch/jobs/:id", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.JobJson(id));
    return JsonOk(out);
  })});
  r.push_back({"POST", "/api/v1/launch/jobs/:id/stop", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    bool checkpoint_first = false;
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 4096));
      if (body.size() > 1 || (body.size() == 1 && !body.contains("checkpoint_first")) ||
          (body.contains("checkpoint_first") && !body["checkpoint_first"].is_boolean())) {
        return JsonError(Status::InvalidArgument("send no body, {} or {\"checkpoint_first\": true}"));
      }
      checkpoint_first = body.value("checkpoint_first", false);
    }
    LOUPE_ASSIGN_OR_RESPOND(LaunchJob job, launches.StopJob(id, "user", checkpoint_first));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.JobJson(job.id));
    return JsonOk(out);
  })});
  r.push_back({"POST", "/api/v1/launch/jobs/:id/checkpoint", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(LaunchJob job, launches.RequestCheckpoint(id));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.JobJson(job.id));
    return JsonOk(out);
  })});
  // What a job's SDK polls where it cannot read the control file (a RunPod pod): the
  // checkpoint requests so far.
  r.push_back({"GET", "/api/v1/launch/jobs/:id/control", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(LaunchJob job, launches.Job(id));
    return JsonOk({{"checkpoint_request", job.checkpoint_requests}, {"state", job.state}});
  })});
  r.push_back(WithAccess(Access::kRead, Offload({"GET", "/api/v1/launch/gpus", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(launch::LaunchService::GpuPickerQuery q, GpuPickerQueryOf(req));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.GpuPickerJson(q));
    return JsonOk(out);
  }})));
  // A cloud's public GPU prices for one region, read now and kept for the picker.
  r.push_back(Offload({"POST", "/api/v1/launch/gpus/prices", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 4096));
    for (auto it = body.begin(); it != body.end(); ++it) {
      if ((it.key() != "provider" && it.key() != "region") || !it.value().is_string()) {
        return JsonError(Status::InvalidArgument("send {\"provider\": \"azure\", \"region\": \"eastus\"}"));
      }
    }
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.RefreshCloudPrices(body.value("provider", "azure"),
                                                                  body.value("region", "eastus")));
    return JsonOk(out);
  }}));
  // RunPod's GPU types with their prices, read with the key in the secret "runpod" (only that
  // one: a reader must not be able to send another secret to RunPod).
  r.push_back(WithAccess(Access::kRead, Offload({"GET", "/api/v1/launch/runpod/gpus", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.RunPodGpusJson("runpod"));
    return JsonOk(out);
  }})));
  r.push_back(WithAccess(Access::kAdmin, {"POST", "/api/v1/launch/jobs/:id/resume", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    json body = json::object();
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      LOUPE_ASSIGN_OR_RESPOND(body, ParseJsonObject(req, 64 * 1024));
    }
    LOUPE_ASSIGN_OR_RESPOND(LaunchJob job, launches.Resume(id, body, req.caller.user));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.JobJson(job.id));
    return JsonOk(out);
  })}));
  // The working directory and environment, to run the job elsewhere: an editor's.
  r.push_back(WithAccess(Access::kWrite, Offload({"GET", "/api/v1/launch/jobs/:id/package", WithPathId("job id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(std::string path, launches.Package(id));
    HttpResponse resp = Attachment("", "application/gzip", "loupe-job-" + std::to_string(id) + ".tar.gz");
    resp.file_path = path;
    return resp;
  })})));
  r.push_back({"GET", "/api/v1/launch/prices", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(auto prices, launches.Prices());
    json out = json::object();
    for (const auto& [k, v] : prices) out[k] = v;
    return JsonOk({{"prices", out}});
  }});
  r.push_back(WithAccess(Access::kAdmin, {"PUT", "/api/v1/launch/prices", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 64 * 1024));
    if (Status s = launches.SetPrices(body); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(auto prices, launches.Prices());
    json out = json::object();
    for (const auto& [k, v] : prices) out[k] = v;
    return JsonOk({{"prices", out}});
  }}));
  // A computation, not a change: any reader may ask.
  r.push_back(WithAccess(Access::kRead, {"POST", "/api/v1/launch/estimate", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 64 * 1024));
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.Estimate(body));
    return JsonOk(out);
  }}));
  r.push_back({"GET", "/api/v1/launch/spend", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, launches.SpendJson());
    return JsonOk(out);
  }});
  r.push_back({"GET", "/api/v1/launch/machine", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    return JsonOk(launches.MachineJson());
  }});
  return r;
}

}  // namespace loupe
