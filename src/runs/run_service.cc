#include "runs/run_service.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <spdlog/spdlog.h>

#include "common/bounded_json.h"
#include "common/csv.h"
#include "common/number_text.h"
#include "datasets/column_types.h"
#include "datasets/table_parser.h"
#include "runs/leaderboard.h"
#include "training/evaluation.h"
#include "training/memory_estimate.h"
#include "training/model_catalog.h"
#include "training/search.h"
#include "training/search_plots.h"
#include "training/session_guess.h"
#include "training/splits.h"
#include "training/task.h"

namespace loupe::runs {

namespace {

using nlohmann::json;
using training::TaskKind;

Result<std::vector<std::string>> StringList(const json& body, const char* field, bool required) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string(field) + " is required");
    return std::vector<std::string>{};
  }
  if (!it->is_array()) return Status::InvalidArgument(std::string(field) + " must be an array of strings");
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      return Status::InvalidArgument(std::string(field) + " must be an array of non-empty strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<int64_t> RequiredId(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_number_integer() || it->get<int64_t>() < 1) {
    return Status::InvalidArgument(std::string(field) + " must be a positive integer");
  }
  return it->get<int64_t>();
}

Result<std::string> OptionalString(const json& body, const char* field, size_t max_len = 200) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string(field) + " must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > max_len) return Status::InvalidArgument(std::string(field) + " is longer than " + std::to_string(max_len) + " bytes");
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(std::string(field) + " must not contain control characters");
  }
  return s;
}

// splits: {"train", "validation", "test"}, or the same as a JSON string (DashAI's form).
Result<training::SplitRatios> ParseSplits(const json& body) {
  training::SplitRatios r;
  auto it = body.find("splits");
  if (it == body.end() || it->is_null()) return r;
  json s = *it;
  if (s.is_string()) s = ParseBoundedJson(s.get<std::string>());
  if (!s.is_object()) return Status::InvalidArgument("splits must be an object {train, validation, test}");
  for (const auto& [k, v] : s.items()) {
    if (k != "train" && k != "validation" && k != "test") {
      return Status::InvalidArgument("splits: unknown split \"" + k + "\" (train, validation, test)");
    }
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
      return Status::InvalidArgument("splits." + k + " must be a number from 0 to 1");
    }
  }
  r.train = s.value("train", 0.0);
  r.validation = s.value("validation", 0.0);
  r.test = s.value("test", 0.0);
  double sum = r.train + r.validation + r.test;
  if (std::fabs(sum - 1.0) > 1e-6) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", sum);
    return Status::InvalidArgument(std::string("splits must add up to 1 (got ") + buf + ")");
  }
  if (r.train <= 0) return Status::InvalidArgument("splits.train must be above 0");
  return r;
}

// What a session recorded about its data for memory estimates; sessions created
// before it was recorded give their row counts and columns (words unknown: the check
// before training measures them).
training::DataShape SessionShape(const json& spec) {
  if (spec.contains("shape")) return training::DataShape::FromJson(spec["shape"]);
  training::DataShape s;
  s.held_rows = spec.value("rows", uint64_t{0});
  s.train_rows = spec.contains("split_rows") ? spec["split_rows"].value("train", s.held_rows) : s.held_rows;
  s.classes = spec.contains("classes") ? spec["classes"].size() : 0;
  s.features = spec.contains("input_columns") ? spec["input_columns"].size() : 0;
  return s;
}

std::vector<std::string> DefaultMetrics(TaskKind task) {
  if (training::IsClassification(task)) return {"Accuracy", "F1"};
  return {"RMSE", "MAE", "R2"};
}

}  // namespace

RunService::RunService(RunStore& store, datasets::DatasetService& datasets, TrackingService& tracking,
                       RunServiceOptions options)
    : store_(store), datasets_(datasets), tracking_(tracking), options_(std::move(options)) {}

RunService::~RunService() = default;

std::string RunService::RunDir(int64_t run_id) const { return options_.data_dir + "/runs/" + std::to_string(run_id); }

Result<ModelSessionRecord> RunService::CreateSession(const json& body) {
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  LOUPE_ASSIGN_OR_RETURN(int64_t dataset_id, RequiredId(body, "dataset_id"));
  auto task_field = body.find("task_name");
  if (task_field == body.end() || !task_field->is_string()) return Status::InvalidArgument("task_name is required");
  LOUPE_ASSIGN_OR_RETURN(TaskKind task, training::ParseTask(task_field->get<std::string>()));
  LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> inputs, StringList(body, "input_columns", true));
  LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> outputs, StringList(body, "output_columns", true));
  json metrics = json::object();
  for (const char* field : {"train_metrics", "validation_metrics", "test_metrics"}) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> m, StringList(body, field, false));
    if (m.empty()) m = DefaultMetrics(task);
    // Probabilities are checked per run: a model without them skips those metrics.
    LOUPE_RETURN_IF_ERROR(training::CheckMetrics(task, m, true, field));
    metrics[field] = m;
  }
  LOUPE_ASSIGN_OR_RETURN(training::SplitRatios ratios, ParseSplits(body));
  int64_t seed = 0;
  if (auto s = body.find("seed"); s != body.end() && !s->is_null()) {
    if (!s->is_number_integer() || s->get<int64_t>() < 0) return Status::InvalidArgument("seed must be a non-negative integer");
    seed = s->get<int64_t>();
  }
  bool stratify = training::IsClassification(task);
  if (auto st = body.find("stratify"); st != body.end() && !st->is_null()) {
    if (!st->is_boolean()) return Status::InvalidArgument("stratify must be true or false");
    stratify = st->get<bool>();
  }
  LOUPE_ASSIGN_OR_RETURN(std::string name, OptionalString(body, "name"));

  LOUPE_ASSIGN_OR_RETURN(DatasetRecord dataset, datasets_.Get(dataset_id));
  LOUPE_ASSIGN_OR_RETURN(datasets::Table table, datasets_.Load(dataset_id));
  // The task checks the columns now, so a session that cannot train is refused here
  // rather than failing in every run.
  LOUPE_ASSIGN_OR_RETURN(training::PreparedData data, training::PrepareForTask(table, task, inputs, outputs,
                                                                                options_.training_memory_bytes));
  Result<training::Split> split = training::MakeSplit(data.examples.rows, ratios, static_cast<uint64_t>(seed),
                                                      stratify ? data.labels : std::vector<int>{});
  if (!split.ok()) return split.status();

  // All rows' shape: an upper bound for the training split's, checked at run creation.
  training::DataShape shape = training::MeasureShape(data.examples, data.spec.classes.size());
  shape.train_rows = split->train.size();

  ModelSessionRecord rec;
  rec.dataset_id = dataset_id;
  rec.task = training::TaskName(task);
  rec.name = name.empty() ? dataset.name + " · " + rec.task : name;
  json spec = {{"input_columns", inputs}, {"output_columns", outputs},
               {"train_metrics", metrics["train_metrics"]}, {"validation_metrics", metrics["validation_metrics"]},
               {"test_metrics", metrics["test_metrics"]},
               {"splits", {{"train", ratios.train}, {"validation", ratios.validation}, {"test", ratios.test}}},
               {"seed", seed}, {"stratify", stratify}, {"rows", data.examples.rows},
               {"dropped_rows", data.dropped_rows}, {"classes", data.spec.classes},
               {"split_rows", {{"train", split->train.size()}, {"validation", split->validation.size()},
                               {"test", split->test.size()}}},
               {"shape", shape.ToJson()}};
  rec.spec_json = spec.dump();
  LOUPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateModelSession(rec));
  return store_.GetModelSession(id);
}

Result<RunRecord> RunService::CreateRun(const json& body) {
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  LOUPE_ASSIGN_OR_RETURN(int64_t session_id, RequiredId(body, "model_session_id"));
  LOUPE_ASSIGN_OR_RETURN(ModelSessionRecord session, store_.GetModelSession(session_id));
  TaskKind task = *training::ParseTask(session.task);
  json spec = json::parse(session.spec_json);

  auto model_field = body.find("model_name");
  if (model_field == body.end() || !model_field->is_string()) return Status::InvalidArgument("model_name is required");
  const std::string model_name = model_field->get<std::string>();
  const training::ModelInfo* model = training::FindModel(model_name);
  if (!model || !training::ModelFitsTask(*model, task)) {
    std::string fit;
    for (const training::ModelInfo& m : training::ModelCatalog()) {
      if (training::ModelFitsTask(m, task)) fit += (fit.empty() ? "" : ", ") + m.name;
    }
    return Status::InvalidArgument(std::string(model ? "model_name " + model_name + " does not fit " + session.task
                                                     : "unknown model_name \"" + model_name + "\"") +
                                   " (models for " + session.task + ": " + fit + ")");
  }
  json params = body.contains("parameters") ? body["parameters"] : json::object();
  if (params.is_null()) params = json::object();
  Result<training::ValidatedParams> validated = training::ValidateAndTransform(model->params, params);
  if (!validated.ok()) return Status::InvalidArgument("parameters." + validated.status().message());

  LOUPE_ASSIGN_OR_RETURN(std::string optimizer, OptionalString(body, "optimizer_name"));
  json optimizer_params = body.contains("optimizer_parameters") && !body["optimizer_parameters"].is_null()
                              ? body["optimizer_parameters"] : json::object();
  if (!optimizer.empty()) {
    const training::OptimizerInfo* opt = training::FindOptimizer(optimizer);
    if (!opt) {
      std::string names;
      for (const auto& o : training::OptimizerCatalog()) names += (names.empty() ? "" : ", ") + o.name;
      return Status::InvalidArgument("unknown optimizer_name \"" + optimizer + "\" (known: " + names + ")");
    }
    Result<training::ValidatedParams> op = training::ValidateAndTransform(opt->params, optimizer_params);
    if (!op.ok()) return Status::InvalidArgument("optimizer_parameters." + op.status().message());
    if (validated->search_space.empty()) {
      return Status::InvalidArgument("an optimizer needs at least one parameter sent as {\"optimize\": true, "
                                     "\"lower_bound\": ..., \"upper_bound\": ...}");
    }
    if (spec["splits"].value("validation", 0.0) <= 0) {
      return Status::InvalidArgument("a search scores trials on the validation split, and this session has none");
    }
    optimizer_params = op->values;
  } else if (!validated->search_space.empty()) {
    return Status::InvalidArgument("parameter " + validated->search_space[0].name +
                                   " is marked optimize, but no optimizer_name was given");
  }

  LOUPE_ASSIGN_OR_RETURN(std::string goal, OptionalString(body, "goal_metric"));
  if (goal.empty()) {
    const json& vm = spec["validation_metrics"];
    goal = vm.empty() ? DefaultMetrics(task)[0] : vm[0].get<std::string>();
  }
  LOUPE_RETURN_IF_ERROR(training::CheckMetrics(task, {goal}, model->gives_proba, "goal_metric"));
  // Refused now, so the user learns at once; checked again before training.
  LOUPE_RETURN_IF_ERROR(
      training::CheckTrainingMemory(model_name, SessionShape(spec), *validated, options_.training_memory_bytes));

  LOUPE_ASSIGN_OR_RETURN(std::string name, OptionalString(body, "name"));
  if (name.empty()) {
    Result<std::vector<RunRecord>> existing = store_.ListRuns(session_id);
    name = model_name + " #" + std::to_string((existing.ok() ? existing->size() : 0) + 1);
  }
  RunRecord rec;
  rec.session_id = session_id;
  rec.name = name;
  rec.model = model_name;
  rec.parameters_json = params.dump();
  rec.optimizer = optimizer;
  rec.optimizer_parameters_json = optimizer_params.dump();
  rec.goal_metric = goal;
  LOUPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateRun(rec));
  return store_.GetRun(id);
}

Result<json> RunService::GuessSession(int64_t dataset_id, const std::string& output) {
  LOUPE_ASSIGN_OR_RETURN(datasets::Table table, datasets_.Load(dataset_id));
  if (!output.empty() && !table.Find(output)) {
    return Status::InvalidArgument("output: no column \"" + output.substr(0, 200) + "\" in dataset " + std::to_string(dataset_id));
  }
  return training::GuessSession(table, output);
}

Result<json> RunService::Leaderboard(int64_t session_id) {
  LOUPE_ASSIGN_OR_RETURN(ModelSessionRecord session, store_.GetModelSession(session_id));
  const json spec = ParseBoundedJson(session.spec_json);
  LOUPE_ASSIGN_OR_RETURN(TaskKind task, training::ParseTask(session.task));
  const json vm = spec.is_object() ? spec.value("validation_metrics", json::array()) : json::array();
  const std::string metric = vm.empty() || !vm[0].is_string() ? DefaultMetrics(task)[0] : vm[0].get<std::string>();
  LOUPE_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, store_.ListRuns(session_id));
  LOUPE_ASSIGN_OR_RETURN(auto metrics, store_.ListFinalRunMetrics(session_id));
  return RankRuns(runs, metrics, metric);
}

Result<json> RunService::CreateDefaultRuns(int64_t session_id) {
  // Two clicks at once must not both see "no defaults run yet" and each create one.
  std::lock_guard<std::mutex> lock(default_runs_mu_);
  LOUPE_ASSIGN_OR_RETURN(ModelSessionRecord session, store_.GetModelSession(session_id));
  LOUPE_ASSIGN_OR_RETURN(TaskKind task, training::ParseTask(session.task));
  LOUPE_ASSIGN_OR_RETURN(std::vector<RunRecord> existing, store_.ListRuns(session_id));
  json out = json::array();
  for (const training::ModelInfo& m : training::ModelCatalog()) {
    if (!training::ModelFitsTask(m, task)) continue;
    const RunRecord* done = nullptr;
    for (const RunRecord& r : existing) {
      const json p = ParseBoundedJson(r.parameters_json);
      if (r.model == m.name && r.optimizer.empty() && p.is_object() && p.empty() && r.status != WorkStatus::kError &&
          r.status != WorkStatus::kCancelled) {
        done = &r;
      }
    }
    if (done) {
      out.push_back({{"model", m.name}, {"run_id", done->id}, {"skipped", "already has a run with its defaults"}});
      continue;
    }
    Result<RunRecord> run = CreateRun({{"model_session_id", session_id}, {"model_name", m.name}, {"name", m.name + " · defaults"}});
    if (run.ok()) out.push_back({{"model", m.name}, {"run_id", run->id}});
    else out.push_back({{"model", m.name}, {"error", run.status().message()}});
  }
  return out;
}

Status RunService::DeleteRun(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.DeleteRun(id));
  ForgetRunFiles(id);
  return Status::Ok();
}

Status RunService::DeleteSession(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<int64_t> runs, store_.DeleteModelSession(id));
  for (int64_t run_id : runs) ForgetRunFiles(run_id);
  return Status::Ok();
}

void RunService::ForgetRunFiles(int64_t run_id) {
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    models_.erase(run_id);
  }
  std::error_code ec;
  std::filesystem::remove_all(RunDir(run_id), ec);  // a file left behind is harmless
}

namespace {
// A run may be queued unless it already is, or is training.
const std::vector<WorkStatus> kQueueable = {WorkStatus::kNotStarted, WorkStatus::kFinished, WorkStatus::kError};
}  // namespace

Result<int64_t> RunService::QueueRun(int64_t run_id, const std::string& job_type, const std::string& kwargs_json) {
  return store_.QueueRun(run_id, kQueueable, job_type, kwargs_json);
}

Status RunService::RequeueRun(int64_t run_id, int64_t job_id) { return store_.RequeueRun(run_id, kQueueable, job_id); }

void RunService::RunReleased(int64_t run_id) {
  Status st = store_.TransitionRun(run_id, {WorkStatus::kDelivered}, WorkStatus::kNotStarted, "");
  if (!st.ok()) spdlog::warn("run {}: could not be put back to NOT_STARTED: {}", run_id, st.message());
}

Status RunService::RecoverInterrupted() {
  Result<int> n = store_.FailInterruptedRuns(
      "interrupted: Loupe stopped while this run was training; enqueue it again (or retry its job)");
  if (!n.ok()) return n.status();
  LOUPE_ASSIGN_OR_RETURN(std::vector<int64_t> released, store_.ReleaseOrphanedRuns());
  for (int64_t id : released) {
    spdlog::warn(
        "run {} was DELIVERED without a queued job (Loupe stopped while queueing or starting it); "
        "it is NOT_STARTED again",
        id);
  }
  return Status::Ok();
}

Result<json> RunService::RunPlot(int64_t id, const std::string& kind) {
  LOUPE_ASSIGN_OR_RETURN(training::SearchPlot plot, training::ParseSearchPlot(kind));
  LOUPE_ASSIGN_OR_RETURN(RunRecord run, store_.GetRun(id));
  if (run.optimizer.empty()) return Status::NotFound("run " + std::to_string(id) + " has no hyperparameter search");
  LOUPE_ASSIGN_OR_RETURN(std::vector<TrialRecord> rows, store_.ListRunTrials(id));
  // The search space comes from the run's parameters, not its result, so the plots
  // draw while the search is still running.
  const training::ModelInfo* model = training::FindModel(run.model);
  if (!model) return Status::Corrupt("unknown model " + run.model);
  Result<training::ValidatedParams> params =
      training::ValidateAndTransform(model->params, ParseBoundedJson(run.parameters_json));
  if (!params.ok()) return params.status();
  std::vector<training::Trial> trials;
  for (const TrialRecord& r : rows) {
    training::Trial t;
    t.number = static_cast<int>(r.trial);
    t.params = ParseBoundedJson(r.parameters_json);
    t.value = r.value;
    t.error = r.error;
    trials.push_back(std::move(t));
  }
  return training::MakeSearchPlot(plot, trials, params->search_space, run.goal_metric,
                                  training::HigherIsBetter(run.goal_metric));
}

Result<std::pair<std::string, std::string>> RunService::ModelFile(int64_t run_id) {
  LOUPE_ASSIGN_OR_RETURN(RunRecord run, store_.GetRun(run_id));
  if (run.status != WorkStatus::kFinished) {
    return Status::Conflict("run " + std::to_string(run_id) + " is " + WorkStatusName(run.status) +
                            "; it has no trained model yet");
  }
  json result = ParseBoundedJson(run.result_json);
  std::string file = result.value("model_file", "");
  if (file.empty() || file.find('/') != std::string::npos) return Status::NotFound("run " + std::to_string(run_id) + " has no model file");
  std::string path = RunDir(run_id) + "/" + file;
  if (!std::filesystem::exists(path)) return Status::NotFound("the model file of run " + std::to_string(run_id) + " is gone");
  return std::make_pair(path, "run-" + std::to_string(run_id) + "-" + file);
}

Result<RunService::LoadedModel> RunService::LoadedModelFor(const RunRecord& run, const json& result) {
  std::lock_guard<std::mutex> lock(models_mu_);
  auto it = models_.find(run.id);
  if (it != models_.end() && it->second.end_time == run.end_time) return it->second;
  Result<std::pair<std::string, std::string>> file = ModelFile(run.id);
  if (!file.ok()) return file.status();
  LOUPE_ASSIGN_OR_RETURN(TaskKind task, training::ParseTask(result["feature_spec"].value("task", "")));
  int classes = static_cast<int>(result["feature_spec"]["classes"].size());
  Result<std::unique_ptr<training::Model>> model =
      training::MakeModel(run.model, task, classes,
                          CapThreads(result.value("parameters", json::object()), options_.threads_per_job), RunDir(run.id));
  if (!model.ok()) return model.status();
  LOUPE_RETURN_IF_ERROR((*model)->Load(file->first));
  std::error_code ec;
  const uint64_t bytes = std::filesystem::file_size(file->first, ec);
  models_.erase(run.id);
  uint64_t held = bytes;
  for (const auto& [id, m] : models_) held += m.bytes;
  // The oldest run ids go first; a model in use stays alive through its shared_ptr.
  while (!models_.empty() && (models_.size() >= 8 || (options_.training_memory_bytes > 0 &&
                                                      held > options_.training_memory_bytes))) {
    held -= models_.begin()->second.bytes;
    models_.erase(models_.begin());
  }
  LoadedModel loaded{run.end_time, bytes, std::shared_ptr<training::Model>(std::move(*model)),
                     std::make_shared<std::mutex>()};
  models_[run.id] = loaded;
  return loaded;
}

Result<RunService::Predicted> RunService::PredictTable(
    int64_t run_id, const std::function<Result<datasets::RawTable>(const training::FeatureSpec&)>& read) {
  LOUPE_ASSIGN_OR_RETURN(RunRecord run, store_.GetRun(run_id));
  if (run.status != WorkStatus::kFinished) {
    return Status::Conflict("run " + std::to_string(run_id) + " is " + WorkStatusName(run.status) +
                            "; only finished runs predict");
  }
  json result = ParseBoundedJson(run.result_json);
  Predicted out;
  out.model = run.model;
  LOUPE_ASSIGN_OR_RETURN(out.spec, training::FeatureSpec::FromJson(result.value("feature_spec", json::object())));
  LOUPE_ASSIGN_OR_RETURN(out.raw, read(out.spec));
  if (out.raw.rows() > options_.max_predict_rows) {
    return Status::TooLarge(std::to_string(out.raw.rows()) + " rows; at most " + std::to_string(options_.max_predict_rows) +
                            " can be predicted per request");
  }
  LOUPE_ASSIGN_OR_RETURN(training::Examples x, training::EncodeRawTable(out.spec, out.raw, &out.warnings));
  LOUPE_ASSIGN_OR_RETURN(LoadedModel model, LoadedModelFor(run, result));
  Result<training::Predictions> p = Status::Internal("no prediction");
  {
    std::lock_guard<std::mutex> lock(*model.mu);
    p = model.model->Predict(x);
  }
  if (!p.ok()) return p.status();
  out.predictions = std::move(*p);
  return out;
}

json RunService::PredictionsJson(int64_t run_id, const Predicted& p) {
  json out = json::array();
  for (size_t r = 0; r < p.raw.rows(); ++r) {
    json row;
    if (p.spec.task == TaskKind::kRegression) {
      row = {{"value", p.predictions.values[r]}};
    } else {
      row = {{"label", p.spec.classes[static_cast<size_t>(p.predictions.classes[r])]}};
      if (!p.predictions.proba.empty()) {
        json probs = json::object();
        for (size_t k = 0; k < p.spec.classes.size(); ++k) probs[p.spec.classes[k]] = p.predictions.proba[r][k];
        row["probabilities"] = probs;
      }
    }
    if (r < p.warnings.rows.size() && !p.warnings.rows[r].empty()) row["warnings"] = p.warnings.rows[r];
    out.push_back(std::move(row));
  }
  return json{{"run_id", run_id}, {"model", p.model}, {"predictions", out}, {"warnings", p.warnings.Summary()}};
}

Result<json> RunService::Predict(int64_t run_id, const json& rows) {
  LOUPE_ASSIGN_OR_RETURN(Predicted p, PredictTable(run_id, [&](const training::FeatureSpec& spec) {
                           return training::RowsToRawTable(spec, rows);
                         }));
  return PredictionsJson(run_id, p);
}

Result<RunService::Predicted> RunService::PredictFileTable(int64_t run_id, const std::string& file_name,
                                                           const std::string& bytes) {
  std::optional<datasets::FileFormat> format = datasets::FormatFromName(file_name);
  if (!format) return Status::InvalidArgument("the file name must end in .csv, .tsv, .json or .jsonl");
  return PredictTable(run_id, [&](const training::FeatureSpec&) -> Result<datasets::RawTable> {
    datasets::ParseOptions strict;
    strict.suggest_skip = false;  // predictions take every row or none
    LOUPE_ASSIGN_OR_RETURN(datasets::RawTable raw, datasets::ParseTable(bytes, *format, datasets_.options().limits, strict));
    if (raw.rows() == 0) return Status::InvalidArgument("the file has no rows");
    return raw;
  });
}

Result<json> RunService::PredictFile(int64_t run_id, const std::string& file_name, const std::string& bytes) {
  LOUPE_ASSIGN_OR_RETURN(Predicted p, PredictFileTable(run_id, file_name, bytes));
  return PredictionsJson(run_id, p);
}

Result<std::string> RunService::PredictFileCsv(int64_t run_id, const std::string& file_name, const std::string& bytes) {
  LOUPE_ASSIGN_OR_RETURN(Predicted p, PredictFileTable(run_id, file_name, bytes));
  // Every column of the file as it was sent, then the prediction, then one probability
  // per class ("probability <class>") and the row's warnings.
  auto cell = [](std::string_view text) {
    // A plain decimal number as written (CsvField would guard its leading "-" against
    // spreadsheets and turn -3.5 into text); anything else, " 7", "+3", "5\r" or
    // "-inf" included, through CsvField.
    const bool plain = !text.empty() && text.find_first_not_of("0123456789.eE+-") == std::string_view::npos &&
                       (std::isdigit(static_cast<unsigned char>(text[0])) ||
                        (text[0] == '-' && text.size() > 1 && (std::isdigit(static_cast<unsigned char>(text[1])) || text[1] == '.')) ||
                        text[0] == '.') &&
                       datasets::ParseNumber(text).has_value();
    return plain ? std::string(text) : CsvField(std::string(text));
  };
  std::string csv;
  bool first = true;
  auto add = [&](const std::string& field) {
    if (!first) csv += ',';
    csv += field;
    first = false;
  };
  for (const datasets::RawColumn& c : p.raw.columns) add(CsvField(c.name));
  const bool regression = p.spec.task == TaskKind::kRegression;
  add(CsvField("predicted_" + p.spec.output));
  if (!regression && !p.predictions.proba.empty()) {
    for (const std::string& k : p.spec.classes) add(CsvField("probability " + k));
  }
  add("warnings");
  csv += "\r\n";
  for (size_t r = 0; r < p.raw.rows(); ++r) {
    first = true;
    for (const datasets::RawColumn& c : p.raw.columns) add(c.cells[r] ? cell(*c.cells[r]) : std::string());
    std::string value;
    if (regression) {
      AppendNumberText(value, p.predictions.values[r]);
      add(value);
    } else {
      add(CsvField(p.spec.classes[static_cast<size_t>(p.predictions.classes[r])]));
      if (!p.predictions.proba.empty()) {
        for (double v : p.predictions.proba[r]) {
          std::string num;
          AppendNumberText(num, v);
          add(num);
        }
      }
    }
    std::string notes;
    if (r < p.warnings.rows.size()) {
      for (const std::string& w : p.warnings.rows[r]) notes += (notes.empty() ? "" : "; ") + w;
    }
    add(CsvField(notes));
    csv += "\r\n";
  }
  return csv;
}

}  // namespace loupe::runs
