// TrackingStore: projects, experiments, metric series, charts, console and media.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store_types.h"

namespace loupe {

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // OK while writes commit; after a failed commit (a full disk, an I/O error) the error,
  // until a commit succeeds again.
  virtual Status WriteHealth() = 0;

  // Projects.
  virtual Result<std::vector<Project>> ListProjects() = 0;
  virtual Result<Project> GetProject(int64_t id) = 0;
  // The old name keeps finding the project for resumes (see CreateOrResumeExperiment).
  virtual Status UpdateProject(int64_t id, const std::string& name,
                               const std::string& description) = 0;
  virtual Status DeleteProject(int64_t id) = 0;  // Conflict while a run is running

  // Experiments.
  // A client already registered gets its experiment back unchanged (a replay; Gone when
  // that experiment was deleted). Otherwise the run is found by run_id in the project
  // named, or in the project that had that name before a rename, and resumed (status
  // running, config merged, the client registered with its step bases); else created.
  virtual Result<CreatedExperiment> CreateOrResumeExperiment(const NewExperiment& e) = 0;
  virtual Result<Experiment> GetExperiment(int64_t id) = 0;
  virtual Result<std::vector<Experiment>> ListExperiments(int64_t project_id) = 0;
  // ListExperiments without each run's system metadata and requirements (system_json "{}",
  // requirements empty): what tables and pages over many runs need, without reading a pip
  // freeze per run.
  virtual Result<std::vector<Experiment>> ListExperimentsBrief(int64_t project_id) = 0;
  // Conflict when the new name is another experiment's in the project.
  virtual Status PatchExperiment(int64_t id, const ExperimentPatch& patch) = 0;
  virtual Status MergeConfig(int64_t id, const std::string& config_json) = 0;
  virtual Status SetSystem(int64_t id, const std::string& system_json,
                           const std::string& requirements) = 0;
  // Sets status (and finish_time unless running). Returns the status now stored. Writes
  // to an experiment that was deleted answer Gone (ids are never reused).
  virtual Result<RunStatus> SetStatus(int64_t id, RunStatus s) = 0;
  // SetStatus on behalf of an SDK client; a client that a newer one has since resumed
  // the run from (a late finish, a replay by sync) changes nothing and gets the status
  // now stored.
  // `at` (micros, 0: now) is when the client finished, kept as the finish time when it
  // lies between the run's start and now (a run synced later ends when it ended).
  // `error` (may be empty) is the traceback of an exception that ended the run, kept
  // with the status.
  virtual Result<RunStatus> FinishFromClient(int64_t id, RunStatus s, const std::string& client, int64_t at,
                                             const std::string& error) = 0;
  // Running -> stopped in one step; Conflict when it had already ended.
  virtual Result<Experiment> StopIfRunning(int64_t id) = 0;
  virtual Result<RunStatus> Heartbeat(int64_t id) = 0;
  // Marks running experiments whose last sign of life is older than `cutoff` crashed.
  virtual Result<int> CrashStaleRuns(int64_t cutoff_micros) = 0;
  virtual Status DeleteExperiment(int64_t id) = 0;

  // Metrics.
  // Keys of a project's experiments with how many experiments have each, most common first.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListProjectKeys(int64_t project_id) = 0;
  // The last value of `key` for every experiment of the project that has it.
  virtual Result<std::vector<std::pair<int64_t, double>>> LastValues(int64_t project_id, const std::string& key) = 0;
  // Per experiment id (in order): its finite range of `key`; nullopt without a finite value.
  virtual Result<std::vector<std::optional<MetricRange>>> MetricRanges(const std::string& key,
                                                                      const std::vector<int64_t>& experiment_ids) = 0;
  virtual Result<WriteAck> WriteMetrics(const MetricBatch& batch) = 0;
  virtual Result<std::vector<Series>> ListSeries(int64_t experiment_id) = 0;
  virtual Result<Series> GetSeries(int64_t experiment_id, const std::string& key) = 0;
  virtual Result<SeriesResult> QuerySeries(int64_t series_id, const SeriesQuery& q) = 0;

  // Charts and their groups, created with the series.
  virtual Result<std::vector<Chart>> ListCharts(int64_t experiment_id) = 0;
  virtual Result<std::vector<Namespace>> ListNamespaces(int64_t experiment_id) = 0;
  // The project's own charts and groups (one per key any of its experiments has had).
  virtual Result<std::vector<Chart>> ListProjectCharts(int64_t project_id) = 0;
  virtual Result<std::vector<Namespace>> ListProjectNamespaces(int64_t project_id) = 0;
  // Whether the project has had a chart of its own (SwanLab's project "charts" flag).
  virtual Result<bool> ProjectHasCharts(int64_t project_id) = 0;
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
  // Every stored media file name of the experiment (for the orphan sweep at start).
  virtual Result<std::vector<std::string>> ListMediaFilenames(int64_t experiment_id) = 0;
};

}  // namespace loupe
