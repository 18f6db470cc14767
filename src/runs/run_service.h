// RunService: DashAI's model sessions and runs. A session fixes a dataset, a task, the
// columns, the metrics per split and a seeded split; a run trains one model in it,
// optionally under a hyperparameter search, as a ModelJob in the persistent queue.
// Every run is also a tracking experiment (project "Session <id>: <name>"), so its
// learning curves and final metrics show on the experiment dashboard. Trained models
// live under <data-dir>/runs/<run id>/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "datasets/dataset_service.h"
#include "store/run_store.h"
#include "training/model.h"
#include "training/task.h"
#include "tracking/tracking_service.h"

namespace loupe::training {
class Model;
}

namespace loupe::runs {

struct RunServiceOptions {
  std::string data_dir = "./data";
  size_t max_predict_rows = 10000;
  // The most threads one training job may use ("every core", 0, included): with N job
  // workers each gets cores / N, so parallel jobs do not oversubscribe the machine.
  int threads_per_job = 1;
  // Runs whose estimated training memory (training/memory_estimate.h) is above this
  // are refused when created and again before they train; 0: no limit.
  uint64_t training_memory_bytes = 0;
};

// A model's parameters with the libraries' thread counts ("nthread", "threads"; 0
// means every core) capped at `cap`.
nlohmann::json CapThreads(nlohmann::json params, int cap);

class RunService {
 public:
  RunService(RunStore& store, datasets::DatasetService& datasets, TrackingService& tracking, RunServiceOptions options);
  ~RunService();

  // DashAI's request bodies (see docs/api.md); errors name the field.
  Result<ModelSessionRecord> CreateSession(const nlohmann::json& body);
  Result<ModelSessionRecord> GetSession(int64_t id) { return store_.GetModelSession(id); }
  Result<std::vector<ModelSessionRecord>> ListSessions() { return store_.ListModelSessions(); }

  Result<RunRecord> CreateRun(const nlohmann::json& body);
  // Deletes the run (or the session and its runs) and the model files; Conflict while
  // a run is queued or training. Their tracking experiments stay, as tracked data.
  Status DeleteRun(int64_t id);
  Status DeleteSession(int64_t id);
  Result<RunRecord> GetRun(int64_t id) { return store_.GetRun(id); }
  Result<std::vector<RunRecord>> ListRuns(int64_t session_id) { return store_.ListRuns(session_id); }
  Result<std::vector<RunMetric>> RunMetrics(int64_t id) { return store_.ListRunMetrics(id); }
  Result<std::map<int64_t, std::vector<RunMetric>>> FinalRunMetrics(int64_t session_id) {
    return store_.ListFinalRunMetrics(session_id);
  }
  Result<std::vector<TrialRecord>> RunTrials(int64_t id) { return store_.ListRunTrials(id); }
  // The wizard's guess of task, output and inputs for a dataset (training/session_guess.h).
  Result<nlohmann::json> GuessSession(int64_t dataset_id, const std::string& output = "");
  // The session's runs ranked by its first validation metric (runs/leaderboard.h).
  Result<nlohmann::json> Leaderboard(int64_t session_id);
  // One run with its defaults for every model that fits the session's task and has none
  // yet (a run of it with no parameters and no search that did not fail), the way AutoML
  // tools start: [{model, run_id} | {model, run_id, skipped} | {model, error}]. The
  // caller queues the new runs.
  Result<nlohmann::json> CreateDefaultRuns(int64_t session_id);
  // history | slice | contour | importance (or 1-4), as a Plotly figure.
  Result<nlohmann::json> RunPlot(int64_t id, const std::string& kind);

  // ModelJob's hooks. QueueRun queues a new job for the run and RequeueRun a failed or
  // cancelled one again; either moves the run to DELIVERED with its job in the same
  // transaction (Conflict while it is queued or training). RunReleased puts it back to
  // NOT_STARTED after its queued job was cancelled.
  Result<int64_t> QueueRun(int64_t run_id, const std::string& job_type, const std::string& kwargs_json);
  Status RequeueRun(int64_t run_id, int64_t job_id);
  void RunReleased(int64_t run_id);
  // Trains the run (the job's work). The error is kept on the run and the job.
  // `stop` is asked between boosting rounds and trials: true ends the run as ERROR
  // "cancelled while running".
  Result<nlohmann::json> Execute(int64_t run_id, const std::function<bool()>& stop = {});
  // At start-up, before the job workers: runs that were training when the process died
  // become ERROR, and queued runs whose job is gone or no longer queued go back to
  // NOT_STARTED (logged).
  Status RecoverInterrupted();

  // rows: [{column: value}], or a file's bytes in a dataset format. Returns
  // {predictions: [{label, probabilities: {class: p}, warnings?} | {value, warnings?}],
  //  warnings: {blank: {column: rows}, unseen_categories: {column: {rows, values}}}}.
  Result<nlohmann::json> Predict(int64_t run_id, const nlohmann::json& rows);
  Result<nlohmann::json> PredictFile(int64_t run_id, const std::string& file_name, const std::string& bytes);
  // The file's rows as sent, each with its prediction, class probabilities and warnings, as CSV.
  Result<std::string> PredictFileCsv(int64_t run_id, const std::string& file_name, const std::string& bytes);
  // The trained model file and the name to download it as.
  Result<std::pair<std::string, std::string>> ModelFile(int64_t run_id);

 private:
  // A model loaded for prediction, with a lock: the libraries do not all promise
  // concurrent predictions on one model.
  struct LoadedModel {
    int64_t end_time = 0;
    uint64_t bytes = 0;  // its file's size, about what it holds in memory
    std::shared_ptr<training::Model> model;
    std::shared_ptr<std::mutex> mu;
  };

  // Execute's work once the run is STARTED: Prepare, StartExperiment, Fit, then the
  // final statuses of the run and its experiment (run_executor.cc).
  struct TrainingPlan;
  Result<nlohmann::json> Train(int64_t run_id, const std::function<bool()>& stop);
  Result<TrainingPlan> Prepare(int64_t run_id, const std::function<bool()>& stop);
  Result<int64_t> StartExperiment(int64_t run_id, const TrainingPlan& plan);
  // Trains (or searches), scores every split and saves the model, reporting curves to
  // the experiment; nothing writes to the experiment once it returns.
  Result<nlohmann::json> Fit(const TrainingPlan& plan, int64_t experiment_id, const std::function<bool()>& stop);
  // STARTED -> ERROR with the reason, logged; a store failure here is logged too (the
  // run then becomes ERROR at the next start, with the interrupted runs).
  void MarkFailed(int64_t run_id, const Status& why);
  void EndExperiment(int64_t experiment_id, RunStatus status);
  std::string RunDir(int64_t run_id) const;
  void ForgetRunFiles(int64_t run_id);
  struct Predicted {
    std::string model;
    training::FeatureSpec spec;
    datasets::RawTable raw;
    training::Predictions predictions;
    training::InputWarnings warnings;
  };
  Result<Predicted> PredictTable(int64_t run_id,
                                 const std::function<Result<datasets::RawTable>(const training::FeatureSpec&)>& read);
  Result<Predicted> PredictFileTable(int64_t run_id, const std::string& file_name, const std::string& bytes);
  static nlohmann::json PredictionsJson(int64_t run_id, const Predicted& p);
  Result<LoadedModel> LoadedModelFor(const RunRecord& run, const nlohmann::json& result);

  RunStore& store_;
  datasets::DatasetService& datasets_;
  TrackingService& tracking_;
  RunServiceOptions options_;
  std::mutex models_mu_;
  std::mutex default_runs_mu_;  // CreateDefaultRuns checks, then creates: one at a time
  // Loaded for prediction: 8 at most, and no more bytes than the training memory
  // budget (the newest is always kept).
  std::map<int64_t, LoadedModel> models_;
};

}  // namespace loupe::runs
