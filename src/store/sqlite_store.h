// SqliteStore: the embedded Store. One database file (WAL mode) under the data dir;
// writes go through a GroupCommitWriter (SqliteWriter), reads through a pool of read-only
// connections, each borrowed by one thread for one call.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "store/group_commit_writer.h"
#include "store/series_writer.h"
#include "store/store.h"
#include "store/wal_checkpointer.h"

namespace loupe {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const StoreOptions& options);
  ~SqliteStore() override;

  Status WriteHealth() override { return writer_->Health(); }
  Result<std::vector<Project>> ListProjects() override;
  Result<Project> GetProject(int64_t id) override;
  Status UpdateProject(int64_t id, const std::string& name, const std::string& description) override;
  Status DeleteProject(int64_t id) override;

  Result<CreatedExperiment> CreateOrResumeExperiment(const NewExperiment& e) override;
  Result<Experiment> GetExperiment(int64_t id) override;
  Result<std::vector<Experiment>> ListExperiments(int64_t project_id) override;
  Status PatchExperiment(int64_t id, const ExperimentPatch& patch) override;
  Status MergeConfig(int64_t id, const std::string& config_json) override;
  Status SetSystem(int64_t id, const std::string& system_json, const std::string& requirements) override;
  Result<RunStatus> SetStatus(int64_t id, RunStatus s) override;
  Result<Experiment> StopIfRunning(int64_t id) override;
  Result<RunStatus> FinishFromClient(int64_t id, RunStatus s, const std::string& client, int64_t at) override;
  Result<RunStatus> Heartbeat(int64_t id) override;
  Result<int> CrashStaleRuns(int64_t cutoff_micros) override;
  Status DeleteExperiment(int64_t id) override;

  Result<WriteAck> WriteMetrics(const MetricBatch& batch) override;
  Result<std::vector<Series>> ListSeries(int64_t experiment_id) override;
  Result<Series> GetSeries(int64_t experiment_id, const std::string& key) override;
  Result<SeriesResult> QuerySeries(int64_t series_id, const SeriesQuery& q) override;

  Result<std::vector<Chart>> ListCharts(int64_t experiment_id) override;
  Result<int64_t> CountProjectCharts(int64_t project_id) override;
  Result<std::vector<Namespace>> ListNamespaces(int64_t experiment_id) override;
  Result<Chart> SetChartStatus(int64_t chart_id, int status) override;
  Status SetNamespaceOpened(int64_t namespace_id, int opened) override;
  Status SetUiState(const std::string& key, const std::string& value) override;
  Result<std::string> GetUiState(const std::string& key) override;

  Result<WriteAck> AppendConsole(const ConsoleBatch& batch) override;
  Result<std::vector<ConsoleLine>> TailConsole(int64_t experiment_id, int limit) override;
  Result<int64_t> EnqueueJob(const std::string& type, const std::string& kwargs_json) override;
  Result<std::optional<JobRecord>> ClaimJob() override;
  Status FinishJob(int64_t id, WorkStatus status, const std::string& error,
                   const std::string& result_json) override;
  Result<JobRecord> GetJob(int64_t id) override;
  Result<std::vector<JobRecord>> ListJobs(int limit) override;
  Status CancelJob(int64_t id) override;
  Status RetryJob(int64_t id) override;
  Result<int> FailInterruptedJobs(const std::string& reason) override;

  Result<int64_t> CreateModelSession(const ModelSessionRecord& s) override;
  Result<ModelSessionRecord> GetModelSession(int64_t id) override;
  Result<std::vector<ModelSessionRecord>> ListModelSessions() override;
  Result<int64_t> CreateRun(const RunRecord& r) override;
  Result<RunRecord> GetRun(int64_t id) override;
  Result<std::vector<RunRecord>> ListRuns(int64_t session_id) override;
  Status TransitionRun(int64_t id, const std::vector<WorkStatus>& from, WorkStatus status,
                       const std::string& error) override;
  Status SaveRunResult(int64_t id, const std::string& result_json, int64_t experiment_id) override;
  Status SetRunJob(int64_t id, int64_t job_id) override;
  Result<int64_t> QueueRun(int64_t id, const std::vector<WorkStatus>& from, const std::string& job_type,
                           const std::string& kwargs_json) override;
  Status RequeueRun(int64_t id, const std::vector<WorkStatus>& from, int64_t job_id) override;
  Result<std::vector<int64_t>> ReleaseOrphanedRuns() override;
  Status ClearRunResults(int64_t id) override;
  Status DeleteRun(int64_t id) override;
  Result<std::vector<int64_t>> DeleteModelSession(int64_t id) override;
  Status AddRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics) override;
  Result<std::vector<RunMetric>> ListRunMetrics(int64_t run_id) override;
  Result<std::map<int64_t, std::vector<RunMetric>>> ListFinalRunMetrics(int64_t session_id) override;
  Status AddRunTrial(const TrialRecord& t) override;
  Result<std::vector<TrialRecord>> ListRunTrials(int64_t run_id) override;
  Result<int64_t> CreateExplorer(const ExplorerRecord& e) override;
  Result<ExplorerRecord> GetExplorer(int64_t id) override;
  Result<std::vector<ExplorerRecord>> ListExplorers(int64_t dataset_id) override;
  Status UpdateExplorer(const ExplorerRecord& e) override;
  Status SetExplorerJob(int64_t id, int64_t job_id) override;
  Result<int> FailInterruptedRuns(const std::string& reason) override;
  Result<int> FailInterruptedExplorers(const std::string& reason) override;
  Result<int64_t> CreateDataset(const DatasetRecord& d) override;
  Status UpdateDataset(const DatasetRecord& d) override;
  Result<DatasetRecord> GetDataset(int64_t id) override;
  Result<std::vector<DatasetRecord>> ListDatasets() override;
  Status DeleteDataset(int64_t id) override;
  Result<std::vector<ConsoleLine>> ReadConsole(int64_t experiment_id, int64_t from_line, int limit) override;
  Result<int64_t> CountConsole(int64_t experiment_id) override;
  Result<std::vector<ConsoleLine>> SearchConsole(int64_t experiment_id, const std::string& needle, int stream,
                                                 int limit) override;
  Result<std::vector<std::pair<std::string, int64_t>>> ListProjectKeys(int64_t project_id) override;
  Result<std::vector<std::pair<int64_t, double>>> LastValues(int64_t project_id, const std::string& key) override;
  Result<WriteAck> AddMedia(const MediaItem& item) override;
  Result<std::vector<MediaItem>> ListMedia(int64_t experiment_id, const std::string& key,
                                           int limit) override;
  Result<std::vector<std::string>> ListMediaFilenames(int64_t experiment_id) override;

  void Close() override;

 private:
  // A read connection borrowed from the pool for the lifetime of the lease.
  class Reader {
   public:
    Reader(SqliteStore* store, std::unique_ptr<SqliteDb> db) : store_(store), db_(std::move(db)) {}
    ~Reader();
    Reader(Reader&&) = default;
    SqliteDb& db() { return *db_; }
   private:
    SqliteStore* store_;
    std::unique_ptr<SqliteDb> db_;
  };

  explicit SqliteStore(StoreOptions options) : options_(std::move(options)) {}
  Result<Reader> Borrow();
  // Runs a write op on the writer thread; blocks until committed.
  Status Write(SqliteWriter::Op op, size_t weight = 1);
  // The job rows a queued run writes in its own transaction (sqlite_store_jobs.cc).
  static Result<int64_t> InsertJob(SqliteDb& db, const std::string& type, const std::string& kwargs_json);
  static Status RequeueJob(SqliteDb& db, int64_t id);

  StoreOptions options_;
  std::string path_;
  SeriesWriter series_writer_;  // writer thread only
  std::unique_ptr<WalCheckpointer> checkpointer_;  // outlives the writer, whose hook calls it
  std::unique_ptr<SqliteWriter> writer_;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteDb>> pool_ GUARDED_BY(pool_mu_);
};

}  // namespace loupe
