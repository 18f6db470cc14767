// RunService::Execute: what a ModelJob does. Load the session's data, prepare it for
// the task, split it, train (or search), score every split, save the model, and report
// all of it to the run's tracking experiment as it happens.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "datasets/image_columns.h"
#include "runs/run_service.h"
#include "training/baseline.h"
#include "training/evaluation.h"
#include "training/memory_estimate.h"
#include "training/model_catalog.h"
#include "training/search.h"
#include "training/splits.h"
#include "training/task.h"

namespace loupe::runs {

namespace {

using nlohmann::json;
using training::TaskKind;

// Buffers curve points and writes them to the experiment a few times a second (a
// boosting round can take microseconds; one write per point would dominate).
class CurveWriter {
 public:
  CurveWriter(TrackingService& tracking, int64_t experiment_id) : tracking_(tracking), experiment_id_(experiment_id) {}
  ~CurveWriter() { Flush(); }

  void Add(const std::string& key, int64_t step, double value) {
    batch_.points.push_back({key, step, value, NowMicros()});
    if (batch_.points.size() >= 500 || NowMicros() - last_flush_ > 250'000) Flush();
  }
  void Flush() {
    last_flush_ = NowMicros();
    Status st;
    if (batch_.points.empty()) {
      st = tracking_.Heartbeat(experiment_id_).status();
    } else {
      batch_.experiment_id = experiment_id_;
      st = tracking_.LogMetrics(batch_).status();
      batch_.points.clear();
    }
    // A curve point the store refused must not fail the training; say so once a run.
    if (!st.ok() && !warned_) {
      warned_ = true;
      spdlog::warn("experiment {}: training curves are not being stored: {}", experiment_id_, st.message());
    }
  }

 private:
  bool warned_ = false;
  TrackingService& tracking_;
  int64_t experiment_id_;
  MetricBatch batch_;
  int64_t last_flush_ = 0;
};

// Keeps the run's experiment alive while a model trains without reporting (liblinear,
// a slow trial): the tracking monitor marks experiments crashed after a silent
// --heartbeat-timeout.
class Keepalive {
 public:
  Keepalive(TrackingService& tracking, int64_t experiment_id) : thread_([&tracking, experiment_id, this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(20), [this] { return done_; })) {
      Status st = tracking.Heartbeat(experiment_id).status();
      if (!st.ok()) spdlog::warn("experiment {}: keepalive heartbeat failed: {}", experiment_id, st.message());
    }
  }) {}
  ~Keepalive() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

json ConfusionJson(const std::vector<std::vector<int64_t>>& m) {
  json out = json::array();
  for (const auto& row : m) out.push_back(row);
  return out;
}

}  // namespace

json CapThreads(json params, int cap) {
  for (const char* key : {"nthread", "threads"}) {
    if (!params.contains(key) || !params[key].is_number_integer()) continue;
    int64_t asked = params[key].get<int64_t>();
    if (asked <= 0 || asked > cap) params[key] = cap;
  }
  return params;
}

void RunService::MarkFailed(int64_t run_id, const Status& why) {
  spdlog::warn("run {} failed: {}", run_id, why.message());
  Status st = store_.TransitionRun(run_id, {WorkStatus::kStarted}, WorkStatus::kError, why.message());
  if (!st.ok()) {
    spdlog::error("run {} could not be marked ERROR ({}); it will be at the next start", run_id, st.message());
  }
}

void RunService::EndExperiment(int64_t experiment_id, RunStatus status) {
  Result<RunStatus> st = tracking_.Finish(experiment_id, status);
  if (!st.ok()) {
    spdlog::warn("experiment {} could not be marked {}: {}", experiment_id, RunStatusName(status),
                 st.status().message());
  }
}

// What a run trains on, read and split before its experiment starts.
struct RunService::TrainingPlan {
  struct Part {
    std::string name;
    training::Examples x;
    std::vector<int> labels;
    std::vector<double> targets;
    training::TrainData view() const {
      return {&x, labels.empty() ? nullptr : &labels, targets.empty() ? nullptr : &targets};
    }
  };
  RunRecord run;
  ModelSessionRecord session;
  json spec;
  TaskKind task = TaskKind::kRegression;
  const training::ModelInfo* model_info = nullptr;
  training::ValidatedParams params;
  training::FeatureSpec feature_spec;
  size_t dropped_rows = 0;
  int num_classes = 0;
  std::vector<Part> parts;  // train, validation, test
  training::DataShape shape;  // of the training split, for memory estimates
};

Result<json> RunService::Execute(int64_t run_id, const std::function<bool()>& stop) {
  LOUPE_RETURN_IF_ERROR(store_.TransitionRun(run_id, {WorkStatus::kDelivered}, WorkStatus::kStarted, ""));
  try {
    return Train(run_id, stop);
  } catch (const std::exception& e) {
    // A library or corrupt stored JSON threw before the experiment started (Train
    // catches what Fit throws): the run must not stay STARTED.
    Status st = Status::Internal(std::string("unexpected error: ") + e.what());
    MarkFailed(run_id, st);
    return st;
  }
}

Result<json> RunService::Train(int64_t run_id, const std::function<bool()>& stop) {
  int64_t experiment_id = 0;
  auto fail = [&](const Status& st) -> Status {
    MarkFailed(run_id, st);
    if (experiment_id) EndExperiment(experiment_id, RunStatus::kCrashed);
    return st;
  };
  Result<TrainingPlan> plan = Prepare(run_id, stop);
  if (!plan.ok()) return fail(plan.status());
  Result<int64_t> experiment = StartExperiment(run_id, *plan);
  if (!experiment.ok()) return fail(experiment.status());
  experiment_id = *experiment;
  // Fit's curve writer and keepalive are stopped and joined when it returns, even by
  // an exception, so the final status written below is the experiment's last write:
  // a later heartbeat would revive a failed run's experiment.
  Result<json> fitted = Status::Internal("not trained");
  try {
    fitted = Fit(*plan, experiment_id, stop);
  } catch (const std::exception& e) {
    fitted = Status::Internal(std::string("unexpected error: ") + e.what());
  }
  if (!fitted.ok()) return fail(fitted.status());
  if (Status st = store_.TransitionRun(run_id, {WorkStatus::kStarted}, WorkStatus::kFinished, ""); !st.ok()) {
    return fail(st);
  }
  EndExperiment(experiment_id, RunStatus::kFinished);
  {
    std::lock_guard<std::mutex> lock(models_mu_);
    models_.erase(run_id);
  }
  return fitted;
}

Result<RunService::TrainingPlan> RunService::Prepare(int64_t run_id, const std::function<bool()>& stop) {
  TrainingPlan plan;
  LOUPE_RETURN_IF_ERROR(store_.ClearRunResults(run_id));
  LOUPE_ASSIGN_OR_RETURN(plan.run, store_.GetRun(run_id));
  LOUPE_ASSIGN_OR_RETURN(plan.session, store_.GetModelSession(plan.run.session_id));
  plan.spec = json::parse(plan.session.spec_json);
  plan.task = *training::ParseTask(plan.session.task);
  plan.model_info = training::FindModel(plan.run.model);
  if (!plan.model_info) return Status::InvalidArgument("unknown model " + plan.run.model);
  LOUPE_ASSIGN_OR_RETURN(
      plan.params,
      training::ValidateAndTransform(plan.model_info->params, ParseBoundedJson(plan.run.parameters_json)));

  // The data, as the session defined it. Only the encoded examples outlive this: the
  // table is freed before training.
  Result<training::PreparedData> data = [&]() -> Result<training::PreparedData> {
    LOUPE_ASSIGN_OR_RETURN(datasets::Table table, datasets_.Load(plan.session.dataset_id));
    if (stop && stop()) return training::Cancelled();
    return training::PrepareForTask(table, plan.task, plan.spec["input_columns"].get<std::vector<std::string>>(),
                                    plan.spec["output_columns"].get<std::vector<std::string>>(),
                                    options_.training_memory_bytes);
  }();
  if (!data.ok()) return data.status();
  // Loading and encoding a large dataset takes seconds (more on a busy machine) and asks
  // no one: a cancel that came meanwhile stops the run here, before anything trains.
  if (stop && stop()) return training::Cancelled();
  const json& splits = plan.spec["splits"];
  training::SplitRatios ratios{splits.value("train", 0.7), splits.value("validation", 0.15),
                               splits.value("test", 0.15)};
  LOUPE_ASSIGN_OR_RETURN(training::Split split,
                         training::MakeSplit(data->examples.rows, ratios, plan.spec.value("seed", uint64_t{0}),
                                             plan.spec.value("stratify", false) ? data->labels : std::vector<int>{}));
  plan.num_classes = static_cast<int>(data->spec.classes.size());
  for (auto [name, idx] :
       {std::pair{"train", &split.train}, std::pair{"validation", &split.validation}, std::pair{"test", &split.test}}) {
    TrainingPlan::Part p{name, data->examples.Take(*idx), {}, {}};
    for (size_t i : *idx) {
      if (!data->labels.empty()) p.labels.push_back(data->labels[i]);
      if (!data->targets.empty()) p.targets.push_back(data->targets[i]);
    }
    plan.parts.push_back(std::move(p));
  }
  plan.feature_spec = std::move(data->spec);
  plan.dropped_rows = data->dropped_rows;
  // Checked again on the data as it is now, against the budget as it is now (the
  // server may have restarted with another since the run was created).
  plan.shape = training::MeasureShape(plan.parts[0].x, static_cast<size_t>(plan.num_classes),
                                      {&plan.parts[1].x, &plan.parts[2].x});
  LOUPE_RETURN_IF_ERROR(training::CheckTrainingMemory(plan.run.model, plan.shape, plan.params,
                                                      options_.training_memory_bytes));
  if (stop && stop()) return training::Cancelled();
  return plan;
}

Result<int64_t> RunService::StartExperiment(int64_t run_id, const TrainingPlan& plan) {
  const RunRecord& run = plan.run;
  NewExperiment e;
  // Every session's runs share one project (a project per session crowded the project
  // list); the session is in the run's name and its tags, so the table filters by it.
  e.project = "Model sessions";
  std::string session_part = plan.session.name;
  const size_t room = 255 > run.name.size() + 3 ? 255 - run.name.size() - 3 : 0;
  if (session_part.size() > room) {
    size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(session_part[cut]) & 0xC0) == 0x80) --cut;
    session_part.resize(cut);
  }
  e.name = session_part.empty() ? run.name : session_part + " / " + run.name;
  e.tags = {"session-" + std::to_string(plan.session.id), run.model.substr(0, 64)};
  e.description = run.model + (run.optimizer.empty() ? "" : " with " + run.optimizer);
  const json config = {{"model", run.model},
                       {"parameters", plan.params.values},
                       {"optimizer", run.optimizer},
                       {"optimizer_parameters", ParseBoundedJson(run.optimizer_parameters_json)},
                       {"goal_metric", run.goal_metric},
                       {"task", plan.session.task},
                       {"dataset_id", plan.session.dataset_id},
                       {"session", plan.spec},
                       {"loupe_run_id", run_id}};
  e.config_json = config.dump();
  LOUPE_ASSIGN_OR_RETURN(CreatedExperiment created, tracking_.StartRun(e));
  const int64_t experiment_id = created.experiment.id;
  Status saved = store_.SaveRunResult(run_id, "{}", experiment_id);
  if (!saved.ok()) {
    EndExperiment(experiment_id, RunStatus::kCrashed);
    return saved;
  }
  return experiment_id;
}

Result<json> RunService::Fit(const TrainingPlan& plan, int64_t experiment_id, const std::function<bool()>& stop) {
  const RunRecord& run = plan.run;
  const int64_t run_id = run.id;
  const TaskKind task = plan.task;
  const json& spec = plan.spec;
  const int num_classes = plan.num_classes;
  const TrainingPlan::Part& train = plan.parts[0];
  const TrainingPlan::Part& validation = plan.parts[1];
  CurveWriter curves(tracking_, experiment_id);
  Keepalive keepalive(tracking_, experiment_id);

  std::error_code ec;
  std::filesystem::create_directories(RunDir(run_id), ec);
  if (ec) return Status::Internal("cannot create the run folder: " + ec.message());

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  std::unique_ptr<training::Model> model;
  json best_params = plan.params.values;
  json search_summary = nullptr;
  const training::TrainData val_view = validation.view();
  const training::TrainData* val = validation.x.rows > 0 ? &val_view : nullptr;

  if (run.optimizer.empty()) {
    LOUPE_ASSIGN_OR_RETURN(
        model, training::MakeModel(run.model, task, num_classes,
                                   CapThreads(plan.params.values, options_.threads_per_job), RunDir(run_id)));
    LOUPE_RETURN_IF_ERROR(model->Train(
        train.view(), val, [&](const std::string& key, int64_t step, double v) { curves.Add(key, step, v); }, stop));
  } else {
    // Each trial trains on the train split and is scored on the validation split; the
    // best trial's model is kept (not the last one's).
    const bool maximize = training::HigherIsBetter(run.goal_metric);
    std::vector<std::string> scored = spec["validation_metrics"].get<std::vector<std::string>>();
    if (std::find(scored.begin(), scored.end(), run.goal_metric) == scored.end()) scored.push_back(run.goal_metric);
    // The objective leaves each trial's model here; on_trial keeps it when the trial is
    // the best so far by the search's own rule (training::TrialIsBetter), so the model
    // kept is the best trial's.
    std::unique_ptr<training::Model> candidate;
    double best_value = std::nan(""), best_seconds = INFINITY;
    training::Objective objective = [&](const json& p, json& metrics) -> Result<double> {
      // Each trial's own parameters (the plan was checked at the search's upper bounds).
      LOUPE_RETURN_IF_ERROR(training::CheckTrainingMemory(run.model, plan.shape, training::ValidatedParams{p, {}},
                                                          options_.training_memory_bytes));
      Result<std::unique_ptr<training::Model>> m =
          training::MakeModel(run.model, task, num_classes, CapThreads(p, options_.threads_per_job), RunDir(run_id));
      if (!m.ok()) return m.status();
      LOUPE_RETURN_IF_ERROR((*m)->Train(train.view(), nullptr, {}, stop));
      LOUPE_ASSIGN_OR_RETURN(training::Predictions pred, (*m)->Predict(validation.x));
      training::SplitEvaluation ev = training::Evaluate(task, num_classes, pred, validation.view(), scored);
      for (const auto& [k, v] : ev.values) metrics[k] = v;
      auto goal = ev.values.find(run.goal_metric);
      if (goal == ev.values.end()) return Status::InvalidArgument(ev.errors[run.goal_metric]);
      candidate = std::move(*m);
      return goal->second;
    };
    double running_best = std::nan("");
    Status trials_stored;  // the first trial the store refused ends the run after the search
    auto on_trial = [&](const training::Trial& t) {
      if (candidate && std::isfinite(t.value) && training::TrialIsBetter(maximize, t.value, t.seconds, best_value, best_seconds)) {
        best_value = t.value;
        best_seconds = t.seconds;
        model = std::move(candidate);
      }
      candidate.reset();
      Status st = store_.AddRunTrial({run_id, t.number, t.params.dump(), t.value, t.error, t.metrics.dump(), t.seconds});
      std::vector<RunMetric> level;
      for (const auto& [k, v] : t.metrics.items()) level.push_back({"validation", k, "TRIAL", t.number, v.get<double>()});
      if (st.ok()) st = store_.AddRunMetrics(run_id, level);
      if (!st.ok() && trials_stored.ok()) trials_stored = st;
      if (std::isfinite(t.value)) {
        if (std::isnan(running_best) || (maximize ? t.value > running_best : t.value < running_best)) running_best = t.value;
        curves.Add("search/" + run.goal_metric, t.number, t.value);
        curves.Add("search/best_" + run.goal_metric, t.number, running_best);
      }
      curves.Flush();
    };
    LOUPE_ASSIGN_OR_RETURN(
        training::SearchResult sr,
        training::RunSearch(
            plan.params.search_space, plan.params.values,
            training::SearchOptionsFrom(run.optimizer, ParseBoundedJson(run.optimizer_parameters_json)),
            maximize, objective, on_trial, stop));
    LOUPE_RETURN_IF_ERROR(trials_stored);
    if (sr.best < 0 || !model) {
      std::string why = sr.trials.empty() ? "no trial ran" : sr.trials.back().error;
      return Status::InvalidArgument("every trial failed; the last one: " + why);
    }
    const training::Trial& best = sr.trials[static_cast<size_t>(sr.best)];
    best_params = best.params;
    json space = json::array();
    for (const auto& d : plan.params.search_space) {
      space.push_back({{"name", d.name}, {"lower", d.lower}, {"upper", d.upper}, {"integer", d.integer}, {"log", d.log_scale}});
    }
    search_summary = {
        {"trials", sr.trials.size()}, {"best_trial", best.number}, {"best_value", best.value}, {"search_space", space},
        {"best_rule", training::kBestTrialRule}};
  }
  const double train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Score every split with the session's metrics, and the baseline beside them.
  json confusion = json::object(), metric_errors = json::object(), rows = json::object();
  std::vector<RunMetric> last;
  const std::map<std::string, const char*> fields = {{"train", "train_metrics"}, {"validation", "validation_metrics"},
                                                     {"test", "test_metrics"}};
  const training::Baseline baseline = training::FitBaseline(task, num_classes, plan.feature_spec.classes, train.view());
  json baseline_metrics = json::object(), beats = json::object();
  for (const TrainingPlan::Part& p : plan.parts) {
    rows[p.name] = p.x.rows;
    if (p.x.rows == 0) continue;
    LOUPE_ASSIGN_OR_RETURN(training::Predictions pred, model->Predict(p.x));
    std::vector<std::string> names = spec[fields.at(p.name)].get<std::vector<std::string>>();
    training::SplitEvaluation ev = training::Evaluate(task, num_classes, pred, p.view(), names);
    for (const auto& [k, v] : ev.values) {
      last.push_back({p.name, k, "LAST", 0, v});
      curves.Add(p.name + "/" + k, 0, v);
    }
    for (const auto& [k, why] : ev.errors) metric_errors[p.name + "/" + k] = why;
    if (training::IsClassification(task)) confusion[p.name] = ConfusionJson(ev.confusion);
    training::SplitEvaluation base = training::Evaluate(
        task, num_classes, training::PredictBaseline(baseline, task, p.x.rows), p.view(), names);
    for (const auto& [k, v] : base.values) {
      baseline_metrics[p.name][k] = v;
      auto mine = ev.values.find(k);
      if (mine != ev.values.end()) beats[p.name][k] = training::BeatsBaseline(k, mine->second, v);
    }
  }
  // The verdict the pages show: the goal metric on the test split (else validation,
  // else train), or the split's first metric in the session's order when the goal is
  // not scored there.
  json verdict = nullptr;
  for (const char* split : {"test", "validation", "train"}) {
    if (!beats.contains(split) || beats[split].empty()) continue;
    std::string metric = run.goal_metric;
    if (!beats[split].contains(metric)) {
      for (const json& m : spec[fields.at(split)]) {
        if (beats[split].contains(m.get<std::string>())) {
          metric = m.get<std::string>();
          break;
        }
      }
    }
    if (!beats[split].contains(metric)) continue;
    verdict = {{"split", split}, {"metric", metric}, {"beats", beats[split][metric]}};
    break;
  }
  const json baseline_json = {{"strategy", baseline.description}, {"metrics", baseline_metrics}, {"beats", beats},
                              {"verdict", verdict}};
  curves.Flush();
  LOUPE_RETURN_IF_ERROR(store_.AddRunMetrics(run_id, last));

  const std::string file = "model." + plan.model_info->file_extension;
  LOUPE_RETURN_IF_ERROR(model->Save(RunDir(run_id) + "/" + file));
  json result = {{"feature_spec", plan.feature_spec.ToJson()},
                 {"parameters", best_params},
                 {"confusion_matrix", confusion},
                 {"metric_errors", metric_errors},
                 {"rows", rows},
                 {"dropped_rows", plan.dropped_rows},
                 {"train_seconds", train_seconds},
                 {"model_file", file},
                 {"model_bytes", std::filesystem::file_size(RunDir(run_id) + "/" + file, ec)},
                 {"search", search_summary},
                 {"baseline", baseline_json}};
  if (task == TaskKind::kImageClassification) {
    // The pixel scale the images were trained on (255 for 8-bit, 16 for the digits): the
    // predict form maps an uploaded picture's 0-255 greys onto it.
    float top = 0;
    for (float v : train.x.x) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
    result["pixel_max"] = top;
    // How light the training pictures' borders are (0 black .. 1 white): the predict
    // form inverts an uploaded picture whose background is the other way round.
    const size_t cols = train.x.cols;
    const int side = datasets::ImageSide(cols);
    double border = 0;
    size_t n = 0;
    for (size_t r = 0; side > 0 && top > 0 && r < train.x.rows; ++r) {
      for (int y = 0; y < side; ++y) {
        for (int x = 0; x < side; ++x) {
          if (y > 0 && x > 0 && y < side - 1 && x < side - 1) continue;
          const float v = train.x.x[r * cols + static_cast<size_t>(y * side + x)];
          if (!std::isfinite(v)) continue;
          border += v / top;
          ++n;
        }
      }
    }
    result["pixel_background"] = n ? border / static_cast<double>(n) : 0.0;
  }
  LOUPE_RETURN_IF_ERROR(store_.SaveRunResult(run_id, result.dump(), experiment_id));
  return json{{"run_id", run_id}, {"experiment_id", experiment_id}, {"train_seconds", train_seconds}};
}

}  // namespace loupe::runs
