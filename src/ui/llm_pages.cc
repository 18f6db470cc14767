#include "ui/llm_pages.h"

#include <nlohmann/json.hpp>

#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/llm_api.h"

namespace loupe {

namespace {

using nlohmann::json;

std::string Price(const json& v) { return v.is_number() ? "$" + FormatNumber(v.get<double>(), 6) : "—"; }

HttpResponse ModelsPage(llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"LLM endpoints", {{"Home", "/"}, {"LLM endpoints", ""}}, "llm", false, {"api.js", "llm_models.js"}};
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  Result<std::vector<SealedSecret>> secrets = models.Secrets();
  if (!secrets.ok()) return HtmlErrorPage(secrets.status(), frame);
  json rows = json::array();
  json bases = json::array({{{"id", ""}, {"name", "—"}}});
  for (const LlmModel& m : *all) {
    json j = LlmModelJson(models, m, &*all, &*secrets);
    json badges = ModelBadges(j);
    const json& probe = j["probe"];
    json test = false;
    if (probe.is_object()) {
      test = {{"ok", probe.value("ok", false)},
              {"message", probe.value("message", "")},
              {"when", FormatMicrosUtc(static_cast<int64_t>(probe.value("time", 0.0) * 1e6))},
              {"latency", probe["latency_ms"].is_number() ? json(FormatNumber(probe["latency_ms"].get<double>(), 3) + " ms") : json(false)}};
    }
    const json& key = j["api_key"];
    std::string key_text = !key["set"].get<bool>()           ? "no key"
                           : key.value("missing", false)     ? "secret missing"
                           : key["hint"].is_string()         ? "…" + key["hint"].get<std::string>()
                                                             : "set";
    if (key["secret"].is_string()) key_text += " (secret " + key["secret"].get<std::string>() + ")";
    rows.push_back({{"id", m.id}, {"name", m.name}, {"api", m.api == "anthropic" ? "Anthropic" : "OpenAI-compatible"},
                    {"base_url", m.base_url}, {"model", m.model}, {"key", key_text},
                    {"price_in", Price(j["price_input"])}, {"price_out", Price(j["price_output"])},
                    {"badges", badges}, {"test", test},
                    {"base", j["base_model"].is_object() && j["base_model"]["name"].is_string()
                                 ? json(j["base_model"]["name"]) : json(false)},
                    {"experiment", m.experiment_id ? json(*m.experiment_id) : json(false)},
                    // What the Edit form starts from (the key is never in it).
                    {"edit", json{{"id", m.id}, {"name", m.name}, {"api", m.api}, {"base_url", m.base_url},
                                  {"model", m.model}, {"defaults", j["defaults"]}, {"price_input", j["price_input"]},
                                  {"price_output", j["price_output"]}, {"capabilities", j["capabilities"]},
                                  {"base_model_id", m.base_model_id ? json(*m.base_model_id) : json(nullptr)},
                                  {"experiment_id", j["experiment_id"]}, {"key_set", key["set"]}}
                                 .dump(-1, ' ', false, json::error_handler_t::replace)}});
    bases.push_back({{"id", m.id}, {"name", m.name}});
  }
  return HtmlPage(frame, LlmTabs("models") + RenderTemplate("llm_models", json{{"models", rows}, {"has_models", !rows.empty()},
                                                           {"bases", bases}, {"can_edit", CanEdit(req)}}));
}

}  // namespace

std::string LlmTabs(const std::string& active) {
  std::string out = "<nav class=\"tabs llm-tabs\" aria-label=\"LLM workbench\">";
  for (auto [key, href, label] : {std::tuple{"chat", "/llm/chat", "Chat"}, std::tuple{"compare", "/llm/compare", "Compare"},
                                  std::tuple{"batch", "/llm/batch", "Batch tests"}, std::tuple{"suites", "/llm/suites", "Suites"},
                                  std::tuple{"predictions", "/llm/predictions", "Predictions"},
                                  std::tuple{"feedback", "/llm/feedback", "Feedback"}, std::tuple{"models", "/llm/models", "Endpoints"}}) {
    out += std::string("<a href=\"") + href + "\"" + (active == key ? " class=\"active\" aria-current=\"page\"" : "") + ">" + label + "</a>";
  }
  return out + "</nav>";
}

json ModelBadges(const json& j) {
  json badges = json::array();
  const json& probe = j["probe"];
  for (const char* cap : {"streaming", "tools", "vision", "json_mode"}) {
    const bool declared = j["capabilities"].value(cap, false);
    const bool confirmed = std::string(cap) == "streaming" && probe.is_object() && probe.value("streaming", json()) == true;
    if (!declared && !confirmed) continue;
    badges.push_back({{"label", std::string(cap) == "json_mode" ? "JSON mode" : cap},
                      {"confirmed", confirmed},
                      {"title", confirmed ? "confirmed by the connection test" : "declared"}});
  }
  return badges;
}

std::vector<Route> LlmPageRoutes(llm::ModelRegistry& models) {
  std::vector<Route> r;
  r.push_back({"GET", "/llm/models", [&models](const HttpRequest& req) { return ModelsPage(models, req); }});
  return r;
}

}  // namespace loupe
