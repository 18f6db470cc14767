// Model sessions, runs, components and predictions over HTTP (DashAI's flow):
//   GET  /api/v1/component/?select_types=Model        Task | Model | Metric | Optimizer | Explorer;
//                                                      repeatable, comma-separated or a JSON array
//   GET  /api/v1/component/{name}
//   POST /api/v1/model-session/                        {dataset_id, task_name, input_columns, output_columns,
//                                                      train_metrics?, validation_metrics?, test_metrics?,
//                                                      splits?, seed?, stratify?, name?}
//   GET  /api/v1/model-session/  and  /api/v1/model-session/{id}
//   GET  /api/v1/dataset/{id}/session-guess[?output=]  the wizard's guess: task, output, inputs, columns
//                                                      left out and why, class balance
//   GET  /api/v1/model-session/{id}/leaderboard        runs ranked by the first validation metric, with
//                                                      the baseline (runs/leaderboard.h)
//   POST /api/v1/model-session/{id}/leaderboard        trains every fitting model with its defaults (one
//                                                      ModelJob each; models already run are skipped)
//   POST /api/v1/run/                                  {model_session_id, model_name, parameters?, optimizer_name?,
//                                                      optimizer_parameters?, goal_metric?, name?}
//   GET  /api/v1/run/?model_session_id=N               runs with their final metrics
//   GET  /api/v1/run/{id}                              details: metrics per split, trials, result
//   GET  /api/v1/run/plot/{id}/{kind}                  history | slice | contour | importance | 1-4
//   POST /api/v1/run/{id}/predict[?format=csv]         {"rows": [{...}]} or a multipart "file"; each
//                                                      prediction carries warnings (blank inputs, unseen
//                                                      categories); a file's predictions as CSV with format=csv
//   GET  /api/v1/run/{id}/model                        the trained model file
//   DELETE /api/v1/run/{id}, /api/v1/model-session/{id} (409 while a run is queued or training)
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <set>

#include "common/bounded_json.h"
#include "common/file_util.h"
#include "common/time_util.h"
#include "explorers/explorer_catalog.h"
#include "jobs/job_queue.h"
#include "runs/search_progress.h"
#include "training/evaluation.h"
#include "training/metrics.h"
#include "training/model_catalog.h"
#include "training/search.h"
#include "training/task.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/multipart.h"

namespace loupe {

namespace {

using nlohmann::json;
using runs::RunService;

json Time(int64_t micros) { return micros ? json(FormatIsoMicros(micros)) : json(nullptr); }

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json SessionJson(const ModelSessionRecord& s) {
  json spec = ParseBoundedJson(s.spec_json);
  json out = {{"id", s.id}, {"name", s.name}, {"dataset_id", s.dataset_id}, {"task_name", s.task},
              {"created", Time(s.create_time)}};
  for (const auto& [k, v] : spec.items()) out[k] = v;
  return out;
}

json RunJson(const RunRecord& r) {
  return {{"id", r.id}, {"model_session_id", r.session_id}, {"name", r.name}, {"model_name", r.model},
          {"parameters", StoredJson(r.parameters_json)},
          {"optimizer_name", r.optimizer.empty() ? json(nullptr) : json(r.optimizer)},
          {"optimizer_parameters", StoredJson(r.optimizer_parameters_json)},
          {"goal_metric", r.goal_metric}, {"status", r.status}, {"error", r.error.empty() ? json(nullptr) : json(r.error)},
          {"experiment_id", r.experiment_id ? json(r.experiment_id) : json(nullptr)},
          {"job_id", r.job_id ? json(r.job_id) : json(nullptr)}, {"created", Time(r.create_time)},
          {"delivered", Time(r.delivered_time)}, {"started", Time(r.start_time)}, {"finished", Time(r.end_time)}};
}

// {"train": {"Accuracy": 0.9, ...}, ...} from the LAST-level metrics.
json FinalMetrics(const std::vector<RunMetric>& metrics) {
  json out = json::object();
  for (const RunMetric& m : metrics) {
    if (m.level == "LAST") out[m.split][m.name] = Number(m.value);
  }
  return out;
}

json RunDetails(RunService& s, const RunRecord& r) {
  json out = RunJson(r);
  Result<std::vector<RunMetric>> metrics = s.RunMetrics(r.id);
  out["metrics"] = metrics.ok() ? FinalMetrics(*metrics) : json::object();
  json result = ParseBoundedJson(r.result_json);
  out["result"] = result;
  Result<std::vector<TrialRecord>> trials = s.RunTrials(r.id);
  json t = json::array();
  if (trials.ok()) {
    for (const TrialRecord& tr : *trials) {
      t.push_back({{"trial", tr.trial}, {"parameters", StoredJson(tr.parameters_json)},
                   {"value", Number(tr.value)}, {"error", tr.error.empty() ? json(nullptr) : json(tr.error)},
                   {"metrics", StoredJson(tr.metrics_json)}, {"seconds", tr.seconds}});
    }
  }
  out["trials"] = t;
  out["search_progress"] = trials.ok() ? runs::SearchProgress(r, *trials, training::HigherIsBetter(r.goal_metric), NowMicros())
                                       : json(nullptr);
  return out;
}

HttpResponse Created(const json& body) {
  HttpResponse out = JsonOk(body);
  out.status = 201;
  return out;
}

// select_types: repeatable in DashAI's client, a JSON array in its docs; both work,
// and so does "Model,Explorer".
Result<std::set<std::string>> SelectTypes(const HttpRequest& req) {
  static const std::set<std::string> kTypes = {"Task", "Model", "Metric", "Optimizer", "Explorer"};
  std::set<std::string> out;
  const std::string* v = req.Query("select_types");
  if (!v || v->empty()) return kTypes;
  std::vector<std::string> names;
  json parsed = ParseBoundedJson(*v);
  if (parsed.is_array()) {
    for (const json& x : parsed) {
      if (x.is_string()) names.push_back(x.get<std::string>());
    }
  } else {
    size_t start = 0;
    while (start <= v->size()) {
      size_t comma = v->find(',', start);
      if (comma == std::string::npos) comma = v->size();
      names.push_back(v->substr(start, comma - start));
      start = comma + 1;
    }
  }
  for (const std::string& n : names) {
    if (!kTypes.count(n)) return Status::InvalidArgument("unknown component type \"" + n + "\" (Task, Model, Metric, Optimizer, Explorer)");
    out.insert(n);
  }
  return out;
}

json Components(const std::set<std::string>& types) {
  json out = json::array();
  if (types.count("Task")) {
    for (const training::TaskInfo& t : training::TaskCatalog()) {
      json models = json::array();
      for (const training::ModelInfo& m : training::ModelCatalog()) {
        if (training::ModelFitsTask(m, t.kind)) models.push_back(m.name);
      }
      out.push_back({{"name", t.name}, {"type", "Task"}, {"description", t.description},
                     {"compatible_components", models}, {"metrics", training::MetricsForTask(t.kind)}});
    }
  }
  if (types.count("Model")) {
    for (const training::ModelInfo& m : training::ModelCatalog()) {
      json tasks = json::array();
      for (training::TaskKind k : m.tasks) tasks.push_back(training::TaskName(k));
      out.push_back({{"name", m.name}, {"type", "Model"}, {"description", m.description}, {"library", m.library},
                     {"compatible_components", tasks}, {"gives_probabilities", m.gives_proba},
                     {"schema", training::SchemaJson(m.params)}});
    }
  }
  if (types.count("Metric")) {
    for (const training::MetricInfo& m : training::MetricCatalog()) {
      json tasks = json::array();
      for (const training::TaskInfo& t : training::TaskCatalog()) {
        if (training::IsClassification(t.kind) == m.classification) tasks.push_back(t.name);
      }
      out.push_back({{"name", m.name}, {"type", "Metric"}, {"description", m.description},
                     {"compatible_components", tasks}, {"needs_probabilities", m.needs_proba},
                     {"higher_is_better", training::HigherIsBetter(m.name)}});
    }
  }
  if (types.count("Optimizer")) {
    for (const training::OptimizerInfo& o : training::OptimizerCatalog()) {
      out.push_back({{"name", o.name}, {"type", "Optimizer"}, {"description", o.description},
                     {"schema", training::SchemaJson(o.params)}});
    }
  }
  if (types.count("Explorer")) {
    for (const explorers::ExplorerInfo& e : explorers::ExplorerCatalog()) out.push_back(explorers::ExplorerJson(e));
  }
  return out;
}

HttpResponse Predict(RunService& s, const HttpRequest& req, int64_t id) {
  if (IsMultipart(req)) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<FormPart> parts, ParseMultipart(req));
    for (const FormPart& p : parts) {
      if (p.name != "file") continue;
      const std::string* format = req.Query("format");
      if (format && *format == "csv") {
        Result<std::string> csv = s.PredictFileCsv(id, p.filename.value_or(""), p.body);
        if (!csv.ok()) return JsonError(csv.status());
        return Attachment(std::move(*csv), "text/csv; charset=utf-8", "predictions-run-" + std::to_string(id) + ".csv");
      }
      if (format && *format != "json") return JsonError(Status::InvalidArgument("format must be json or csv"));
      Result<json> out = s.PredictFile(id, p.filename.value_or(""), p.body);
      return out.ok() ? JsonOk(*out) : JsonError(out.status());
    }
    return JsonError(Status::InvalidArgument("the form has no \"file\" field"));
  }
  if (const std::string* format = req.Query("format"); format && *format != "json") {
    return JsonError(Status::InvalidArgument(*format == "csv" ? "format=csv takes a multipart \"file\"; rows sent as JSON are answered as JSON"
                                                              : "format must be json or csv"));
  }
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 8 << 20));
  auto rows = body.find("rows");
  if (rows == body.end()) return JsonError(Status::InvalidArgument("send {\"rows\": [{column: value, ...}]} or a multipart \"file\""));
  Result<json> out = s.Predict(id, *rows);
  return out.ok() ? JsonOk(*out) : JsonError(out.status());
}

}  // namespace

std::vector<Route> ModelApiRoutes(RunService& s, jobs::JobQueue& jobs) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/component/", [](const HttpRequest& req) {
                 Result<std::set<std::string>> types = SelectTypes(req);
                 return types.ok() ? JsonOk(Components(*types)) : JsonError(types.status());
               }});
  r.push_back({"GET", "/api/v1/component/:name", [](const HttpRequest& req) {
                 const std::string& name = *req.Param("name");
                 for (const json& c : Components(*SelectTypes(HttpRequest{}))) {
                   if (c["name"] == name) return JsonOk(c);
                 }
                 return JsonError(Status::NotFound("component \"" + name + "\" not found"));
               }});
  r.push_back(Offload({"POST", "/api/v1/model-session/", [&s](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 Result<ModelSessionRecord> rec = s.CreateSession(body);
                 return rec.ok() ? Created(SessionJson(*rec)) : JsonError(rec.status());
               }}));
  r.push_back({"GET", "/api/v1/model-session/", [&s](const HttpRequest&) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<ModelSessionRecord> all, s.ListSessions());
                 json out = json::array();
                 for (const ModelSessionRecord& x : all) out.push_back(SessionJson(x));
                 return JsonOk(out);
               }});
  r.push_back({"GET", "/api/v1/model-session/:id", WithPathId("model session id", [&s](const HttpRequest&, int64_t id) {
                 Result<ModelSessionRecord> rec = s.GetSession(id);
                 return rec.ok() ? JsonOk(SessionJson(*rec)) : JsonError(rec.status());
               })});
  r.push_back(Offload({"GET", "/api/v1/dataset/:id/session-guess", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 const std::string* output = req.Query("output");
                 Result<json> guess = s.GuessSession(id, output ? *output : "");
                 return guess.ok() ? JsonOk(*guess) : JsonError(guess.status());
               })}));
  r.push_back({"GET", "/api/v1/model-session/:id/leaderboard", WithPathId("model session id", [&s](const HttpRequest&, int64_t id) {
                 Result<json> board = s.Leaderboard(id);
                 return board.ok() ? JsonOk(*board) : JsonError(board.status());
               })});
  r.push_back({"POST", "/api/v1/model-session/:id/leaderboard", WithPathId("model session id", [&s, &jobs](const HttpRequest&, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json runs, s.CreateDefaultRuns(id));
                 for (json& r : runs) {
                   if (r.contains("error") || r.contains("skipped")) continue;
                   Result<int64_t> job = jobs.Enqueue("ModelJob", {{"run_id", r["run_id"]}});
                   if (job.ok()) r["job_id"] = *job;
                   else r["error"] = "created, but not queued: " + job.status().message();
                 }
                 return Created({{"runs", runs}});
               })});
  r.push_back({"POST", "/api/v1/run/", [&s](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 Result<RunRecord> rec = s.CreateRun(body);
                 return rec.ok() ? Created(RunJson(*rec)) : JsonError(rec.status());
               }});
  r.push_back({"GET", "/api/v1/run/", [&s](const HttpRequest& req) {
                 int64_t session = 0;
                 if (const std::string* v = req.Query("model_session_id")) {
                   LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(v, "model_session_id"));
                   session = id;
                 }
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<RunRecord> all, s.ListRuns(session));
                 Result<std::map<int64_t, std::vector<RunMetric>>> metrics = s.FinalRunMetrics(session);
                 if (!metrics.ok()) return JsonError(metrics.status());
                 json out = json::array();
                 for (const RunRecord& x : all) {
                   json j = RunJson(x);
                   auto m = metrics->find(x.id);
                   j["metrics"] = m == metrics->end() ? json::object() : FinalMetrics(m->second);
                   out.push_back(std::move(j));
                 }
                 return JsonOk(out);
               }});
  r.push_back({"GET", "/api/v1/run/:id", WithPathId("run id", [&s](const HttpRequest&, int64_t id) {
                 Result<RunRecord> rec = s.GetRun(id);
                 return rec.ok() ? JsonOk(RunDetails(s, *rec)) : JsonError(rec.status());
               })});
  r.push_back({"GET", "/api/v1/run/plot/:id/:kind", WithPathId("run id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json fig, s.RunPlot(id, *req.Param("kind")));
                 return JsonOk({{"type", "plotly_json"}, {"data", fig}});
               })});
  r.push_back(ReadingPost(Offload({"POST", "/api/v1/run/:id/predict", WithPathId("run id", [&s](const HttpRequest& req, int64_t id) {
                 return Predict(s, req, id);
               })})));
  r.push_back({"DELETE", "/api/v1/run/:id", WithPathId("run id", [&s](const HttpRequest&, int64_t id) {
                 Status st = s.DeleteRun(id);
                 return st.ok() ? JsonOk({{"deleted", id}}) : JsonError(st);
               })});
  r.push_back({"DELETE", "/api/v1/model-session/:id", WithPathId("model session id", [&s](const HttpRequest&, int64_t id) {
                 Status st = s.DeleteSession(id);
                 return st.ok() ? JsonOk({{"deleted", id}}) : JsonError(st);
               })});
  r.push_back({"GET", "/api/v1/run/:id/model", WithPathId("run id", [&s](const HttpRequest&, int64_t id) {
                 Result<std::pair<std::string, std::string>> file = s.ModelFile(id);
                 if (!file.ok()) return JsonError(file.status());
                 Result<std::string> bytes = ReadFileUpTo(file->first, size_t{4} << 30);
                 if (!bytes.ok()) return JsonError(bytes.status());
                 return Attachment(std::move(*bytes), "application/octet-stream", file->second);
               })});
  return r;
}

}  // namespace loupe
