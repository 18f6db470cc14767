// Store: everything Loupe keeps, behind one interface.
//
// SqliteStore (store/sqlite_store.h) is the embedded default. A PostgreSQL store
// implements the same class: see docs/architecture.md. All methods are thread-safe.
// Writes are durable when they return OK: they pass through one writer that
// group-commits whatever requests are waiting, so a caller blocks for about one
// commit. Reads never wait for writes (WAL snapshots).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store_types.h"

namespace loupe {

class Store {
 public:
  virtual ~Store() = default;

  // Projects.
  virtual Result<std::vector<Project>> ListProjects() = 0;
  virtual Result<Project> GetProject(int64_t id) = 0;
  virtual Status UpdateProject(int64_t id, const std::string& name,
                               const std::string& description) = 0;
  virtual Status DeleteProject(int64_t id) = 0;  // Conflict while a run is running

  // Experiments.
  virtual Result<CreatedExperiment> CreateOrResumeExperiment(const NewExperiment& e) = 0;
  virtual Result<Experiment> GetExperiment(int64_t id) = 0;
  virtual Result<std::vector<Experiment>> ListExperiments(int64_t project_id) = 0;
  virtual Status UpdateExperiment(const Experiment& e) = 0;  // name, description, show
  virtual Status MergeConfig(int64_t id, const std::string& config_json) = 0;
  virtual Status SetSystem(int64_t id, const std::string& system_json,
                           const std::string& requirements) = 0;
  // Sets status (and finish_time unless running). Returns the status now stored.
  virtual Result<RunStatus> SetStatus(int64_t id, RunStatus s) = 0;
  virtual Result<RunStatus> Heartbeat(int64_t id) = 0;
  // Marks running experiments whose last sign of life is older than `cutoff` crashed.
  virtual Result<int> CrashStaleRuns(int64_t cutoff_micros) = 0;
  virtual Status DeleteExperiment(int64_t id) = 0;

  // Metrics.
  // Keys of a project's experiments with how many experiments have each, most common first.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListProjectKeys(int64_t project_id) = 0;
  // The last value of `key` for every experiment of the project that has it.
  virtual Result<std::vector<std::pair<int64_t, double>>> LastValues(int64_t project_id, const std::string& key) = 0;
  virtual Result<WriteAck> WriteMetrics(const MetricBatch& batch) = 0;
  virtual Result<std::vector<Series>> ListSeries(int64_t experiment_id) = 0;
  virtual Result<Series> GetSeries(int64_t experiment_id, const std::string& key) = 0;
  virtual Result<SeriesResult> QuerySeries(int64_t series_id, const SeriesQuery& q) = 0;

  // Charts and their groups, created with the series.
  virtual Result<std::vector<Chart>> ListCharts(int64_t experiment_id) = 0;
  virtual Result<int64_t> CountProjectCharts(int64_t project_id) = 0;
  virtual Result<std::vector<Namespace>> ListNamespaces(int64_t experiment_id) = 0;
  virtual Result<Chart> SetChartStatus(int64_t chart_id, int status) = 0;
  virtual Status SetNamespaceOpened(int64_t namespace_id, int opened) = 0;
  // UI state with no row of its own: pinned/hidden groups, project-level namespaces.
  virtual Status SetUiState(const std::string& key, const std::string& value) = 0;
  virtual Result<std::string> GetUiState(const std::string& key) = 0;

  // Console and media.
  virtual Result<WriteAck> AppendConsole(const ConsoleBatch& batch) = 0;
  virtual Result<std::vector<ConsoleLine>> TailConsole(int64_t experiment_id, int limit) = 0;
  // Lines with line_no >= from_line, in order; line numbers start at 1 and have no gaps.
  virtual Result<std::vector<ConsoleLine>> ReadConsole(int64_t experiment_id, int64_t from_line, int limit) = 0;
  virtual Result<int64_t> CountConsole(int64_t experiment_id) = 0;
  // Lines whose text contains `needle` (ASCII case-insensitive; empty matches all), in
  // order, at most `limit`; `stream` -1 for both.
  virtual Result<std::vector<ConsoleLine>> SearchConsole(int64_t experiment_id, const std::string& needle,
                                                         int stream, int limit) = 0;
  virtual Result<WriteAck> AddMedia(const MediaItem& item) = 0;
  virtual Result<std::vector<MediaItem>> ListMedia(int64_t experiment_id,
                                                   const std::string& key, int limit) = 0;

  // Datasets. Names are unique (Conflict).
  virtual Result<int64_t> CreateDataset(const DatasetRecord& d) = 0;
  virtual Status UpdateDataset(const DatasetRecord& d) = 0;  // name, rows, columns, update_time
  virtual Result<DatasetRecord> GetDataset(int64_t id) = 0;
  virtual Result<std::vector<DatasetRecord>> ListDatasets() = 0;
  virtual Status DeleteDataset(int64_t id) = 0;

  // The job queue. Claim takes the oldest queued job and marks it STARTED in the same
  // transaction, so two workers never get the same job.
  virtual Result<int64_t> EnqueueJob(const std::string& type, const std::string& kwargs_json) = 0;
  virtual Result<std::optional<JobRecord>> ClaimJob() = 0;
  virtual Status FinishJob(int64_t id, const std::string& status, const std::string& error,
                           const std::string& result_json) = 0;
  virtual Result<JobRecord> GetJob(int64_t id) = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(int limit) = 0;
  // NOT_STARTED -> CANCELLED; Conflict for a job already started or done.
  virtual Status CancelJob(int64_t id) = 0;
  // ERROR or CANCELLED -> NOT_STARTED; Conflict otherwise.
  virtual Status RetryJob(int64_t id) = 0;
  // At start-up: jobs left STARTED by a process that died become ERROR with `reason`.
  virtual Result<int> FailInterruptedJobs(const std::string& reason) = 0;

  // Model sessions and runs.
  virtual Result<int64_t> CreateModelSession(const ModelSessionRecord& s) = 0;
  virtual Result<ModelSessionRecord> GetModelSession(int64_t id) = 0;
  virtual Result<std::vector<ModelSessionRecord>> ListModelSessions() = 0;
  virtual Result<int64_t> CreateRun(const RunRecord& r) = 0;
  virtual Result<RunRecord> GetRun(int64_t id) = 0;
  virtual Result<std::vector<RunRecord>> ListRuns(int64_t session_id) = 0;  // 0: every session
  // Moves a run to `status` (setting the matching time and the error text) only from
  // one of `from`; Conflict names the current status.
  virtual Status TransitionRun(int64_t id, const std::vector<std::string>& from, const std::string& status,
                               const std::string& error) = 0;
  virtual Status SaveRunResult(int64_t id, const std::string& result_json, int64_t experiment_id) = 0;
  // Records the job that trains it, whatever its status by now (a worker may already
  // have started it).
  virtual Status SetRunJob(int64_t id, int64_t job_id) = 0;
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

  // Explorers.
  virtual Result<int64_t> CreateExplorer(const ExplorerRecord& e) = 0;
  virtual Result<ExplorerRecord> GetExplorer(int64_t id) = 0;
  virtual Result<std::vector<ExplorerRecord>> ListExplorers(int64_t dataset_id) = 0;  // 0: all
  // status, error, result_json, end_time
  virtual Status UpdateExplorer(const ExplorerRecord& e) = 0;
  // Records the job that computes it; NOT_STARTED becomes DELIVERED (a job already
  // running keeps its status).
  virtual Status SetExplorerJob(int64_t id, int64_t job_id) = 0;

  // At start-up: runs and explorers left STARTED by a process that died become ERROR.
  virtual Result<int> FailInterruptedRuns(const std::string& reason) = 0;

  // Blocks until every accepted write is committed, then stops the writer.
  virtual void Close() = 0;
};

struct StoreOptions {
  std::string data_dir = "./data";  // the database lives at <data_dir>/loupe.db
  // FULL fsyncs the WAL on every group commit (survives power loss); NORMAL survives
  // a process crash (kill -9) but not a power cut. Default FULL.
  bool sync_full = true;
  // A group commit closes after this many points even if more are waiting.
  size_t max_points_per_commit = 500000;
  // The SQLite VFS to open the database with; empty: SQLite's default. Tests name one
  // that injects disk-full, I/O and fsync faults.
  std::string vfs;
  // A passive checkpoint (off the writer thread) starts once the WAL holds this much;
  // past `wal_limit_bytes` a restart checkpoint waits for readers so the WAL cannot
  // grow without bound, and the WAL file is truncated back to that size.
  int64_t wal_checkpoint_bytes = int64_t{16} << 20;
  int64_t wal_limit_bytes = int64_t{64} << 20;
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options);

}  // namespace loupe
