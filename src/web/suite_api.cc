#include "web/suite_api.h"

#include <nlohmann/json.hpp>

#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxSuiteBody = 64 << 20;

// The model a run is asked of: {model_id} or {model: its name}.
Result<int64_t> ModelOfBody(const json& body, llm::ModelRegistry& models) {
  if (body.contains("model_id") && body.contains("model")) {
    return Status::InvalidArgument("give 'model_id' or 'model', not both");
  }
  if (body.contains("model_id")) {
    const json& v = body["model_id"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) return Status::InvalidArgument("'model_id' must be a model's id");
    LOUPE_RETURN_IF_ERROR(models.Get(v.get<int64_t>()).status());
    return v.get<int64_t>();
  }
  if (body.contains("model")) {
    if (!body["model"].is_string()) return Status::InvalidArgument("'model' must be a model's name");
    const std::string name = body["model"].get<std::string>();
    LOUPE_ASSIGN_OR_RETURN(std::vector<LlmModel> all, models.List());
    for (const LlmModel& m : all) {
      if (m.name == name) return m.id;
    }
    return Status::NotFound("no model named '" + name + "'");
  }
  return Status::InvalidArgument("'model_id' or 'model' (the model to test) is required");
}

}  // namespace

std::vector<Route> SuiteApiRoutes(evals::SuiteService& suites, llm::ModelRegistry& models) {
  std::vector<Route> r;
  r.push_back(Offload({"POST", "/api/v1/suites", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSuiteBody));
    LOUPE_ASSIGN_OR_RESPOND(EvalSuite s, suites.Create(body, req.caller.user));
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.Get(s.id));
    HttpResponse resp = JsonOk(out);
    resp.status = 201;
    return resp;
  }}));
  r.push_back({"GET", "/api/v1/suites", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"name"}); !s.ok()) return JsonError(s);
    if (const std::string* name = req.Query("name")) {
      LOUPE_ASSIGN_OR_RESPOND(EvalSuite s, suites.Find(*name));
      LOUPE_ASSIGN_OR_RESPOND(json one, suites.Get(s.id));
      return JsonOk({{"suites", json::array({one})}});
    }
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.List());
    return JsonOk(out);
  }});
  r.push_back({"GET", "/api/v1/suites/:id", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.Get(id));
    return JsonOk(out);
  })});
  r.push_back(Offload({"PATCH", "/api/v1/suites/:id", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSuiteBody));
    if (Status s = suites.Update(id, body, req.caller.user).status(); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.Get(id));
    return JsonOk(out);
  })}));
  r.push_back({"DELETE", "/api/v1/suites/:id", WithPathId("suite id", [&](const HttpRequest&, int64_t id) {
    if (Status s = suites.Delete(id); !s.ok()) return JsonError(s);
    return JsonOk(nullptr);
  })});
  r.push_back(Offload({"POST", "/api/v1/suites/:id/runs", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 4096));
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "model_id" && it.key() != "model" && it.key() != "reason" && it.key() != "threshold") {
        return JsonError(Status::InvalidArgument("unknown field '" + it.key() + "'"));
      }
    }
    std::string reason = "manual";
    if (body.contains("reason")) {
      if (!body["reason"].is_string()) return JsonError(Status::InvalidArgument("'reason' must be manual or ci"));
      reason = body["reason"].get<std::string>();
    }
    std::optional<double> threshold;
    if (body.contains("threshold")) {
      if (!body["threshold"].is_number()) {
        return JsonError(Status::InvalidArgument("'threshold' must be the share of cases that must pass, 0 to 1"));
      }
      threshold = body["threshold"].get<double>();
    }
    LOUPE_ASSIGN_OR_RESPOND(int64_t model, ModelOfBody(body, models));
    LOUPE_ASSIGN_OR_RESPOND(BatchRun run, suites.Run(id, model, reason, req.caller.user, threshold));
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.RunResult(id, run.id));
    HttpResponse resp = JsonOk(out);
    resp.status = 201;
    return resp;
  })}));
  r.push_back({"GET", "/api/v1/suites/:id/runs", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"limit"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 50, 1, 1000));
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.Runs(id, limit));
    return JsonOk(out);
  })});
  // A finished run's result reads its answers and its baseline's: off the event loop.
  r.push_back(Offload({"GET", "/api/v1/suites/:id/runs/:run", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t run, ParseId(req.Param("run"), "run id"));
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.RunResult(id, run));
    return JsonOk(out);
  })}));
  r.push_back({"GET", "/api/v1/suites/:id/history", WithPathId("suite id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, suites.History(id));
    return JsonOk(out);
  })});
  return r;
}

}  // namespace loupe
