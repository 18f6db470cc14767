// SqliteStore: the embedded Store. One database file (WAL mode) under the data dir;
// writes go through a GroupCommitWriter (SqliteWriter), reads through a pool of read-only
// connections, each borrowed by one thread for one call.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "store/group_commit_writer.h"
#include "store/search_matches.h"
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
  Result<std::vector<Experiment>> ListExperimentsBrief(int64_t project_id) override;
  Status PatchExperiment(int64_t id, const ExperimentPatch& patch) override;
  Status MergeConfig(int64_t id, const std::string& config_json) override;
  Status SetSystem(int64_t id, const std::string& system_json, const std::string& requirements) override;
  Result<RunStatus> SetStatus(int64_t id, RunStatus s) override;
  Result<Experiment> StopIfRunning(int64_t id) override;
  Result<RunStatus> FinishFromClient(int64_t id, RunStatus s, const std::string& client, int64_t at,
                                     const std::string& error) override;
  Result<RunStatus> Heartbeat(int64_t id) override;
  Result<int> CrashStaleRuns(int64_t cutoff_micros) override;
  Status DeleteExperiment(int64_t id) override;

  Result<WriteAck> WriteMetrics(const MetricBatch& batch) override;
  Result<std::vector<Series>> ListSeries(int64_t experiment_id) override;
  Result<Series> GetSeries(int64_t experiment_id, const std::string& key) override;
  Result<SeriesResult> QuerySeries(int64_t series_id, const SeriesQuery& q) override;

  Result<std::vector<Chart>> ListCharts(int64_t experiment_id) override;
  Result<std::vector<Namespace>> ListNamespaces(int64_t experiment_id) override;
  Result<std::vector<Chart>> ListProjectCharts(int64_t project_id) override;
  Result<std::vector<Namespace>> ListProjectNamespaces(int64_t project_id) override;
  Result<bool> ProjectHasCharts(int64_t project_id) override;
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
  // AuthStore (sqlite_store_auth.cc).
  Result<int64_t> CreateUser(const UserRecord& u) override;
  Result<UserRecord> GetUserByName(const std::string& name) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Status SetUserPassword(int64_t user_id, const std::string& password_hash) override;
  Status SetUserRole(int64_t user_id, const std::string& role) override;
  Status DeleteUser(int64_t user_id) override;
  Result<int64_t> CreateToken(int64_t user_id, const std::string& token_hash, const std::string& label,
                              const std::string& hint) override;
  Result<std::vector<TokenRecord>> ListTokens(int64_t user_id) override;
  Result<TokenRecord> GetToken(int64_t token_id) override;
  Status DeleteToken(int64_t token_id) override;
  Result<std::optional<Principal>> FindToken(const std::string& token_hash) override;
  Status TouchToken(int64_t token_id, int64_t at) override;
  Status CreateSession(const std::string& session_hash, int64_t user_id, int64_t expires, int64_t token_id) override;
  Result<int> DeleteUserSessions(int64_t user_id) override;
  Result<std::optional<Principal>> FindSession(const std::string& session_hash, int64_t now) override;
  Status DeleteSession(const std::string& session_hash) override;
  Status CreateLoginCode(const std::string& code_hash, int64_t user_id, int64_t expires) override;
  Result<std::optional<int64_t>> UseLoginCode(const std::string& code_hash, int64_t now) override;
  Status AppendAudit(const AuditEntry& e, int64_t keep, int64_t keep_same) override;
  Result<std::vector<AuditEntry>> ListAudit(int64_t before_id, int limit) override;
  // SecretStore (sqlite_store_secrets.cc).
  Status PutSecret(const SealedSecret& s, int64_t max_count) override;
  Result<SealedSecret> GetSecret(const std::string& name) override;
  Result<std::vector<SealedSecret>> ListSecrets() override;
  Status DeleteSecret(const std::string& name) override;
  // ArtifactStore (sqlite_store_artifacts.cc).
  Result<CreatedArtifactVersion> CreateArtifactVersion(const NewArtifactVersion& v, int64_t max_versions) override;
  Result<std::vector<ArtifactSummary>> ListArtifacts() override;
  Result<std::vector<ArtifactVersion>> ListArtifactVersions(const std::string& name) override;
  Result<ArtifactVersion> GetArtifactVersion(int64_t id) override;
  Result<ArtifactVersion> ResolveArtifactVersion(const std::string& name, const std::string& selector) override;
  Result<std::vector<ArtifactFile>> ListArtifactFiles(int64_t version_id) override;
  Status AddArtifactAlias(int64_t version_id, const std::string& alias) override;
  Status RemoveArtifactAlias(int64_t version_id, const std::string& alias) override;
  Status RecordArtifactUse(int64_t version_id, int64_t experiment_id, int64_t time) override;
  Result<std::vector<RunRef>> ArtifactVersionUsers(int64_t version_id) override;
  Result<RunArtifacts> ArtifactsOfRun(int64_t experiment_id) override;
  Status DeleteArtifactVersion(int64_t version_id) override;
  Result<std::vector<std::string>> ReferencedChunks() override;
  Result<ModelVersion> RegisterModelVersion(const std::string& model, int64_t artifact_version_id,
                                            const std::string& description, const std::vector<std::string>& aliases,
                                            int64_t time, const std::string& created_by) override;
  Result<std::vector<RegisteredModel>> ListModels() override;
  Result<RegisteredModel> GetModel(const std::string& name) override;
  Result<std::vector<ModelVersion>> ListModelVersions(const std::string& model) override;
  Result<ModelVersion> ResolveModelVersion(const std::string& model, const std::string& selector) override;
  Status SetModelAlias(const std::string& model, const std::string& alias, int64_t version, int64_t time) override;
  Status RemoveModelAlias(const std::string& model, const std::string& alias) override;
  Status UpdateModelDescription(const std::string& model, const std::string& description, int64_t time) override;
  Status DeleteModelVersion(const std::string& model, int64_t version) override;
  Result<std::vector<std::pair<std::string, int64_t>>> RegistrationsOf(int64_t artifact_version_id) override;

  // LlmStore (sqlite_store_llm.cc).
  Result<LlmModel> CreateLlmModel(const LlmModel& m, int64_t max_count) override;
  Status UpdateLlmModel(const LlmModel& m) override;
  Status SetLlmModelProbe(int64_t id, const std::string& probe_json) override;
  Result<LlmModel> GetLlmModel(int64_t id) override;
  Result<std::vector<LlmModel>> ListLlmModels() override;
  Status DeleteLlmModel(int64_t id) override;

  // ChatStore (sqlite_store_chats.cc).
  Result<Conversation> CreateConversation(const Conversation& c) override;
  Status UpdateConversation(const Conversation& c) override;
  Result<Conversation> GetConversation(int64_t id) override;
  Result<std::vector<Conversation>> ListConversations(int64_t limit, int64_t offset) override;
  Status DeleteConversation(int64_t id) override;
  Result<ChatMessageRecord> AddUserMessage(const ChatMessageRecord& m) override;
  Result<std::vector<ChatMessageRecord>> ListMessages(int64_t conversation_id) override;
  Result<ChatMessageRecord> GetMessage(int64_t id) override;
  Result<ChatMessageRecord> RecordAnswer(const ChatMessageRecord& answer, const Prediction& p) override;
  Result<int64_t> RecordPrediction(const Prediction& p) override;
  Result<Prediction> GetPrediction(int64_t id) override;

  // ComparisonStore (sqlite_store_comparisons.cc).
  Result<Comparison> CreateComparison(const Comparison& c, const std::vector<ComparisonRow>& rows) override;
  Result<Comparison> GetComparison(int64_t id) override;
  Result<std::vector<Comparison>> ListComparisons(int64_t limit, int64_t offset) override;
  Result<int64_t> CountComparisons() override;
  Result<std::vector<ComparisonRow>> ListComparisonRows(int64_t comparison_id, bool decided_only, int64_t after_row_id,
                                                        int64_t limit) override;
  Result<ComparisonRow> GetComparisonRow(int64_t row_id) override;
  Result<int64_t> RecordComparisonAnswer(int64_t cell_id, const Prediction& p) override;
  Result<std::vector<PendingCell>> PendingComparisonCells(int64_t comparison_id) override;
  Status DecideComparisonRow(int64_t row_id, const RowDecision& d) override;
  Status RevealComparison(int64_t id) override;
  Status DeleteComparison(int64_t id) override;

  // BatchStore (sqlite_store_batches.cc).
  Result<BatchRun> CreateBatchRun(const BatchRun& run, const std::vector<BatchCase>& cases) override;
  Result<BatchRun> GetBatchRun(int64_t id) override;
  Result<std::vector<BatchRun>> ListBatchRuns(int64_t limit, int64_t offset) override;
  Result<std::vector<BatchResult>> ListBatchResults(int64_t run_id, bool answered_only, int64_t after_cell,
                                                    int64_t limit) override;
  Result<std::vector<PendingBatchCell>> PendingBatchCells(int64_t run_id, int64_t limit) override;
  Status RecordBatchResults(const std::vector<BatchWrite>& writes, int64_t now) override;
  Status RecordBatchJudge(int64_t cell_id, const std::string& verdict_json, std::optional<double> score,
                          std::optional<bool> passed, int64_t now) override;
  Result<std::optional<int64_t>> FindCachedAnswer(const std::string& cache_key) override;
  Status SetBatchRunStatus(int64_t id, const std::string& status, int64_t now) override;
  Status DeleteBatchRun(int64_t id) override;

  // LaunchStore (sqlite_store_launch.cc).
  Result<int64_t> CreateLaunchJob(const LaunchJob& job) override;
  Status UpdateLaunchJob(const LaunchJob& job, const std::optional<LaunchEvent>& event) override;
  Result<LaunchJob> GetLaunchJob(int64_t id) override;
  Result<std::vector<LaunchJob>> ListLaunchJobs(int64_t limit) override;
  Result<std::vector<LaunchJob>> ActiveLaunchJobs() override;
  Result<std::optional<int64_t>> LaunchJobOfExperiment(int64_t experiment_id) override;
  Status StartLaunchSegment(const LaunchSegment& seg, const LaunchJob& job, const LaunchEvent& event) override;
  Status EndLaunchSegment(int64_t job_id, int seq, int64_t end_time, const std::string& end_text) override;
  Status SetLaunchSegmentTimes(int64_t job_id, int seq, int64_t start_time, int64_t end_time) override;
  Status SetLaunchSegmentRate(int64_t job_id, int seq, double rate_per_hour) override;
  Result<std::vector<LaunchSegment>> ListLaunchSegments(int64_t job_id) override;
  Result<std::vector<LaunchEvent>> ListLaunchEvents(int64_t job_id) override;
  Result<std::map<std::string, double>> LaunchPrices() override;
  Status SetLaunchPrices(const std::map<std::string, double>& prices) override;
  Result<int64_t> ConsoleOffset(int64_t experiment_id, const std::string& client) override;

  // SuiteStore (sqlite_store_suites.cc).
  Result<EvalSuite> CreateSuite(const EvalSuite& s) override;
  Status UpdateSuite(const EvalSuite& s) override;
  Result<EvalSuite> GetSuite(int64_t id) override;
  Result<EvalSuite> GetSuiteByName(const std::string& name) override;
  Result<std::vector<EvalSuite>> ListSuites() override;
  Status DeleteSuite(int64_t id) override;
  Result<std::vector<BatchRun>> ListSuiteRuns(int64_t suite_id, int64_t limit) override;
  Result<std::vector<std::pair<int64_t, int64_t>>> FinishedSuiteRuns(int64_t suite_id, int64_t limit) override;
  Status AdvanceSuiteWatermark(int64_t suite_id, int64_t model_id, const std::string& error) override;
  Status SetSuiteError(int64_t suite_id, const std::string& error) override;
  Result<std::vector<SessionRunToTest>> SessionRunsToTest(const EvalSuite& suite, int64_t limit) override;

  // FeedbackStore (sqlite_store_feedback.cc).
  Result<std::vector<PredictionRow>> ListPredictions(const PredictionFilter& f) override;
  Result<int64_t> CountPredictions(const PredictionFilter& f) override;
  Result<Judgment> PutJudgment(const Judgment& j) override;
  Result<std::vector<Judgment>> PutJudgments(const std::vector<Judgment>& judgments) override;
  Result<std::vector<Judgment>> JudgmentsOfMany(const std::vector<int64_t>& prediction_ids,
                                                const std::string& source) override;
  Status RemoveJudgment(int64_t prediction_id, const std::string& criterion, const std::string& by) override;
  Result<std::vector<Judgment>> JudgmentsOf(int64_t prediction_id) override;
  Result<std::vector<std::pair<Judgment, Prediction>>> ListJudgments(const FeedbackFilter& f, int64_t after_id,
                                                                      int64_t limit) override;
  Result<FeedbackSummary> SummarizeFeedback(const FeedbackFilter& f) override;
  Result<std::vector<PredictionRow>> ListJudgedByPrompt(const PredictionFilter& f,
                                                        const std::optional<std::pair<std::string, int64_t>>& after,
                                                        int64_t limit) override;
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
  Result<std::vector<std::optional<MetricRange>>> MetricRanges(const std::string& key,
                                                              const std::vector<int64_t>& experiment_ids) override;
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
  static Result<int64_t> InsertJob(SqliteDb& db, const std::string& type, const std::string& kwargs_json,
                                   int64_t max_queued);
  // NoSpace when `count_sql` counts `max` or more (0: no limit); the message names `flag`.
  static Status CheckQuota(SqliteDb& db, const std::string& count_sql, int64_t max, const std::string& what,
                           const std::string& flag);
  // Adds `bytes` to an experiment's usage `column`, or refuses past `max` (0: no limit).
  static Status AddUsage(SqliteDb& db, int64_t experiment_id, const char* column, int64_t bytes, int64_t max,
                         const std::string& what, const std::string& flag);
  static Status RequeueJob(SqliteDb& db, int64_t id, int64_t max_queued);
  // Predictions' latest-rating columns, and one judgment in a transaction
  // (sqlite_store_feedback.cc).
  static Status PutJudgmentIn(SqliteDb& db, Judgment& j);
  static Status RefreshPredictionRating(SqliteDb& db, int64_t prediction_id);
  // The bitmap of a search's matches when it matches many predictions (more than
  // answering through SQLite's own IN-set suits); null without a search or with few.
  Result<std::shared_ptr<const SearchMatches>> ManySearchMatches(SqliteDb& db, const std::string& text);

  StoreOptions options_;
  std::string path_;
  SeriesWriter series_writer_;  // writer thread only
  std::unique_ptr<WalCheckpointer> checkpointer_;  // outlives the writer, whose hook calls it
  std::unique_ptr<SqliteWriter> writer_;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteDb>> pool_ GUARDED_BY(pool_mu_);
  SearchMatchCache search_matches_;  // predictions' searches that match many
};

}  // namespace loupe
