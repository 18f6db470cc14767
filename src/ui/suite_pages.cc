// Regression suites' pages: /llm/suites (suites with their last verdict, and the form that
// makes one), /llm/suites/:id (the tracking chart of scores over model versions, the runs,
// "run now"), /llm/suites/:id/runs/:run (a run's verdict and its diff against the previous
// version, followed live while it runs by static/suite.js).
#include "ui/suite_pages.h"

#include <cmath>
#include <cstdio>

#include "common/display_text.h"
#include "common/time_util.h"

#include "ui/ab_view.h"
#include "ui/llm_format.h"
#include "ui/llm_pages.h"
#include "ui/page.h"
#include "ui/suite_chart.h"
#include "ui/template_renderer.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

std::string When(const json& seconds) {
  if (!seconds.is_number()) return "—";
  return FormatMicrosUtc(static_cast<int64_t>(std::llround(seconds.get<double>() * 1e6)));
}

std::string Pct(const json& v) { return v.is_number() ? FormatPercent(v.get<double>()) : "—"; }

std::string Reason(const std::string& r) {
  if (r == "new_version") return "new version";
  if (r == "schedule") return "scheduled";
  if (r == "new_run") return "new no-code run";
  if (r == "ci") return "CI";
  return r.empty() ? "—" : r;
}

std::string Schedule(int64_t minutes) {
  if (minutes <= 0) return "on demand";
  if (minutes % 1440 == 0) return "every " + (minutes == 1440 ? std::string("day") : std::to_string(minutes / 1440) + " days");
  if (minutes % 60 == 0) return "every " + (minutes == 60 ? std::string("hour") : std::to_string(minutes / 60) + " hours");
  return "every " + std::to_string(minutes) + " minutes";
}

// "+4.0 pts" / "−2.0 pts" / "±0 pts"
std::string Points(double change) {
  char buf[32];
  if (std::fabs(change) < 0.0005) return "±0 pts";
  std::snprintf(buf, sizeof buf, "%+.1f pts", change * 100);
  return buf;
}


json RunRow(const json& r) {
  const bool done = r["status"] == "done";
  return {{"id", r["id"]},
          {"model", r["model_name"]},
          {"reason", Reason(r.value("reason", std::string()))},
          {"status", r["status"]},
          {"progress", std::to_string(r["answered"].get<int64_t>()) + " of " + std::to_string(r["cases"].get<int64_t>())},
          {"score", done ? Pct(r["score"]) : "—"},
          {"passed", done ? std::to_string(r["passed"].get<int64_t>()) + " of " + std::to_string(r["cases"].get<int64_t>()) : "—"},
          {"met", r["met_threshold"] == true},
          {"missed", r["met_threshold"] == false},
          {"created", When(r["create_time"])}};
}

json CaseList(const json& result, const char* key, const char* title, bool show_why) {
  const std::string count_key = std::string(key) + "_count";
  const int64_t count = result.value(count_key, int64_t{0});
  json items = result.value(key, json::array());
  return {{"title", title},
          {"count", count},
          {"items", items},
          {"show_why", show_why},
          {"more", count > static_cast<int64_t>(items.size()) ? json(count - static_cast<int64_t>(items.size())) : json(false)}};
}

json LiveView(const json& r) {
  const json& run = r["run"];
  json lists = json::array();
  const bool has_baseline = r["baseline"].is_object();
  for (auto [key, title] : {std::pair{"newly_failing", "Newly failing"}, std::pair{"newly_passing", "Newly passing"},
                            std::pair{"still_failing", "Still failing"},
                            std::pair{"failing_new_cases", has_baseline ? "Failing, not in the baseline" : "Failing"}}) {
    json l = CaseList(r, key, title, std::string(key) != "newly_passing");
    if (l["count"].get<int64_t>() > 0) lists.push_back(l);
  }
  json baseline = false;
  if (r["baseline"].is_object()) {
    const json& b = r["baseline"];
    baseline = {{"run_id", b["run_id"]},
                {"model", b["model_name"]},
                {"same_model", b["same_model"]},
                {"score", Pct(b["score"])},
                {"passed", std::to_string(b["passed"].get<int64_t>()) + " of " + std::to_string(b["cases"].get<int64_t>())},
                {"change", r["change"].is_number() ? Points(r["change"].get<double>()) : "—"}};
  }
  std::string ci = "—";
  if (r["score_ci95"].is_array()) ci = FormatPercent(r["score_ci95"][0].get<double>()) + " – " + FormatPercent(r["score_ci95"][1].get<double>());
  const bool done = r["done"].get<bool>();
  json ab = false;
  if (r["ab"].is_object() && r["done"].get<bool>()) ab = AbView(r["ab"]);
  return {{"ab", ab},
          {"status", run["status"]},
          {"running", run["status"] == "running"},
          {"done", done},
          {"run_id", run["id"]},
          {"model", run["model_name"]},
          {"reason", Reason(run.value("reason", std::string()))},
          {"cases", r["cases"]},
          {"decided", r["decided"]},
          {"percent_done", r["cases"].get<int64_t>() > 0 ? 100 * r["decided"].get<int64_t>() / r["cases"].get<int64_t>() : 0},
          {"passed", r["passed"]},
          {"failed", r["failed"]},
          {"errors", r["errors"].get<int64_t>() > 0
                         ? json(r["errors"].get<int64_t>() == 1 ? std::string("1 case")
                                                                : std::to_string(r["errors"].get<int64_t>()) + " cases")
                         : json(false)},
          {"score", Pct(r["score"])},
          {"ci", ci},
          {"threshold", FormatPercent(r["threshold"].get<double>())},
          {"own_bar", r["threshold"] != r["suite"]["threshold"]},
          {"met", r["met_threshold"] == true},
          {"missed", r["met_threshold"] == false},
          {"baseline", baseline},
          {"lists", lists},
          {"has_lists", !lists.empty()}};
}

HttpResponse ListPage(evals::SuiteService& suites, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Regression suites", {{"Home", "/"}, {"Regression suites", ""}}, "llm", false, {"api.js", "test_set.js", "suite.js"}};
  Result<json> list = suites.List();
  if (!list.ok()) return HtmlErrorPage(list.status(), frame);
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json rows = json::array();
  for (const json& s : (*list)["suites"]) {
    json last = s["last_run"].is_object() ? RunRow(s["last_run"]) : json(false);
    rows.push_back({{"id", s["id"]},
                    {"suite_id", s["id"]},
                    {"name", s["name"]},
                    {"base", s["base_model"].is_object() && s["base_model"]["name"].is_string() ? s["base_model"]["name"] : json("—")},
                    {"cases", s["cases"]},
                    {"threshold", FormatPercent(s["threshold"].get<double>())},
                    {"schedule", Schedule(s["schedule_minutes"].get<int64_t>()) +
                                     (s["base_model"].is_object() ? "; each new version" : "") +
                                     (s["session_id"].is_number() ? "; each new run of session " + s["session_id"].dump() : "")},
                    {"last", last}});
  }
  json model_options = json::array();
  for (const LlmModel& m : *all) model_options.push_back({{"id", m.id}, {"name", m.name}});
  json view = {{"suites", rows}, {"has_suites", !rows.empty()}, {"models", model_options},
               {"has_models", !all->empty()}, {"can_edit", CanEdit(req)}};
  return HtmlPage(frame, LlmTabs("suites") + RenderTemplate("suites", view));
}

HttpResponse SuitePage(evals::SuiteService& suites, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Regression suite", {{"Home", "/"}, {"Regression suites", "/llm/suites"}}, "llm", false,
                  {"api.js", "suite.js"}};
  Result<int64_t> id = PagePathId(req, "suite");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<json> suite = suites.Get(*id);
  if (!suite.ok()) return HtmlErrorPage(suite.status(), frame);
  Result<json> history = suites.History(*id);
  if (!history.ok()) return HtmlErrorPage(history.status(), frame);
  Result<json> runs = suites.Runs(*id, 50);
  if (!runs.ok()) return HtmlErrorPage(runs.status(), frame);
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  const json& s = *suite;
  frame.title = s["name"].get<std::string>() + " · Regression suites";
  frame.crumbs.push_back({s["name"].get<std::string>(), ""});
  json versions = json::array();
  for (const json& v : (*history)["versions"]) {
    versions.push_back({{"model", v["model_name"]},
                        {"score", Pct(v["score"])},
                        {"passed", v["passed"].is_number() ? std::to_string(v["passed"].get<int64_t>()) + " of " +
                                                                 std::to_string(v["cases"].get<int64_t>())
                                                           : "—"},
                        {"met", v["score"].is_number() && v["score"].get<double>() >= s["threshold"].get<double>()},
                        {"missed", v["score"].is_number() && v["score"].get<double>() < s["threshold"].get<double>()},
                        {"judge", v["judge_mean"].is_number() ? FormatNumber(v["judge_mean"].get<double>(), 3) : "—"},
                        {"runs", v["runs"]},
                        {"run_id", v["run_id"].is_number() ? v["run_id"] : json(false)}});
  }
  json run_rows = json::array();
  for (const json& r : (*runs)["runs"]) run_rows.push_back(RunRow(r));
  json model_options = json::array();
  for (const LlmModel& m : *all) model_options.push_back({{"id", m.id}, {"name", m.name}});
  std::string base = s["base_model"].is_object() && s["base_model"]["name"].is_string()
                         ? s["base_model"]["name"].get<std::string>()
                         : "";
  std::string settings = std::to_string(s["cases"].get<int64_t>()) + " cases; passes when at least " +
                         FormatPercent(s["threshold"].get<double>()) + " pass";
  if (s["judged"] == true) settings += "; every answer judged";
  settings += "; " + Schedule(s["schedule_minutes"].get<int64_t>());
  if (!base.empty()) settings += "; runs by itself on each new version of " + base;
  if (s["session_id"].is_number()) settings += "; tests each new finished run of no-code session " + s["session_id"].dump();
  const std::string chart = SuiteTrackingSvg(*history);
  json view = {{"suite_id", *id},
               {"name", s["name"]},
               {"description", s["description"].get<std::string>().empty() ? json(false) : s["description"]},
               {"settings", settings},
               {"next", s["next_scheduled"].is_number() ? json(When(s["next_scheduled"])) : json(false)},
               {"last_error", s["last_error"].is_string() ? s["last_error"] : json(false)},
               {"chart", chart.empty() ? json(false) : json(chart)},
               {"versions", versions},
               {"has_versions", !versions.empty()},
               {"runs", run_rows},
               {"has_runs", !run_rows.empty()},
               {"models", model_options},
               {"has_models", !all->empty()},
               {"can_edit", CanEdit(req)},
               {"cli", "loupe eval run --suite " + ShellQuote(s["name"].get<std::string>()) + " --model MODEL --fail-under " +
                           [&] {
                             char buf[16];
                             std::snprintf(buf, sizeof buf, "%g", s["threshold"].get<double>());
                             return std::string(buf);
                           }()}};
  return HtmlPage(frame, LlmTabs("suites") + RenderTemplate("suite", view));
}

Result<std::pair<int64_t, int64_t>> RunIds(const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(int64_t id, PagePathId(req, "suite"));
  LOUPE_ASSIGN_OR_RETURN(int64_t run, ParseId(req.Param("run"), "run id"));
  return std::pair{id, run};
}

HttpResponse RunPage(evals::SuiteService& suites, const HttpRequest& req) {
  PageFrame frame{"Suite run", {{"Home", "/"}, {"Regression suites", "/llm/suites"}}, "llm", false, {"api.js", "suite.js"}};
  Result<std::pair<int64_t, int64_t>> ids = RunIds(req);
  if (!ids.ok()) return HtmlErrorPage(ids.status(), frame);
  Result<json> result = suites.RunResult(ids->first, ids->second);
  if (!result.ok()) return HtmlErrorPage(result.status(), frame);
  const std::string name = (*result)["suite"]["name"].get<std::string>();
  const std::string model = (*result)["run"]["model_name"].get<std::string>();
  frame.title = name + " on " + model + " · Regression suites";
  frame.crumbs.push_back({name, "/llm/suites/" + std::to_string(ids->first)});
  frame.crumbs.push_back({"run " + std::to_string(ids->second), ""});
  json view = {{"id", ids->first}, {"run_id", ids->second}, {"name", name}, {"model", model},
               {"live", RenderTemplate("suite_run_live", LiveView(*result))}};
  return HtmlPage(frame, LlmTabs("suites") + RenderTemplate("suite_run", view));
}

}  // namespace

std::vector<Route> SuitePageRoutes(evals::SuiteService& suites, llm::ModelRegistry& models) {
  std::vector<Route> r;
  r.push_back({"GET", "/llm/suites", [&](const HttpRequest& req) { return ListPage(suites, models, req); }});
  r.push_back({"GET", "/llm/suites/:id", [&](const HttpRequest& req) { return SuitePage(suites, models, req); }});
  r.push_back({"GET", "/llm/suites/:id/runs/:run", [&](const HttpRequest& req) { return RunPage(suites, req); }});
  // The verdict, baseline, lists and A/B as one self-contained file (styles inline, no
  // scripts), to attach to a CI failure.
  r.push_back({"GET", "/llm/suites/:id/runs/:run/report", [&](const HttpRequest& req) {
    Result<std::pair<int64_t, int64_t>> ids = RunIds(req);
    if (!ids.ok()) return JsonError(ids.status());
    Result<json> result = suites.RunResult(ids->first, ids->second);
    if (!result.ok()) return JsonError(result.status());
    json view = {{"name", (*result)["suite"]["name"]},
                 {"model", (*result)["run"]["model_name"]},
                 {"run_id", ids->second},
                 {"generated", FormatMicrosUtc(NowMicros())},
                 {"live", RenderTemplate("suite_run_live", LiveView(*result))}};
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = RenderTemplate("suite_report", view);
    resp.headers.push_back({"Content-Disposition", "attachment; filename=\"suite-" + std::to_string(ids->first) +
                                                       "-run-" + std::to_string(ids->second) + "-report.html\""});
    AddPageSecurityHeaders(resp);
    return resp;
  }});
  // The verdict and the diff alone, for the page to follow a run.
  r.push_back({"GET", "/llm/suites/:id/runs/:run/live", [&](const HttpRequest& req) {
    Result<std::pair<int64_t, int64_t>> ids = RunIds(req);
    if (!ids.ok()) return JsonError(ids.status());
    Result<json> result = suites.RunResult(ids->first, ids->second);
    if (!result.ok()) return JsonError(result.status());
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = RenderTemplate("suite_run_live", LiveView(*result));
    AddPageSecurityHeaders(resp);
    return resp;
  }});
  return r;
}

}  // namespace loupe
