#include "ui/model_pages.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "runs/search_progress.h"
#include "training/evaluation.h"
#include "training/model_catalog.h"
#include "training/params.h"
#include "training/search.h"
#include "training/task.h"
#include "ui/page.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using nlohmann::json;

// What a badge says: the same lower-case words as the tracking pages (the API keeps
// DashAI's names, in data-status).
const char* StatusLabel(WorkStatus s) {
  switch (s) {
    case WorkStatus::kNotStarted: return "not started";
    case WorkStatus::kDelivered: return "queued";
    case WorkStatus::kStarted: return "running";
    case WorkStatus::kFinished: return "finished";
    case WorkStatus::kError: return "error";
    case WorkStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

const char* StatusClass(WorkStatus s) {
  switch (s) {
    case WorkStatus::kFinished: return "finished";
    case WorkStatus::kError: return "error";
    case WorkStatus::kStarted: return "running";
    case WorkStatus::kDelivered: return "in-progress";
    default: return "stopped";
  }
}

std::string DatasetName(datasets::DatasetService& ds, int64_t id) {
  Result<DatasetRecord> d = ds.Get(id);
  return d.ok() ? d->name : "dataset " + std::to_string(id) + " (deleted)";
}

std::string Metric(double v) { return std::isfinite(v) ? FormatNumber(v, 4) : "—"; }

// The job to cancel for a run that is queued or training, else false.
json CancelJob(const RunRecord& r) {
  return (r.status == WorkStatus::kDelivered || r.status == WorkStatus::kStarted) && r.job_id ? json(r.job_id)
                                                                                                : json(false);
}

// Mustache sections treat any string as true; an empty one must be false to hide one.
json OrFalse(const std::string& s) { return s.empty() ? json(false) : json(s); }

HttpResponse SessionsPage(runs::RunService& runs, datasets::DatasetService& ds, const HttpRequest& req) {
  PageFrame frame{"Model sessions", {{"Home", "/"}, {"Models", ""}}, "models", false, {"forms.js", "models.js"}};
  Result<std::vector<ModelSessionRecord>> sessions = runs.ListSessions();
  if (!sessions.ok()) return HtmlErrorPage(sessions.status(), frame);
  Result<std::vector<DatasetRecord>> all = ds.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json datasets = json::array(), columns = json::object();
  for (const DatasetRecord& d : *all) {
    datasets.push_back({{"id", d.id}, {"name", d.name}, {"rows", d.rows}});
    columns[std::to_string(d.id)] = StoredJson(d.columns_json);
  }
  json tasks = json::array(), task_metrics = json::object();
  for (const training::TaskInfo& t : training::TaskCatalog()) {
    tasks.push_back({{"name", t.name}});
    task_metrics[t.name] = training::MetricsForTask(t.kind);
  }
  Result<std::vector<RunRecord>> run_list = runs.ListRuns(0);
  std::map<int64_t, int> run_counts;
  if (run_list.ok()) {
    for (const RunRecord& r : *run_list) ++run_counts[r.session_id];
  }
  json rows = json::array();
  for (auto it = sessions->rbegin(); it != sessions->rend(); ++it) {
    json spec = ParseBoundedJson(it->spec_json);
    rows.push_back({{"id", it->id}, {"name", it->name}, {"dataset_id", it->dataset_id},
                    {"dataset", DatasetName(ds, it->dataset_id)}, {"task", it->task},
                    {"output", spec["output_columns"].empty() ? "" : spec["output_columns"][0].get<std::string>()},
                    {"rows", spec.value("rows", 0)}, {"runs", run_counts[it->id]}, {"created", FormatMicrosUtc(it->create_time)}});
  }
  const std::string* pre = req.Query("dataset");
  json view = {{"sessions", rows}, {"has_sessions", !rows.empty()}, {"datasets", datasets}, {"has_datasets", !datasets.empty()},
               {"datasets_json", columns.dump()}, {"tasks", tasks}, {"tasks_json", task_metrics.dump()},
               {"preselect", pre ? *pre : ""}, {"open_wizard", rows.empty() || pre != nullptr}};
  return HtmlPage(frame, RenderTemplate("sessions", view));
}

HttpResponse SessionPage(runs::RunService& runs, datasets::DatasetService& ds, int64_t id) {
  PageFrame frame{"Session", {{"Home", "/"}, {"Models", "/sessions"}}, "models", false, {"forms.js", "models.js"}};
  Result<ModelSessionRecord> s = runs.GetSession(id);
  if (!s.ok()) return HtmlErrorPage(s.status(), frame);
  frame.title = s->name;
  frame.crumbs.push_back({s->name, ""});
  json spec = ParseBoundedJson(s->spec_json);
  training::TaskKind task = *training::ParseTask(s->task);
  json models = json::array();
  for (const training::ModelInfo& m : training::ModelCatalog()) {
    if (training::ModelFitsTask(m, task)) models.push_back({{"name", m.name}});
  }
  json optimizers = json::array();
  for (const auto& o : training::OptimizerCatalog()) optimizers.push_back({{"name", o.name}});
  // Goal metric choices: the validation metrics first, then the rest of the task's.
  std::vector<std::string> goals = spec.value("validation_metrics", std::vector<std::string>{});
  for (const std::string& m : training::MetricsForTask(task)) {
    if (std::find(goals.begin(), goals.end(), m) == goals.end()) goals.push_back(m);
  }
  // Columns: the validation and test metrics, as "validation F1", "test F1".
  std::vector<std::pair<std::string, std::string>> shown;
  for (const char* split : {"validation", "test"}) {
    for (const json& m : spec.value(std::string(split) + "_metrics", json::array())) shown.emplace_back(split, m.get<std::string>());
  }
  Result<std::vector<RunRecord>> list = runs.ListRuns(id);
  if (!list.ok()) return HtmlErrorPage(list.status(), frame);
  Result<std::map<int64_t, std::vector<RunMetric>>> final_metrics = runs.FinalRunMetrics(id);
  if (!final_metrics.ok()) return HtmlErrorPage(final_metrics.status(), frame);
  json rows = json::array();
  bool live = false;
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    const RunRecord& r = *it;
    live = live || r.status == WorkStatus::kDelivered || r.status == WorkStatus::kStarted;
    std::map<std::string, double> last;
    for (const RunMetric& x : (*final_metrics)[r.id]) last[x.split + " " + x.name] = x.value;
    json values = json::array();
    for (const auto& [split, name] : shown) {
      auto v = last.find(split + " " + name);
      values.push_back({{"text", v == last.end() ? "—" : Metric(v->second)},
                        {"raw", v == last.end() ? "" : FormatNumber(v->second, 17)}});
    }
    json result = ParseBoundedJson(r.result_json);
    double secs = result.value("train_seconds", std::nan(""));
    rows.push_back({{"id", r.id}, {"name", r.name}, {"model", r.model}, {"optimizer", OrFalse(r.optimizer)}, {"status", r.status},
                    {"status_class", StatusClass(r.status)}, {"status_label", StatusLabel(r.status)},
                    {"error", OrFalse(r.error)}, {"values", values},
                    {"seconds", std::isfinite(secs) ? FormatNumber(secs, 3) : "—"},
                    {"seconds_raw", std::isfinite(secs) ? FormatNumber(secs, 17) : ""},
                    {"experiment_id", r.experiment_id ? json(r.experiment_id) : json(false)},
                    {"cancel_job", CancelJob(r)}});
  }
  json headers = json::array();
  for (const auto& [split, name] : shown) headers.push_back(split + " " + name);
  // The leaderboard, with the baseline placed where it ranks.
  json board_rows = json::array();
  json board_metric = false;
  if (Result<json> board = runs.Leaderboard(id); board.ok()) {
    board_metric = (*board)["metric"];
    const bool higher = (*board)["higher_is_better"].get<bool>();
    const json& base = (*board)["baseline"];
    const bool has_base = base.is_object() && base["validation"].is_number();
    bool base_placed = !has_base;
    auto base_row = [&]() {
      return json{{"baseline", true}, {"rank", ""}, {"name", base["strategy"]}, {"model", "baseline"},
                  {"validation", Metric(base["validation"].get<double>())},
                  {"test", base["test"].is_number() ? Metric(base["test"].get<double>()) : "—"},
                  {"seconds", "—"}, {"verdict", false}, {"worse", false}, {"worse_test", false}};
    };
    for (const json& row : (*board)["rows"]) {
      const bool ranked = row["rank"].is_number();
      if (!base_placed && (!ranked || (higher ? row["validation"].get<double>() <= base["validation"].get<double>()
                                              : row["validation"].get<double>() >= base["validation"].get<double>()))) {
        board_rows.push_back(base_row());
        base_placed = true;
      }
      auto text = [](const json& v) { return v.is_number() ? Metric(v.get<double>()) : std::string("—"); };
      const bool worse = row["beats_baseline"].is_boolean() && !row["beats_baseline"].get<bool>();
      const bool worse_test = row["beats_baseline_test"].is_boolean() && !row["beats_baseline_test"].get<bool>();
      board_rows.push_back({{"baseline", false}, {"rank", ranked ? std::to_string(row["rank"].get<int>()) : "—"},
                            {"run_id", row["run_id"]}, {"name", row["name"]}, {"model", row["model"]},
                            {"validation", text(row["validation"])}, {"test", text(row["test"])},
                            {"seconds", row["train_seconds"].is_number() ? FormatNumber(row["train_seconds"].get<double>(), 3) : "—"},
                            {"worse", worse}, {"worse_test", worse_test}, {"status", row["status"]}});
    }
    if (!base_placed) board_rows.push_back(base_row());
  }
  const json& splits = spec["splits"];
  std::string split_text = FormatNumber(splits.value("train", 0.0), 3) + " / " + FormatNumber(splits.value("validation", 0.0), 3) +
                           " / " + FormatNumber(splits.value("test", 0.0), 3);
  json view = {{"id", id}, {"name", s->name}, {"task", s->task}, {"dataset_id", s->dataset_id},
               {"dataset", DatasetName(ds, s->dataset_id)},
               {"output", spec["output_columns"].empty() ? "" : spec["output_columns"][0].get<std::string>()},
               {"input_count", spec["input_columns"].size()}, {"split_text", split_text}, {"seed", spec.value("seed", 0)},
               {"stratify", spec.value("stratify", false)}, {"rows", spec.value("rows", 0)},
               {"dropped", spec.value("dropped_rows", 0)}, {"models", models}, {"optimizers", optimizers},
               {"goal_metrics", goals}, {"metrics_json", spec.dump()}, {"runs", rows}, {"has_runs", !rows.empty()},
               {"metric_headers", headers}, {"live", live ? "true" : "false"}, {"board", board_rows},
               {"board_metric", board_metric}, {"model_count", models.size()}};
  return HtmlPage(frame, RenderTemplate("session", view));
}

// "trial 7 of 30 · best Accuracy 0.9630 (trial 4) · 12.3 s elapsed · about 40 s left";
// models.js writes the same line from the API while the search runs.
std::string SearchProgressText(const json& p) {
  std::string text = "trial " + std::to_string(p["trials_done"].get<int64_t>()) + " of " +
                     std::to_string(p["trials_planned"].get<int64_t>());
  if (p["best_value"].is_number()) {
    text += " · best " + p["goal_metric"].get<std::string>() + " " + Metric(p["best_value"].get<double>()) + " (trial " +
            std::to_string(p["best_trial"].get<int64_t>()) + ")";
  }
  text += " · " + FormatNumber(p["elapsed_s"].get<double>(), 3) + " s elapsed";
  if (p["remaining_s"].is_number()) text += " · about " + FormatNumber(p["remaining_s"].get<double>(), 2) + " s left";
  return text;
}

HttpResponse RunPage(runs::RunService& runs, int64_t id) {
  PageFrame frame{"Run", {{"Home", "/"}, {"Models", "/sessions"}}, "models", false,
                  {"plotly-cartesian.min.js", "forms.js", "models.js"}};
  Result<RunRecord> r = runs.GetRun(id);
  if (!r.ok()) return HtmlErrorPage(r.status(), frame);
  Result<ModelSessionRecord> s = runs.GetSession(r->session_id);
  if (!s.ok()) return HtmlErrorPage(s.status(), frame);
  frame.title = r->name;
  frame.crumbs.push_back({s->name, "/sessions/" + std::to_string(s->id)});
  frame.crumbs.push_back({r->name, ""});
  json spec = ParseBoundedJson(s->spec_json);
  json result = ParseBoundedJson(r->result_json);
  if (!result.is_object()) result = json::object();

  // Metrics: one row per metric, one column per split.
  const std::vector<std::string> splits = {"train", "validation", "test"};
  std::map<std::string, std::map<std::string, double>> by_name;
  std::vector<std::string> order;
  if (Result<std::vector<RunMetric>> m = runs.RunMetrics(id); m.ok()) {
    for (const RunMetric& x : *m) {
      if (x.level != "LAST") continue;
      if (!by_name.count(x.name)) order.push_back(x.name);
      by_name[x.name][x.split] = x.value;
    }
  }
  // Each value with the baseline's beside it (runs trained before baselines have none).
  const json baseline = result.value("baseline", json::object());
  const json base_metrics = baseline.value("metrics", json::object());
  const json beats = baseline.value("beats", json::object());
  json metric_rows = json::array();
  for (const std::string& name : order) {
    json cells = json::array();
    for (const std::string& sp : splits) {
      auto v = by_name[name].find(sp);
      json cell = {{"text", v == by_name[name].end() ? "—" : Metric(v->second)}, {"baseline", false}, {"worse", false}};
      const json base = base_metrics.value(sp, json::object()).value(name, json());
      if (base.is_number()) cell["baseline"] = Metric(base.get<double>());
      const json beat = beats.value(sp, json::object()).value(name, json());
      if (beat.is_boolean() && !beat.get<bool>()) cell["worse"] = true;
      cells.push_back(cell);
    }
    metric_rows.push_back({{"name", name}, {"cells", cells}});
  }
  json verdict = false;
  if (const json v = baseline.value("verdict", json()); v.is_object()) {
    const std::string sp = v.value("split", ""), metric = v.value("metric", "");
    auto mine = by_name[metric].find(sp);
    const json base = base_metrics.value(sp, json::object()).value(metric, json());
    // Numbers that do beat the baseline (not on train): with a small split, a tie on one
    // metric can be one or two answers, so the banner names them instead of declaring
    // that nothing was learned.
    std::string others;
    for (const char* split : {"validation", "test"}) {
      const json split_beats = beats.value(split, json::object());  // named: items() of a temporary dangles
      for (const auto& [m, beat] : split_beats.items()) {
        if (!beat.is_boolean() || !beat.get<bool>() || (split == sp && m == metric)) continue;
        others += (others.empty() ? "" : ", ") + std::string(split) + " " + m;
      }
    }
    const int64_t split_rows = result.value("rows", json::object()).value(sp, int64_t{0});
    verdict = {{"beats", v.value("beats", false)}, {"split", sp}, {"metric", metric},
               {"value", mine == by_name[metric].end() ? "—" : Metric(mine->second)},
               {"baseline", base.is_number() ? Metric(base.get<double>()) : "—"},
               {"others", others.empty() ? json(false) : json(others)},
               {"split_rows", split_rows > 0 ? json(split_rows) : json(false)}};
  }
  json metric_errors = json::array();
  // Named, not chained: items() on a temporary would iterate a destroyed object.
  const json errors = result.value("metric_errors", json::object());
  for (const auto& [k, why] : errors.items()) metric_errors.push_back({{"key", k}, {"why", why}});
  json params = json::array();
  const json used = result.value("parameters", ParseBoundedJson(r->parameters_json));
  // The searched ranges as ranges (not the request's {"optimize": ...} object), the
  // best trial's values once the search is done.
  std::map<std::string, training::SearchDimension> ranges;
  if (const training::ModelInfo* info = training::FindModel(r->model)) {
    Result<training::ValidatedParams> v = training::ValidateAndTransform(info->params, ParseBoundedJson(r->parameters_json));
    if (v.ok()) {
      for (const training::SearchDimension& d : v->search_space) ranges[d.name] = d;
    }
  }
  for (const auto& [k, v] : used.items()) {
    auto range = ranges.find(k);
    std::string text;
    if (range != ranges.end()) {
      const std::string span = FormatNumber(range->second.lower, 6) + " – " + FormatNumber(range->second.upper, 6) +
                               (range->second.log_scale ? ", log scale" : "");
      text = v.is_object() ? "searched " + span : JsonValueText(v, true) + " (best of " + span + ")";
    } else {
      text = JsonValueText(v, true);
    }
    params.push_back({{"name", k}, {"value", text}});
  }
  // Confusion matrices (test first), shaded by each truth row's share.
  json classes = spec.value("classes", json::array());
  json confusion = json::array();
  for (const char* sp : {"test", "validation", "train"}) {
    const json& m = result.value("confusion_matrix", json::object()).value(sp, json());
    if (!m.is_array() || m.empty()) continue;
    json rows = json::array();
    for (size_t i = 0; i < m.size(); ++i) {
      int64_t total = 0;
      for (const json& c : m[i]) total += c.get<int64_t>();
      json cells = json::array();
      for (const json& c : m[i]) {
        double share = total ? static_cast<double>(c.get<int64_t>()) / static_cast<double>(total) : 0;
        cells.push_back({{"n", c}, {"alpha", FormatNumber(0.08 + 0.6 * share, 3)}});
      }
      rows.push_back({{"label", i < classes.size() ? classes[i] : json(i)}, {"cells", cells}});
    }
    confusion.push_back({{"split", sp}, {"classes", classes}, {"rows", rows}});
  }
  // Trials.
  json trials = json::array(), space = json::array();
  const json search = result.value("search", json());
  if (search.is_object()) {
    for (const json& d : search.value("search_space", json::array())) space.push_back(d["name"]);
  }
  const int64_t best = search.is_object() ? search.value("best_trial", -1) : -1;
  Result<std::vector<TrialRecord>> tr = runs.RunTrials(id);
  if (tr.ok()) {
    for (const TrialRecord& t : *tr) {
      json p = ParseBoundedJson(t.parameters_json), values = json::array();
      for (const json& name : space) values.push_back(JsonValueText(p.value(name.get<std::string>(), json()), true));
      trials.push_back({{"n", t.trial}, {"value", Metric(t.value)}, {"params", values}, {"seconds", FormatNumber(t.seconds, 3)},
                        {"best", t.trial == best}, {"error", OrFalse(t.error)}});
    }
  }
  // A search in progress: trial k of N, best so far, elapsed and left (models.js keeps it live).
  json progress = false;
  if (!r->optimizer.empty() && tr.ok() && (r->status == WorkStatus::kStarted || r->status == WorkStatus::kDelivered)) {
    const json p = runs::SearchProgress(*r, *tr, training::HigherIsBetter(r->goal_metric), NowMicros());
    const int64_t done = p["trials_done"].get<int64_t>(), planned = p["trials_planned"].get<int64_t>();
    progress = {{"done", done}, {"planned", planned}, {"percent", planned > 0 ? FormatNumber(100.0 * static_cast<double>(done) / static_cast<double>(planned), 3) : "0"},
                {"text", SearchProgressText(p)}};
  }
  json plots = json::array({"history", "slice"});
  if (space.size() >= 2) {
    plots.push_back("contour");
    plots.push_back("importance");
  }
  json inputs = json::array();
  if (result.contains("feature_spec")) {
    for (const json& c : result["feature_spec"]["inputs"]) {
      inputs.push_back({{"name", c["name"]}, {"type", c["type"]}, {"categories", c.value("categories", json::array())}});
    }
  }
  double secs = result.value("train_seconds", std::nan(""));
  json view = {{"id", id}, {"name", r->name}, {"model", r->model}, {"status", r->status},
               {"status_class", StatusClass(r->status)}, {"status_label", StatusLabel(r->status)},
               {"error", OrFalse(r->error)}, {"finished", r->status == WorkStatus::kFinished},
               {"experiment_id", r->experiment_id ? json(r->experiment_id) : json(false)},
               {"optimizer", OrFalse(r->optimizer)}, {"goal", r->goal_metric}, {"cancel_job", CancelJob(*r)}, {"trial_count", trials.size()},
               {"session", s->name}, {"session_id", s->id}, {"train_seconds", std::isfinite(secs) ? json(FormatNumber(secs, 3)) : json(false)},
               {"splits", splits}, {"metric_rows", metric_rows}, {"has_metrics", !metric_rows.empty()},
               {"metric_errors", metric_errors}, {"params", params}, {"confusion", confusion}, {"trials", trials},
               {"space", space}, {"plots", plots}, {"inputs_json", inputs.dump()}, {"task", s->task},
               {"baseline_strategy", OrFalse(baseline.value("strategy", ""))}, {"verdict", verdict},
               {"best_rule", search.is_object() ? OrFalse(search.value("best_rule", "")) : json(false)},
               {"progress", progress},
               {"pixel_max", result.contains("pixel_max") ? FormatNumber(result.value("pixel_max", 255.0), 17) : "255"},
               {"pixel_background", FormatNumber(result.value("pixel_background", 0.0), 17)}};
  return HtmlPage(frame, RenderTemplate("run", view));
}

Handler PageWithId(const std::string& what, std::function<HttpResponse(int64_t)> f) {
  return [what, f](const HttpRequest& req) {
    Result<int64_t> id = PagePathId(req, what);
    if (!id.ok()) return HtmlErrorPage(id.status(), PageFrame{"Error", {{"Home", "/"}}});
    return f(*id);
  };
}

}  // namespace

std::vector<Route> ModelPageRoutes(runs::RunService& runs, datasets::DatasetService& ds) {
  std::vector<Route> r;
  r.push_back({"GET", "/sessions", [&runs, &ds](const HttpRequest& req) { return SessionsPage(runs, ds, req); }});
  r.push_back({"GET", "/sessions/:id", PageWithId("session", [&runs, &ds](int64_t id) { return SessionPage(runs, ds, id); })});
  r.push_back({"GET", "/runs/:id", PageWithId("run", [&runs](int64_t id) { return RunPage(runs, id); })});
  return r;
}

}  // namespace loupe
