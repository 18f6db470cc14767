// Predictions found again (search, filters, sorting, paging, exports), one prediction
// with everything recorded about it, and feedback per model over time.
#include <map>

#include "common/pagination.h"
#include "llm/training_export.h"
#include "evals/ab_compare.h"
#include "ui/ab_view.h"
#include "ui/llm_format.h"
#include "ui/llm_pages.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/json_util.h"
#include "web/llm_api.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kPreviewChars = 160;

// The first characters of a text on one line, cut at a UTF-8 boundary.
std::string Preview(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kPreviewChars && (static_cast<unsigned char>(c) & 0xC0) != 0x80) return out + "…";
    out += c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
  }
  return out;
}

json Options(const std::vector<std::string>& values, const std::string& chosen, const char* any_label) {
  json out = json::array({{{"value", ""}, {"label", any_label}, {"selected", chosen.empty()}}});
  for (const std::string& v : values) out.push_back({{"value", v}, {"label", v}, {"selected", v == chosen}});
  return out;
}

std::string QueryValue(const HttpRequest& req, const char* name) {
  const std::string* v = req.Query(name);
  return v ? *v : "";
}

HttpResponse PredictionsPage(llm::FeedbackService& feedback, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Predictions", {{"Home", "/"}, {"Predictions", ""}}, "llm", false, {"api.js", "predictions.js"}};
  // The filters travel to the JSON API's rules through a copy of the request.
  HttpRequest api = req;
  api.query.erase("page");
  api.query.erase("per_page");
  for (auto it = api.query.begin(); it != api.query.end();) it = it->second.empty() ? api.query.erase(it) : std::next(it);
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  // The API parses and bounds the filters; the page shows its message when one is wrong.
  const int64_t per_page = std::clamp<int64_t>(ParsePageNumber(req.Query("per_page"), 50), 1, 200);
  const int64_t page_no = ParsePageNumber(req.Query("page"), 1);
  Result<PredictionFilter> f = PredictionListFilter(api);
  json view = {{"q", QueryValue(req, "q")}, {"since", QueryValue(req, "since")}, {"until", QueryValue(req, "until")}};
  json model_options = json::array({{{"value", ""}, {"label", "any model"}, {"selected", QueryValue(req, "model_id").empty()}}});
  for (const LlmModel& m : *all) {
    model_options.push_back({{"value", std::to_string(m.id)}, {"label", m.name},
                             {"selected", QueryValue(req, "model_id") == std::to_string(m.id)}});
  }
  view["models"] = model_options;
  view["outcomes"] = Options({"ok", "error", "refused", "cancelled"}, QueryValue(req, "outcome"), "any outcome");
  view["ratings"] = Options({"up", "down", "rated", "unrated"}, QueryValue(req, "rating"), "any rating");
  view["tags"] = Options(FailureTags(), QueryValue(req, "tag"), "any failure tag");
  view["sorts"] = Options({"time", "latency", "cost", "ttft"}, QueryValue(req, "sort"), "sort by time");
  view["sorts"].erase(1);  // "time" is the default entry
  view["orders"] = json::array({{{"value", ""}, {"label", "highest / newest first"}, {"selected", QueryValue(req, "order") != "asc"}},
                                {{"value", "asc"}, {"label", "lowest / oldest first"}, {"selected", QueryValue(req, "order") == "asc"}}});
  if (!f.ok()) {
    view["error"] = f.status().message();
    view["rows"] = json::array();
    return HtmlPage(frame, LlmTabs("predictions") + RenderTemplate("predictions", view), 422);
  }
  Result<int64_t> total = feedback.store().CountPredictions(*f);
  if (!total.ok()) return HtmlErrorPage(total.status(), frame);
  Page page = Paginate(*total, page_no, per_page);
  f->limit = page.per_page;
  f->offset = page.offset;
  Result<std::vector<PredictionRow>> rows = feedback.store().ListPredictions(*f);
  if (!rows.ok()) return HtmlErrorPage(rows.status(), frame);
  json out = json::array();
  for (const PredictionRow& r : *rows) {
    const Prediction& p = r.p;
    out.push_back({{"id", p.id}, {"time", FormatMicrosUtc(p.time)}, {"model", p.model_name},
                   {"prompt", Preview(llm::LastUserText(p.messages_json))},
                   // A failed call shows why it failed (its partial answer is on its own page).
                   {"response", p.outcome == "ok" || p.error_text.empty() ? Preview(p.response) : Preview(p.error_text)},
                   {"outcome", p.outcome}, {"ok", p.outcome == "ok"},
                   {"latency", FormatMillis(p.latency_ms)}, {"ttft", p.ttft_ms ? FormatMillis(*p.ttft_ms) : "—"},
                   {"tokens", p.prompt_tokens && p.completion_tokens ? json(std::to_string(*p.prompt_tokens + *p.completion_tokens)) : json("—")},
                   {"cost", p.cost_usd ? FormatUsd(p.cost_usd) : "—"},
                   {"up", r.thumbs && *r.thumbs > 0}, {"down", r.thumbs && *r.thumbs < 0},
                   {"stars", r.stars ? json(FormatNumber(*r.stars, 2)) : json(false)}, {"tags", r.failure_tags}});
  }
  view["rows"] = out;
  view["has_rows"] = !out.empty();
  view["total"] = *total;
  view["total_noun"] = *total == 1 ? "prediction matches" : "predictions match";
  view["pagination"] = PaginationNav(page, "/llm/predictions", req.query);
  std::map<std::string, std::string> export_query = api.query;
  export_query.erase("sort");
  export_query.erase("order");
  auto link = [&](const std::string& path, const std::string& format) {
    auto q = export_query;
    q["format"] = format;
    return path + QueryString(q);
  };
  view["exports"] = json::array({{{"label", "CSV"}, {"href", link("/api/v1/llm/exports/predictions", "csv")}},
                                 {{"label", "JSON"}, {"href", link("/api/v1/llm/exports/predictions", "json")}},
                                 {{"label", "SFT (OpenAI messages)"}, {"href", link("/api/v1/llm/exports/sft", "openai")}},
                                 {{"label", "SFT (ShareGPT)"}, {"href", link("/api/v1/llm/exports/sft", "sharegpt")}},
                                 {{"label", "Preferences (TRL)"}, {"href", link("/api/v1/llm/exports/preferences", "trl")}},
                                 {{"label", "Preferences (OpenAI DPO)"}, {"href", link("/api/v1/llm/exports/preferences", "openai")}}});
  // "Save as a dataset" sends the same filters (outcome aside: SFT keeps answered calls).
  std::map<std::string, std::string> save_query = export_query;
  save_query.erase("limit");
  save_query.erase("offset");
  view["save_query"] = QueryString(save_query);
  view["can_edit"] = CanEdit(req);
  return HtmlPage(frame, LlmTabs("predictions") + RenderTemplate("predictions", view));
}

HttpResponse PredictionPage(llm::FeedbackService& feedback, ChatStore& chats, const HttpRequest& req) {
  PageFrame frame{"Prediction", {{"Home", "/"}, {"Predictions", "/llm/predictions"}}, "llm", false,
                  {"markdown-it.umd.min.js", "purify.min.js", "highlight.min.js", "markdown.js", "predictions.js"}};
  Result<int64_t> id = PagePathId(req, "prediction");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<Prediction> p = chats.GetPrediction(*id);
  if (!p.ok()) return HtmlErrorPage(p.status(), frame);
  frame.title = "Prediction " + std::to_string(p->id);
  frame.crumbs.push_back({"#" + std::to_string(p->id), ""});
  PredictionFilter f;
  f.ids = {p->id};
  Result<std::vector<PredictionRow>> rows = feedback.store().ListPredictions(f);
  if (!rows.ok()) return HtmlErrorPage(rows.status(), frame);
  Result<std::vector<Judgment>> judgments = feedback.store().JudgmentsOf(p->id);
  if (!judgments.ok()) return HtmlErrorPage(judgments.status(), frame);
  json messages = json::array();
  json parsed = json::parse(p->messages_json, nullptr, false);
  if (parsed.is_array()) {
    for (const json& m : parsed) {
      if (m.is_object()) messages.push_back({{"role", m.value("role", "?")}, {"content", m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : m.value("content", json()).dump()}});
    }
  }
  json js = json::array();
  for (const Judgment& j : *judgments) {
    json e = json::parse(j.evidence_json, nullptr, false);
    std::string details;
    if (e.is_object()) {
      for (auto it = e.begin(); it != e.end(); ++it) {
        if (it.key() == "failure_tags" || it.key() == "stars" || it.key() == "success") continue;
        details += (details.empty() ? "" : "\n") + it.key() + ": " + (it->is_string() ? it->get<std::string>() : it->dump());
      }
    }
    js.push_back({{"source", j.source}, {"criterion", j.criterion},
                  {"score", j.score ? json(FormatNumber(*j.score, 4)) : json("—")},
                  {"passed", j.passed ? json(*j.passed ? "yes" : "no") : json("—")},
                  {"tags", j.tags}, {"details", details}, {"by", j.created_by}, {"when", FormatMicrosUtc(j.update_time)}});
  }
  const PredictionRow* row = rows->empty() ? nullptr : &rows->front();
  json params = json::parse(p->params_json, nullptr, false);
  json view = {{"id", p->id}, {"time", FormatMicrosUtc(p->time)}, {"model", p->model_name},
               {"model_id", p->model_id ? json(*p->model_id) : json(false)}, {"api", p->api},
               {"provider_model", p->provider_model}, {"outcome", p->outcome}, {"ok", p->outcome == "ok"},
               {"finish", p->finish_reason.empty() ? "—" : p->finish_reason},
               {"error_type", p->error_type.empty() ? json(false) : json(p->error_type)},
               {"error_text", p->error_text.empty() ? json(false) : json(p->error_text)},
               {"latency", FormatMillis(p->latency_ms)}, {"ttft", p->ttft_ms ? FormatMillis(*p->ttft_ms) : "—"},
               {"tokens", FormatTokens(p->prompt_tokens, p->completion_tokens)}, {"cost", FormatUsd(p->cost_usd)},
               {"conversation", p->conversation_id ? json(*p->conversation_id) : json(false)},
               {"trace", p->trace_id.empty() ? "—" : p->trace_id}, {"source", p->source},
               {"params", params.is_discarded() ? p->params_json : params.dump(2)},
               {"messages", messages}, {"response", p->response},
               {"thumbs", row && row->thumbs ? json(*row->thumbs > 0 ? "good (thumbs up)" : "bad (thumbs down)") : json("none")},
               {"stars", row && row->stars ? json(FormatNumber(*row->stars, 2) + " ★") : json("none")},
               {"judgments", js}, {"has_judgments", !js.empty()}, {"by", p->created_by.empty() ? "—" : p->created_by}};
  return HtmlPage(frame, LlmTabs("predictions") + RenderTemplate("prediction", view));
}

HttpResponse FeedbackPage(llm::FeedbackService& feedback, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Feedback", {{"Home", "/"}, {"Feedback", ""}}, "llm", true, {"api.js", "feedback.js"}};
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  HttpRequest api = req;
  for (auto it = api.query.begin(); it != api.query.end();) it = it->second.empty() ? api.query.erase(it) : std::next(it);
  api.query.erase("a");  // the A/B's two models: this page's own
  api.query.erase("b");
  std::string bucket = "day";
  Result<FeedbackFilter> f = FeedbackSummaryFilter(api, &bucket);
  json model_options = json::array({{{"value", ""}, {"label", "every model"}, {"selected", QueryValue(req, "model_id").empty()}}});
  for (const LlmModel& m : *all) {
    model_options.push_back({{"value", std::to_string(m.id)}, {"label", m.name},
                             {"selected", QueryValue(req, "model_id") == std::to_string(m.id)}});
  }
  json view = {{"q", QueryValue(req, "q")}, {"since", QueryValue(req, "since")}, {"until", QueryValue(req, "until")},
               {"models", model_options}, {"tags", Options(FailureTags(), QueryValue(req, "tag"), "any failure tag")},
               {"buckets", json::array({{{"value", "day"}, {"label", "by day"}, {"selected", bucket == "day"}},
                                        {{"value", "week"}, {"label", "by week"}, {"selected", bucket == "week"}}})},
               {"exports", json::array()}};
  for (const char* format : {"csv", "jsonl"}) {
    auto q = api.query;
    q.erase("bucket");
    q["format"] = format;
    view["exports"].push_back({{"label", format == std::string("csv") ? "CSV" : "JSONL"},
                               {"href", "/api/v1/llm/exports/judgments" + QueryString(q)}});
  }
  if (!f.ok()) {
    view["error"] = f.status().message();
    return HtmlPage(frame, LlmTabs("feedback") + RenderTemplate("feedback", view), 422);
  }
  Result<json> summary = feedback.Summary(*f);
  if (!summary.ok()) return HtmlErrorPage(summary.status(), frame);
  json rows = json::array();
  for (const json& m : (*summary)["models"]) {
    // Each count links to the predictions behind it, under the same filters.
    auto predictions = [&](const std::string& key, const std::string& value) -> json {
      if (!m["model_id"].is_number_integer()) return false;
      std::map<std::string, std::string> q;
      for (const char* k : {"since", "until", "q", "tag"}) {
        if (!QueryValue(req, k).empty()) q[k] = QueryValue(req, k);
      }
      q["model_id"] = std::to_string(m["model_id"].get<int64_t>());
      if (!key.empty()) q[key] = value;
      return "/llm/predictions" + QueryString(q);
    };
    json tags = json::array();
    for (const json& t : m["failure_tags"]) {
      if (t["count"].get<int64_t>() == 0) continue;
      const double share = t["share"].get<double>();
      tags.push_back({{"tag", t["tag"]}, {"count", t["count"]}, {"share", FormatPercent(share)},
                      {"width", FormatNumber(share * 100, 4)}, {"href", predictions("tag", t["tag"])}});
    }
    std::string rate = "—", ci;
    if (m["up_rate"].is_number()) {
      rate = FormatPercent(m["up_rate"].get<double>());
      ci = FormatPercent(m["up_rate_ci95"][0].get<double>()) + "–" + FormatPercent(m["up_rate_ci95"][1].get<double>());
    }
    rows.push_back({{"model", m["model_name"]}, {"predictions", m["predictions"]}, {"href", predictions("", "")},
                    {"up_href", predictions("rating", "up")}, {"down_href", predictions("rating", "down")},
                    {"up", m["thumbs_up"]}, {"down", m["thumbs_down"]}, {"rate", rate},
                    {"ci", ci.empty() ? json(false) : json(ci)}, {"evaluations", m["evaluations"]},
                    {"stars", m["average_stars"].is_number() ? json(FormatNumber(m["average_stars"].get<double>(), 3)) : json("—")},
                    {"success", m["success_rate"].is_number() ? json(FormatPercent(m["success_rate"].get<double>())) : json("—")},
                    {"tags", tags}, {"has_tags", !tags.empty()}});
  }
  view["rows"] = rows;
  view["has_rows"] = !rows.empty();
  // Two models' thumbs-up rates, each on its own prompts: Fisher's exact test (unpaired).
  std::vector<json> rated;
  for (const json& m : (*summary)["models"]) {
    if (m["model_id"].is_number_integer() && m["thumbs_up"].get<int64_t>() + m["thumbs_down"].get<int64_t>() > 0) {
      rated.push_back(m);
    }
  }
  std::stable_sort(rated.begin(), rated.end(), [](const json& x, const json& y) {
    return x["thumbs_up"].get<int64_t>() + x["thumbs_down"].get<int64_t>() >
           y["thumbs_up"].get<int64_t>() + y["thumbs_down"].get<int64_t>();
  });
  view["ab"] = false;
  if (rated.size() >= 2) {
    auto pick = [&](const char* key, size_t fallback) -> const json& {
      const std::string v = QueryValue(req, key);
      for (const json& m : rated) {
        if (!v.empty() && std::to_string(m["model_id"].get<int64_t>()) == v) return m;
      }
      return rated[fallback];
    };
    const json& a = pick("a", 1);
    const json& b = pick("b", 0);
    if (a["model_id"] != b["model_id"]) {
      auto n = [](const json& m) { return m["thumbs_up"].get<int64_t>() + m["thumbs_down"].get<int64_t>(); };
      json ab = AbView(evals::CompareRates(a["model_name"], a["thumbs_up"], n(a), b["model_name"], b["thumbs_up"], n(b),
                                           "thumbs_up_rate"));
      json choices = json::array();
      for (const json& m : rated) {
        choices.push_back({{"id", m["model_id"]}, {"name", m["model_name"]}, {"is_a", m["model_id"] == a["model_id"]},
                           {"is_b", m["model_id"] == b["model_id"]}});
      }
      ab["choices"] = choices;
      view["ab"] = ab;
    }
  }
  view["trend"] = (*summary)["trend"].dump();
  view["has_trend"] = !(*summary)["trend"].empty();
  view["bucket_seconds"] = f->bucket_micros / 1000000;
  return HtmlPage(frame, LlmTabs("feedback") + RenderTemplate("feedback", view));
}

}  // namespace

std::vector<Route> PredictionPageRoutes(llm::FeedbackService& feedback, llm::ModelRegistry& models, ChatStore& chats) {
  std::vector<Route> r;
  r.push_back(Offload({"GET", "/llm/predictions", [&](const HttpRequest& req) { return PredictionsPage(feedback, models, req); }}));
  r.push_back({"GET", "/llm/predictions/:id", [&](const HttpRequest& req) { return PredictionPage(feedback, chats, req); }});
  r.push_back(Offload({"GET", "/llm/feedback", [&](const HttpRequest& req) { return FeedbackPage(feedback, models, req); }}));
  return r;
}

}  // namespace loupe
