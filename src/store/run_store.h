// RunStore: model sessions, runs, their metrics and search trials.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/work_status.h"

namespace loupe {

// A model session (DashAI's ModelSession): a dataset, a task, the input and output
// columns, metrics per split and the seeded split. `spec_json` holds
// {input_columns, output_columns, train_metrics, validation_metrics, test_metrics,
// splits: {train, validation, test}, seed}.
struct ModelSessionRecord {
  int64_t id = 0;
  std::string name;
  int64_t dataset_id = 0;
  std::string task;
  std::string spec_json = "{}";
  int64_t create_time = 0;
};

// A run: one model with its parameters (and optionally a search) in a session.
// Status: NOT_STARTED -> DELIVERED (queued) -> STARTED -> FINISHED or ERROR (with the
// error text). `result_json` holds what the job learned: feature spec, confusion
// matrices, best parameters, timings, the model file.
struct RunRecord {
  int64_t id = 0;
  int64_t session_id = 0;
  std::string name;
  std::string model;
  std::string parameters_json = "{}";
  std::string optimizer;
  std::string optimizer_parameters_json = "{}";
  std::string goal_metric;
  WorkStatus status = WorkStatus::kNotStarted;
  std::string error;
  int64_t experiment_id = 0;
  int64_t job_id = 0;
  std::string result_json = "{}";
  int64_t create_time = 0;
  int64_t delivered_time = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
};

// A metric of a run. Level LAST is the final value per split and name; TRIAL values
// (step = trial number) come from a search.
struct RunMetric {
  std::string split;  // train | validation | test
  std::string name;
  std::string level = "LAST";
  int64_t step = 0;
  double value = 0;
};

struct TrialRecord {
  int64_t run_id = 0;
  int64_t trial = 0;
  std::string parameters_json = "{}";
  double value = 0;  // NaN when the trial failed
  std::string error;
  std::string metrics_json = "{}";
  double seconds = 0;
};

class RunStore {
 public:
  virtual ~RunStore() = default;

  // Model sessions and runs.
  virtual Result<int64_t> CreateModelSession(const ModelSessionRecord& s) = 0;
  virtual Result<ModelSessionRecord> GetModelSession(int64_t id) = 0;
  virtual Result<std::vector<ModelSessionRecord>> ListModelSessions() = 0;
  virtual Result<int64_t> CreateRun(const RunRecord& r) = 0;
  virtual Result<RunRecord> GetRun(int64_t id) = 0;
  virtual Result<std::vector<RunRecord>> ListRuns(int64_t session_id) = 0;  // 0: every session
  // Moves a run to `status` (setting the matching time and the error text) only from
  // one of `from`; Conflict names the current status.
  virtual Status TransitionRun(int64_t id, const std::vector<WorkStatus>& from, WorkStatus status,
                               const std::string& error) = 0;
  virtual Status SaveRunResult(int64_t id, const std::string& result_json, int64_t experiment_id) = 0;
  // Records the job that trains it, whatever its status by now (a worker may already
  // have started it).
  virtual Status SetRunJob(int64_t id, int64_t job_id) = 0;
  // Queues a run's job: moves the run from one of `from` to DELIVERED, inserts the job
  // (`job_type`, `kwargs_json`) and records it as the run's job, in one transaction, so
  // a crash never leaves a DELIVERED run without its job. Returns the job's id;
  // Conflict names the run's current status.
  virtual Result<int64_t> QueueRun(int64_t id, const std::vector<WorkStatus>& from, const std::string& job_type,
                                   const std::string& kwargs_json) = 0;
  // The same for a failed or cancelled job queued again (Conflict for any other job).
  virtual Status RequeueRun(int64_t id, const std::vector<WorkStatus>& from, int64_t job_id) = 0;
  // Deletes a run with its metrics and trials; Conflict while it is queued or training.
  virtual Status DeleteRun(int64_t id) = 0;
  // Deletes a session and all its runs; Conflict while one is queued or training.
  // Returns the deleted runs' ids.
  virtual Result<std::vector<int64_t>> DeleteModelSession(int64_t id) = 0;
  // Forgets a run's metrics and trials (it is about to train again).
  virtual Status ClearRunResults(int64_t id) = 0;
  virtual Status AddRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics) = 0;  // same key: replaced
  virtual Result<std::vector<RunMetric>> ListRunMetrics(int64_t run_id) = 0;
  // The final (LAST) metrics of every run of a session (0: every session) in one
  // query, for run tables.
  virtual Result<std::map<int64_t, std::vector<RunMetric>>> ListFinalRunMetrics(int64_t session_id) = 0;
  virtual Status AddRunTrial(const TrialRecord& t) = 0;
  virtual Result<std::vector<TrialRecord>> ListRunTrials(int64_t run_id) = 0;

  // At start-up: runs left STARTED by a process that died become ERROR.
  virtual Result<int> FailInterruptedRuns(const std::string& reason) = 0;
  // At start-up, before any job runs: DELIVERED runs whose job is missing or no longer
  // queued (a database from before QueueRun, or a process killed between a job's claim
  // and its run's start) go back to NOT_STARTED. Returns their ids.
  virtual Result<std::vector<int64_t>> ReleaseOrphanedRuns() = 0;
};

}  // namespace loupe
