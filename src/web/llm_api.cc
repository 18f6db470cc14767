#include "web/llm_api.h"

#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxModelBody = 64 << 10;

json ParsedOr(const std::string& text, json fallback) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

// The body of a model request. The parser's own message may quote the body, which can
// hold an API key, so a malformed body gets a fixed message.
Result<json> ModelBody(const HttpRequest& req) {
  Result<json> body = ParseJsonObject(req, kMaxModelBody);
  if (!body.ok()) {
    if (body.status().code() == Code::kTooLarge) return body.status();
    return Status::BadRequest("the body must be a JSON object (see docs/api.md, LLM models)");
  }
  // Pointing a model at a secret someone else stored would let its holder send that
  // secret to a host of their choosing: naming an existing secret is for admins.
  if (body->contains("api_key_secret") && req.caller.known && req.caller.role != "admin") {
    return Status::Forbidden("only an admin may use a stored secret as a model's key ('api_key_secret')");
  }
  return body;
}

}  // namespace

json LlmModelJson(llm::ModelRegistry& models, const LlmModel& m, const std::vector<LlmModel>* all,
                  const std::vector<SealedSecret>* secrets) {
  json base = nullptr;
  if (m.base_model_id) {
    base = {{"id", *m.base_model_id}, {"name", nullptr}};
    if (all) {
      for (const LlmModel& other : *all) {
        if (other.id == *m.base_model_id) base["name"] = other.name;
      }
    } else if (Result<LlmModel> b = models.Get(*m.base_model_id); b.ok()) {
      base["name"] = b->name;
    }
  }
  return {{"id", m.id},
          {"name", m.name},
          {"api", m.api},
          {"base_url", m.base_url},
          {"model", m.model},
          {"api_key", models.KeyInfo(m, secrets)},
          {"defaults", ParsedOr(m.defaults_json, json::object())},
          {"price_input", m.price_input ? json(*m.price_input) : json(nullptr)},
          {"price_output", m.price_output ? json(*m.price_output) : json(nullptr)},
          {"capabilities", ParsedOr(m.capabilities_json, json::object())},
          {"probe", ParsedOr(m.probe_json, nullptr)},
          {"base_model", base},
          {"experiment_id", m.experiment_id ? json(*m.experiment_id) : json(nullptr)},
          {"create_time", m.create_time / 1e6},
          {"update_time", m.update_time / 1e6},
          {"created_by", m.created_by}};
}

std::vector<Route> LlmApiRoutes(llm::ModelRegistry& models) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/llm/models", [&](const HttpRequest&) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<LlmModel> all, models.List());
    LOUPE_ASSIGN_OR_RESPOND(std::vector<SealedSecret> secrets, models.Secrets());
    json out = json::array();
    for (const LlmModel& m : all) out.push_back(LlmModelJson(models, m, &all, &secrets));
    return JsonOk({{"models", out}});
  }});
  r.push_back({"POST", "/api/v1/llm/models", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ModelBody(req));
    LOUPE_ASSIGN_OR_RESPOND(LlmModel m, models.Create(body, req.caller.user));
    HttpResponse resp = JsonOk(LlmModelJson(models, m));
    resp.status = 201;
    return resp;
  }});
  r.push_back({"GET", "/api/v1/llm/models/:id", WithPathId("model id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(LlmModel m, models.Get(id));
    return JsonOk(LlmModelJson(models, m));
  })});
  r.push_back({"PATCH", "/api/v1/llm/models/:id", WithPathId("model id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ModelBody(req));
    LOUPE_ASSIGN_OR_RESPOND(LlmModel m, models.Update(id, body, req.caller.user));
    return JsonOk(LlmModelJson(models, m));
  })});
  r.push_back({"DELETE", "/api/v1/llm/models/:id", WithPathId("model id", [&](const HttpRequest&, int64_t id) {
    if (Status s = models.Remove(id); !s.ok()) return JsonError(s);
    return JsonOk(nullptr);
  })});
  Route test{"POST", "/api/v1/llm/models/:id/test", WithPathId("model id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json probe, models.Test(id));
    return JsonOk(probe);
  })};
  test.offload = true;  // two outbound calls of up to 20 s each
  r.push_back(std::move(test));
  return r;
}

}  // namespace loupe
