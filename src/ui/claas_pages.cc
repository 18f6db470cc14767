#include "ui/claas_pages.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include "claas/eval_results.h"
#include "claas/feedback_log.h"
#include "common/path_rule.h"
#include "ui/page.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using nlohmann::json;
namespace cl = claas;

constexpr size_t kPreviewChars = 80;

// Sets `key` only for non-empty text: a mustache section on it then means "present".
void SetText(json& view, const char* key, const std::string& text) {
  if (!text.empty()) view[key] = text;
}

// The first `n` characters (not bytes) of UTF-8 text, with an ellipsis when cut.
std::string Preview(const std::string& text, size_t n) {
  size_t chars = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == n) break;
      ++chars;
    }
  }
  std::string out = text.substr(0, i);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return i < text.size() ? out + "…" : out;
}

// A number as CLaaS's eval page prints it: fixed decimals (3; 1 for times), and a
// non-finite one as Python's format prints it: nan, inf, -inf. "—" when absent.
std::string ClaasFixed(std::optional<double> v, int decimals) {
  if (!v) return "—";
  if (std::isnan(*v)) return "nan";
  if (std::isinf(*v)) return *v > 0 ? "inf" : "-inf";
  char buf[400];  // the largest double has 309 digits before the point
  auto res = std::to_chars(buf, buf + sizeof(buf), *v, std::chars_format::fixed, decimals);
  return std::string(buf, res.ptr);  // -0.000 as Python writes it
}

// A float as Python's repr writes it (CLaaS's files come from Python): the shortest digits
// that read back as it, in fixed notation for exponents -4 to 15 (0.0005, 1.0, -0.0) and
// scientific beyond (1e-05, 1.5e+16); nan, inf, -inf.
std::string PythonRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-1.25e-05"
  const bool negative = sci[0] == '-';
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  const int exp = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ex[16];
  std::snprintf(ex, sizeof(ex), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return out + ex;
}

// JSON as Python's json.dumps writes it, so a non-finite float nested in an object reads
// NaN / Infinity / -Infinity as in the file, not null (which means "missing" there).
void AppendPythonJson(const json& v, std::string& out) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : PythonRepr(d);
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace) + ": ";
      AppendPythonJson(it.value(), out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      AppendPythonJson(v[i], out);
    }
    out += ']';
  } else {
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

// Detail panels show values in full, as Python writes them: numbers as repr, strings
// bare, objects and arrays as json.dumps.
std::string DetailText(const json& v) {
  if (v.is_number_float()) return PythonRepr(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  AppendPythonJson(v, out);
  return out;
}

json KeyValues(const json& obj) {
  json rows = json::array();
  if (!obj.is_object()) return rows;
  for (auto it = obj.begin(); it != obj.end(); ++it) rows.push_back({{"k", it.key()}, {"v", DetailText(it.value())}});
  return rows;
}

// `note`: what the reader should know about these files beyond their reasons.
std::string SkippedHtml(const std::vector<cl::SkippedFile>& skipped, const std::string& note = "") {
  json view = {{"has_skipped", !skipped.empty()}, {"skipped_count", skipped.size()}, {"skipped", json::array()},
               {"note", note}};
  for (const auto& s : skipped) view["skipped"].push_back({{"name", s.name}, {"reason", s.reason}});
  return RenderTemplate("skipped", view);
}

std::string StatusClass(const std::string& status) {
  if (status == "ok") return "ok";
  if (status == "error") return "error";
  return "stopped";
}

json BatchView(const cl::FeedbackBatch& b, size_t index, const std::vector<cl::EngineMode>& modes, int colspan) {
  json v = {{"index", index}, {"request_id", b.request_id}, {"timestamp", b.timestamp_utc},
            {"status", b.status.empty() ? "unknown" : b.status}, {"status_class", StatusClass(b.status)},
            {"phase", b.phase}, {"lora_id", b.lora_id}, {"sample_count", b.samples.size()}, {"colspan", colspan}};
  v["request_id_short"] = b.request_id.size() > 12 ? b.request_id.substr(0, 12) + "…" : b.request_id;
  if (b.request_id.empty()) v["request_id_short"] = b.file_name;
  json timing = json::array();
  for (const char* k : {"total", "distill", "sleep", "wake"}) {
    auto t = b.Timing(k);
    timing.push_back(t ? std::to_string(*t) : "—");
  }
  v["timing"] = timing;
  json timing_all = json::array();
  for (const auto& [k, t] : b.timing_ms) timing_all.push_back({{"k", k}, {"v", t ? std::to_string(*t) : "—"}});
  v["timing_all"] = timing_all;
  json metric_values = json::array();
  for (cl::EngineMode mode : modes) {
    for (const auto& [title, key] : cl::MetricColumns(mode)) {
      std::optional<double> value;
      if (b.mode == mode) {
        for (const auto& m : b.metrics) {
          if (m.key == key) value = m.value;
        }
      }
      metric_values.push_back(FormatNumber(value));
    }
  }
  v["metric_values"] = metric_values;
  SetText(v, "mode", cl::EngineModeName(b.mode));
  v["has_metadata"] = b.metadata.is_object() && !b.metadata.empty();
  v["metadata"] = KeyValues(b.metadata);
  v["slept"] = b.vllm_slept ? (*b.vllm_slept ? "yes" : "no") : "—";
  v["woke"] = b.vllm_woke ? (*b.vllm_woke ? "yes" : "no") : "—";
  SetText(v, "error", b.error);
  json samples = json::array();
  for (size_t i = 0; i < b.samples.size(); ++i) {
    const cl::FeedbackSample& s = b.samples[i];
    json sv = {{"n", i + 1}, {"of", b.samples.size()}, {"preview", Preview(s.prompt, kPreviewChars)},
               {"prompt", s.prompt}, {"response", s.response}, {"feedback", s.feedback}};
    SetText(sv, "system_prompt", s.system_prompt);
    SetText(sv, "chat_prompt", s.chat_prompt);
    SetText(sv, "teacher", s.teacher_scored_text);
    samples.push_back(std::move(sv));
  }
  v["samples"] = samples;
  return v;
}

HttpResponse FeedbackDashboard(const ClaasPageOptions& opt, const HttpRequest& req) {
  PageFrame frame{"Training feedback", {{"Home", "/"}, {"Training feedback", ""}}, "feedback", false, {"expand.js"}};
  int64_t page = ParsePageNumber(req.Query("page"), 1);
  int64_t per_page = ParsePageNumber(req.Query("per_page"), 20);
  Result<cl::FeedbackPage> result = cl::ReadFeedbackPage(opt.feedback_dir, page, per_page);
  if (!result.ok()) return HtmlErrorPage(result.status(), frame);
  const cl::FeedbackPage& fp = *result;

  // Named metric columns for each engine mode present on the page, local first.
  std::vector<cl::EngineMode> modes;
  for (cl::EngineMode m : {cl::EngineMode::kLocal, cl::EngineMode::kTinker}) {
    for (const auto& b : fp.batches) {
      if (b.mode == m) {
        modes.push_back(m);
        break;
      }
    }
  }
  json cols = json::array();
  for (cl::EngineMode m : modes) {
    for (const auto& [title, key] : cl::MetricColumns(m)) {
      cols.push_back({{"title", title}, {"key", key}, {"mode", cl::EngineModeName(m)}});
    }
  }
  int colspan = 9 + static_cast<int>(cols.size());
  json view = {{"dir", opt.feedback_dir}, {"folder_missing", fp.folder_missing},
               {"has_batches", !fp.batches.empty()}, {"metric_cols", cols}, {"batches", json::array()}};
  view["no_batches"] = fp.batches.empty() && !fp.folder_missing;
  for (size_t i = 0; i < fp.batches.size(); ++i) view["batches"].push_back(BatchView(fp.batches[i], i, modes, colspan));
  // The total counts the folder's files, as CLaaS's does (it reads only a page's files), so
  // a file that cannot be read is in it: said where those files are listed.
  view["skipped_html"] = SkippedHtml(fp.skipped, "They are not batches, but the total below counts files, so it counts them.");
  view["pagination"] = PaginationNav(fp.page, "/v1/dashboard", req.query);
  return HtmlPage(frame, RenderTemplate("claas_dashboard", view));
}

std::string Anchor(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out;
}

// Rollout transcripts, whole (upstream cuts them to 200 characters).
json RolloutsView(const std::vector<cl::Rollout>& rollouts) {
  json out = json::array();
  for (size_t i = 0; i < rollouts.size(); ++i) {
    const cl::Rollout& r = rollouts[i];
    json rv = {{"n", i + 1}, {"metric", r.metric.empty() ? "rollout" : r.metric}, {"messages", json::array()}};
    for (const auto& m : r.messages) rv["messages"].push_back({{"role", m.role}, {"content", m.content}});
    if (!r.metadata.is_null() && !r.metadata.empty()) rv["meta"] = DetailText(r.metadata);
    out.push_back(std::move(rv));
  }
  return out;
}

json StepView(const cl::EvalStep& s, const std::string& detail_id) {
  json v = {{"detail_id", detail_id}, {"step", s.step}, {"timestamp", s.timestamp},
            {"margin", ClaasFixed(s.eval.margin, 3)}, {"delta", ClaasFixed(s.eval.margin_delta, 3)},
            {"compliance", ClaasFixed(s.eval.compliance, 3)}, {"loss", ClaasFixed(s.loss, 3)},
            {"loss_key", s.sdpo_mode == cl::EngineMode::kTinker ? "adv_mean" : "distill_loss"},
            {"time", ClaasFixed(s.timing_s, 1)}, {"feedback", s.feedback}, {"prompt", s.prompt},
            {"response", s.response}};
  SetText(v, "mode", cl::EngineModeName(s.sdpo_mode));
  v["has_sdpo"] = s.sdpo_metrics.is_object() && !s.sdpo_metrics.empty();
  v["sdpo"] = KeyValues(s.sdpo_metrics);
  v["eval"] = KeyValues(s.eval.raw);
  v["rollouts"] = RolloutsView(s.eval.rollouts);
  return v;
}

// `anchors`: those the page has given out, so two runs both named "evals" (results_dir
// itself and a folder in it) never share the ids their Expand buttons and links target.
json RunView(const cl::EvalRun& run, bool open, std::set<std::string>& anchors) {
  std::string run_anchor = Anchor(run.label);
  for (int n = 2; !anchors.insert(run_anchor).second; ++n) run_anchor = Anchor(run.label) + "-" + std::to_string(n);
  char when[32] = "";
  std::time_t t = static_cast<std::time_t>(run.mtime);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
  // A run in progress that has written nothing for an hour has likely died: said so, rather
  // than "in progress" forever (CLaaS writes a step every few minutes).
  constexpr int64_t kStalledSeconds = 3600;
  const bool stalled = run.in_progress && std::time(nullptr) - run.mtime > kStalledSeconds;
  json v = {{"id", run.label}, {"anchor", run_anchor}, {"open", open}, {"in_progress", run.in_progress && !stalled},
            {"stalled", stalled},
            {"mtime", when}, {"has_summary", !run.summary.empty()}, {"has_plots", !run.plots.empty()}};
  v["skipped_html"] = SkippedHtml(run.skipped);
  json summary = json::array();
  for (const auto& r : run.summary) {
    summary.push_back({{"preference", r.preference}, {"lora_id", r.lora_id}, {"margin_delta", ClaasFixed(r.margin_delta, 3)},
                       {"compliance", ClaasFixed(r.compliance, 3)}, {"capability", ClaasFixed(r.capability_ratio, 3)},
                       {"anchor", run_anchor + "-" + Anchor(r.preference)}});
  }
  v["summary"] = summary;
  json plots = json::array();
  for (const auto& [name, data] : run.plots) plots.push_back({{"name", name}, {"data", data}});
  v["plots"] = plots;
  json prefs = json::array();
  for (const auto& p : run.preferences) {
    std::string anchor = run_anchor + "-" + Anchor(p.name);
    json pv = {{"name", p.name}, {"anchor", anchor}, {"has_steps", !p.steps.empty()}, {"steps", json::array()}};
    SetText(pv, "lora_id", p.lora_id);
    // The whole baseline, as upstream shows it: its metrics and its rollouts.
    if (p.baseline) pv["baseline"] = {{"rows", KeyValues(p.baseline->raw)}, {"baseline_rollouts", RolloutsView(p.baseline->rollouts)}};
    for (size_t i = 0; i < p.steps.size(); ++i) {
      pv["steps"].push_back(StepView(p.steps[i], "step-" + anchor + "-" + std::to_string(i)));
    }
    prefs.push_back(std::move(pv));
  }
  v["preferences"] = prefs;
  return v;
}

HttpResponse EvalDashboard(const ClaasPageOptions& opt, const HttpRequest& req) {
  PageFrame frame{"Evals", {{"Home", "/"}, {"Evals", ""}}, "eval", false, {"expand.js"}};
  const std::string* requested = req.Query("results_dir");
  Result<std::string> dir = ResolveInsideRoot(requested ? *requested : opt.evals_root, opt.evals_root);
  if (!dir.ok()) return HtmlErrorPage(Status::BadRequest("results_dir: " + dir.status().message()), frame);
  int64_t page = ParsePageNumber(req.Query("page"), 1);
  int64_t per_page = ParsePageNumber(req.Query("per_page"), 20);
  Result<cl::EvalPage> result = cl::ReadEvalPage(*dir, page, per_page);
  if (!result.ok()) return HtmlErrorPage(result.status(), frame);
  json view = {{"dir", requested ? *requested : opt.evals_root}, {"folder_missing", result->folder_missing},
               {"no_runs", result->runs.empty() && !result->folder_missing}, {"runs", json::array()}};
  std::set<std::string> anchors;
  for (size_t i = 0; i < result->runs.size(); ++i) view["runs"].push_back(RunView(result->runs[i], i == 0, anchors));
  view["pagination"] = PaginationNav(result->page, "/v1/eval", req.query);
  return HtmlPage(frame, RenderTemplate("claas_eval", view));
}

}  // namespace

std::vector<Route> ClaasPageRoutes(ClaasPageOptions options) {
  std::vector<Route> r;
  r.push_back({"GET", "/v1/dashboard", [options](const HttpRequest& req) { return FeedbackDashboard(options, req); }});
  r.push_back({"GET", "/v1/eval", [options](const HttpRequest& req) { return EvalDashboard(options, req); }});
  return r;
}

}  // namespace loupe
