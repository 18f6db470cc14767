// Batch tests' pages: /llm/batch (runs, and the form that starts one from a CSV or JSONL
// test set), /llm/batch/:id (progress while it runs, the per-model summary, the results
// with each failed check's reason; static/batch.js follows the run and acts on it).
#include "ui/batch_pages.h"

#include <cmath>
#include <cstdio>

#include "common/time_util.h"
#include "ui/ab_view.h"
#include "ui/llm_format.h"
#include "ui/llm_pages.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/json_util.h"
#include "web/stream_workers.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr int64_t kResultsPage = 100;

std::optional<int64_t> OptInt(const json& v) { return v.is_number() ? std::optional<int64_t>(v.get<int64_t>()) : std::nullopt; }
std::optional<double> OptDouble(const json& v) { return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt; }

std::string Excerpt(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return s.substr(0, cut) + "…";
}

// A result's judge column: its overall score and verdict, or where it stands.
std::string JudgeText(const json& r) {
  if (r["judge"].is_null()) return "";
  if (r["judge"] == "pending") return "judging…";
  if (r["judge_score"].is_number()) {
    std::string text = FormatNumber(r["judge_score"].get<double>(), 3) + (r["judge_passed"] == true ? " pass" : " fail");
    // Which criteria failed: an overall of 7 fails when safety (pass at 8) does.
    std::string failed;
    if (r["judge"].is_object() && r["judge"].contains("criteria") && r["judge"]["criteria"].is_array()) {
      for (const json& c : r["judge"]["criteria"]) {
        if (c.value("passed", true) == false) failed += (failed.empty() ? "" : ", ") + c.value("name", std::string("?"));
      }
    }
    return failed.empty() ? text : text + " (" + failed + ")";
  }
  return "judge error";
}

// `whole`: prompts, expected outputs and answers in full (the report), else excerpts.
json LiveView(const json& run, const json& results, int64_t after, bool whole = false) {
  const size_t prompt_max = whole ? std::string::npos : 300, answer_max = whole ? std::string::npos : 600;
  const int64_t cells = run["cells"].get<int64_t>();
  const int64_t answered = run["answered"].get<int64_t>();
  json summary = json::array();
  for (const json& m : run.value("summary", json::array())) {
    const bool any = m["answered"].get<int64_t>() > 0;
    std::string ci = "—";
    if (m["pass_rate_ci95"].is_array()) {
      ci = FormatPercent(m["pass_rate_ci95"][0].get<double>()) + " – " + FormatPercent(m["pass_rate_ci95"][1].get<double>());
    }
    summary.push_back({{"name", m["name"]},
                       {"answered", m["answered"]},
                       {"ok", m["ok"]},
                       {"failed", m["failed"]},
                       {"cached", m["cached"]},
                       {"passed", m["passed"]},
                       {"pass_rate", any ? FormatPercent(m["pass_rate"].get<double>()) : "—"},
                       {"ci", ci},
                       {"p50", m["latency_ms_p50"].is_number() ? FormatMillis(m["latency_ms_p50"].get<double>()) : "—"},
                       {"p95", m["latency_ms_p95"].is_number() ? FormatMillis(m["latency_ms_p95"].get<double>()) : "—"},
                       {"tokens", FormatTokens(m["prompt_tokens"].get<int64_t>(), m["completion_tokens"].get<int64_t>())},
                       {"cost", FormatUsd(OptDouble(m["cost_usd"]))},
                       {"judge", m["judge_mean"].is_number() ? FormatNumber(m["judge_mean"].get<double>(), 3) + " (" +
                                                                 std::to_string(m["judged"].get<int64_t>()) + ")"
                                                           : "—"}});
  }
  // The validator breakdown: a row per check type, a cell per model.
  json validators = json::array();
  for (const json& v : run.value("validators", json::array())) {
    json cells = json::array();
    for (const json& c : v["models"]) {
      cells.push_back({{"text", c["checked"].get<int64_t>() == 0
                                    ? std::string("—")
                                    : std::to_string(c["passed"].get<int64_t>()) + " of " +
                                          std::to_string(c["checked"].get<int64_t>()) + " (" +
                                          FormatPercent(c["pass_rate"].get<double>()) + ")"}});
    }
    validators.push_back({{"type", v["type"]}, {"cells", cells}});
  }
  json rows = json::array();
  for (const json& r : results["items"]) {
    const std::string state = r["state"].get<std::string>();
    json failed = json::array();
    for (const json& c : r["checks"]) {
      if (!c.value("passed", false)) {
        failed.push_back({{"type", c.value("type", std::string("?"))}, {"message", c.value("message", std::string())}});
      }
    }
    rows.push_back({{"case", r["case"]},
                    {"model", r["model_name"]},
                    {"prompt", Excerpt(r["prompt"].get<std::string>(), prompt_max)},
                    {"expected", r["expected"].get<std::string>().empty() ? json(false) : json(Excerpt(r["expected"].get<std::string>(), prompt_max))},
                    {"pending", state == "pending"},
                    {"state", state},
                    {"ok", state == "ok"},
                    {"response", r["response"].is_string() ? json(Excerpt(r["response"].get<std::string>(), answer_max)) : json(false)},
                    {"error", r["error_text"].is_string() ? r["error_text"] : json(false)},
                    {"passed", r["passed"].is_boolean() && r["passed"].get<bool>()},
                    {"not_passed", r["passed"].is_boolean() && !r["passed"].get<bool>()},
                    {"failed", failed},
                    {"checks", r["checks"].size()},
                    {"latency", r["latency_ms"].is_number() ? FormatMillis(r["latency_ms"].get<double>()) : "—"},
                    {"tokens", r["state"] == "pending" ? std::string("—") : FormatTokens(OptInt(r["prompt_tokens"]), OptInt(r["completion_tokens"]))},
                    {"cost", r["state"] == "pending" ? std::string("—") : FormatUsd(OptDouble(r["cost_usd"]))},
                    {"cached", r["cached"]},
                    {"judge", JudgeText(r)},
                    {"prediction_id", r["prediction_id"].is_number() ? r["prediction_id"] : json(false)}});
  }
  const std::string status = run["status"].get<std::string>();
  return {{"id", run["id"]},
          {"status", status},
          {"running", status == "running"},
          {"cancelled", status == "cancelled"},
          {"done", status == "done"},
          {"cells", cells},
          {"answered", answered},
          {"ok", run["ok"]},
          {"failed", run["failed"]},
          {"cached", run["cached"]},
          {"passed", run["passed"]},
          {"judging", run["judging"]},
          {"judged", run["judged"]},
          {"has_judge", run["options"].contains("judge")},
          {"summary", summary},
          {"validators", validators},
          {"has_validators", !validators.empty()},
          {"rows", rows},
          {"has_rows", !rows.empty()},
          {"after", after},
          {"next", results["next_after"].is_number() ? results["next_after"] : json(false)},
          {"first_page", after == 0}};
}

Result<json> Live(evals::BatchService& batches, int64_t id, int64_t after) {
  LOUPE_ASSIGN_OR_RETURN(json run, batches.Get(id));
  LOUPE_ASSIGN_OR_RETURN(json results, batches.Results(id, false, after, kResultsPage));
  json view = LiveView(run, results, after);
  view["ab"] = false;
  // Once the run has stopped (the statistics of a run half done would mislead), the
  // first two models against each other.
  if (run["models"].size() >= 2 && run["status"] != "running") {
    LOUPE_ASSIGN_OR_RETURN(json ab, batches.Compare(id, run["models"][0]["id"].get<int64_t>(),
                                                    run["models"][1]["id"].get<int64_t>()));
    view["ab"] = AbView(ab);
  }
  return view;
}

Result<int64_t> AfterOf(const HttpRequest& req) {
  const std::string* v = req.Query("after");
  if (!v || v->empty()) return int64_t{0};
  return ParseId(v, "after");
}

HttpResponse ListPage(evals::BatchService& batches, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Batch tests", {{"Home", "/"}, {"Batch tests", ""}}, "llm", false, {"api.js", "test_set.js", "batch.js"}};
  Result<json> list = batches.List(100, 0);
  if (!list.ok()) return HtmlErrorPage(list.status(), frame);
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json runs = json::array();
  for (const json& r : (*list)["runs"]) {
    std::string names;
    for (const json& m : r["models"]) names += (names.empty() ? "" : ", ") + m["name"].get<std::string>();
    runs.push_back({{"id", r["id"]},
                    {"title", r["title"]},
                    {"status", r["status"]},
                    {"models", names},
                    {"cases", r["cases"]},
                    {"progress", std::to_string(r["answered"].get<int64_t>()) + " of " + std::to_string(r["cells"].get<int64_t>())},
                    {"passed", r["passed"]},
                    {"created", FormatMicrosUtc(static_cast<int64_t>(std::llround(r["create_time"].get<double>() * 1e6)))}});
  }
  json model_options = json::array();
  for (const LlmModel& m : *all) model_options.push_back({{"id", m.id}, {"name", m.name}});
  json view = {{"runs", runs}, {"has_runs", !runs.empty()}, {"models", model_options},
               {"has_models", !all->empty()}, {"can_edit", CanEdit(req)}};
  return HtmlPage(frame, LlmTabs("batch") + RenderTemplate("batches", view));
}

HttpResponse RunPage(evals::BatchService& batches, const HttpRequest& req) {
  PageFrame frame{"Batch test", {{"Home", "/"}, {"Batch tests", "/llm/batch"}}, "llm", false, {"api.js", "batch.js"}};
  Result<int64_t> id = PagePathId(req, "batch run");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<int64_t> after = AfterOf(req);
  if (!after.ok()) return HtmlErrorPage(after.status(), frame);
  Result<json> run = batches.Get(*id);
  if (!run.ok()) return HtmlErrorPage(run.status(), frame);
  Result<json> live = Live(batches, *id, *after);
  if (!live.ok()) return HtmlErrorPage(live.status(), frame);
  frame.title = (*run)["title"].get<std::string>() + " · Batch tests";
  frame.crumbs.push_back({(*run)["title"].get<std::string>(), ""});
  const json& o = (*run)["options"];
  std::string settings = "concurrency " + std::to_string(o.value("concurrency", 8)) + " per model";
  if (o.value("rpm", 0) > 0) settings += ", " + std::to_string(o.value("rpm", 0)) + " requests a minute per model";
  settings += o.value("cache", true) ? ", cache on" : ", cache off";
  if (o.contains("validators")) {
    settings += ", " + std::to_string(o["validators"].size()) + (o["validators"].size() == 1 ? " validator" : " validators") +
                " on every case";
  }
  if (o.contains("match_expected")) settings += ", answers checked against the expected output (" + o["match_expected"].get<std::string>() + ")";
  json view = {{"id", *id},
               {"title", (*run)["title"]},
               {"settings", settings},
               {"can_edit", CanEdit(req)},
               {"after", *after},
               {"live", RenderTemplate("batch_live", *live)}};
  return HtmlPage(frame, LlmTabs("batch") + RenderTemplate("batch", view));
}

// The self-contained HTML report: the summary and A/B section, then every result a page
// at a time (answers in full), with its own styles and no scripts.
StreamStart Report(evals::BatchService& batches, StreamWorkers& workers, const HttpRequest& req) {
  Result<int64_t> id = PagePathId(req, "batch run");
  if (!id.ok()) return RefuseStream(id.status());
  Result<json> head = Live(batches, *id, 0);
  if (!head.ok()) return RefuseStream(head.status());
  Result<json> run = batches.Get(*id, false);
  if (!run.ok()) return RefuseStream(run.status());
  (*head)["title"] = (*run)["title"];
  (*head)["generated"] = FormatMicrosUtc(NowMicros());
  (*head)["models"] = (*run)["models"];
  struct State {
    json head;
    json run;  // the run as read once (its options decide the judge column)
    int64_t after = 0;
    int stage = 0;  // 0 head, 1 rows
  };
  auto state = std::make_shared<State>();
  state->head = *head;
  state->run = *run;
  const int64_t run_id = *id;
  return DownloadStream(workers, "text/html; charset=utf-8", "batch-" + std::to_string(run_id) + "-report.html",
                        [&batches, state, run_id](std::string& chunk) -> Result<bool> {
                          if (state->stage == 0) {
                            chunk += RenderTemplate("batch_report_head", state->head);
                            state->stage = 1;
                            return true;
                          }
                          LOUPE_ASSIGN_OR_RETURN(json page, batches.Results(run_id, false, state->after, 500));
                          chunk += RenderTemplate("batch_report_rows", LiveView(state->run, page, state->after, true));
                          if (page["next_after"].is_number()) {
                            state->after = page["next_after"].get<int64_t>();
                            return true;
                          }
                          chunk += "</tbody></table>\n</body></html>\n";
                          return false;
                        });
}

}  // namespace

std::vector<Route> BatchPageRoutes(evals::BatchService& batches, llm::ModelRegistry& models, StreamWorkers& workers) {
  std::vector<Route> r;
  Route report{"GET", "/llm/batch/:id/report", nullptr};
  report.stream = [&batches, &workers](const HttpRequest& req) { return Report(batches, workers, req); };
  r.push_back(std::move(report));
  r.push_back({"GET", "/llm/batch", [&](const HttpRequest& req) { return ListPage(batches, models, req); }});
  r.push_back({"GET", "/llm/batch/:id", [&](const HttpRequest& req) { return RunPage(batches, req); }});
  // Progress, summary and the page of results alone, for the page to follow a run.
  r.push_back({"GET", "/llm/batch/:id/live", [&](const HttpRequest& req) {
    Result<int64_t> id = PagePathId(req, "batch run");
    if (!id.ok()) return JsonError(id.status());
    Result<int64_t> after = AfterOf(req);
    if (!after.ok()) return JsonError(after.status());
    Result<json> live = Live(batches, *id, *after);
    if (!live.ok()) return JsonError(live.status());
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = RenderTemplate("batch_live", *live);
    AddPageSecurityHeaders(resp);
    return resp;
  }});
  return r;
}

}  // namespace loupe
