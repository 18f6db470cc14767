// TrackingService: the rules of experiment tracking, between the HTTP handlers and
// the store. It validates what clients send (names, keys, steps, sizes), stores
// media files under <data_dir>/media, and runs the heartbeat monitor thread that
// marks runs crashed when their client goes silent. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/disk_guard.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/tracking_store.h"
#include "tracking/limits.h"

namespace loupe {

struct TrackingOptions {
  std::string data_dir = "./data";
  Limits limits;
  // A running experiment with no write or heartbeat for this long becomes crashed.
  int heartbeat_timeout_seconds = 120;
  // How often the monitor looks for silent runs.
  int heartbeat_check_seconds = 5;
  // Where "silent for that long" is measured; tests pass a ManualClock.
  Clock* clock = &SystemClock();
  // New runs, metrics, console lines and media are refused (507) while the data
  // folder's disk has less free; 0: never.
  uint64_t min_free_bytes = 0;
};

class TrackingService {
 public:
  TrackingService(TrackingStore& store, TrackingOptions options);
  ~TrackingService();

  const Limits& limits() const { return options_.limits; }
  // The data folder as an absolute path (SwanLab's "logdir").
  std::string DataDir() const;

  Result<CreatedExperiment> StartRun(NewExperiment e);
  // Validates keys and steps; a partial batch keeps its valid points and lists the rest.
  Result<WriteAck> LogMetrics(MetricBatch batch);
  Result<WriteAck> LogConsole(ConsoleBatch batch);
  Status LogConfig(int64_t experiment_id, const std::string& config_json);
  Status LogSystem(int64_t experiment_id, const std::string& system_json,
                   const std::vector<std::string>& requirements);
  // Saves the file and records it as a media point of `key` at `step`; a retry of an
  // upload already kept (same client and seq) is answered duplicate and not stored twice.
  static constexpr size_t kMaxCaptionBytes = 4096;
  Result<WriteAck> LogMedia(int64_t experiment_id, const std::string& key, int64_t step,
                            const std::string& filename, const std::string& bytes, const ClientWrite& from = {},
                            const std::optional<std::string>& caption = std::nullopt);
  // Removes media files no stored media point refers to (left by a crash between the
  // file and its row) and folders of experiments that no longer exist. Run at start,
  // before uploads are accepted. Returns the number of files removed.
  Result<int> RemoveOrphanMedia();
  // `client` (an SDK client id, or empty): see TrackingStore::FinishFromClient.
  // `error`: the traceback of the exception that ended the run, at most kMaxErrorBytes.
  static constexpr size_t kMaxErrorBytes = 64 * 1024;
  Result<RunStatus> Finish(int64_t experiment_id, RunStatus status, const std::string& client = "",
                           int64_t at_micros = 0, const std::string& error = "");
  Result<RunStatus> Heartbeat(int64_t experiment_id);
  // Marks a running experiment stopped (the UI's stop button); Conflict when it ended.
  Result<Experiment> Stop(int64_t experiment_id);
  Status DeleteExperiment(int64_t experiment_id);
  Status DeleteProject(int64_t project_id);
  // The file of a media point, as a path that is guaranteed to lie under the media root.
  Result<std::string> MediaPath(int64_t experiment_id, const std::string& filename) const;
  // A media file's bytes (text samples and histograms, which pages get inline).
  Result<std::string> ReadMedia(int64_t experiment_id, const std::string& filename, size_t max_bytes) const;
  static std::string ContentTypeFor(const std::string& filename);  // "" when not allowed

  // OK while writes commit; the storage error while they fail.
  Status WriteHealth() { return store_.WriteHealth(); }
  // Reads, for the API handlers (they never reach the store themselves).
  Result<std::vector<Project>> ListProjects() { return store_.ListProjects(); }
  Result<Project> GetProject(int64_t id) { return store_.GetProject(id); }
  Result<std::vector<Experiment>> ListExperiments(int64_t project_id) { return store_.ListExperiments(project_id); }
  Result<std::vector<Experiment>> ListExperimentsBrief(int64_t project_id) {
    return store_.ListExperimentsBrief(project_id);
  }
  Result<Experiment> GetExperiment(int64_t id) { return store_.GetExperiment(id); }
  Result<std::vector<Series>> ListSeries(int64_t experiment_id) { return store_.ListSeries(experiment_id); }
  Result<Series> GetSeries(int64_t experiment_id, const std::string& key) { return store_.GetSeries(experiment_id, key); }
  Result<SeriesResult> QuerySeries(int64_t series_id, const SeriesQuery& q) { return store_.QuerySeries(series_id, q); }
  Result<std::vector<Chart>> ListCharts(int64_t experiment_id) { return store_.ListCharts(experiment_id); }
  Result<std::vector<Chart>> ListProjectCharts(int64_t project_id) { return store_.ListProjectCharts(project_id); }
  Result<bool> ProjectHasCharts(int64_t project_id) { return store_.ProjectHasCharts(project_id); }
  Result<std::vector<Namespace>> ListProjectNamespaces(int64_t project_id) {
    return store_.ListProjectNamespaces(project_id);
  }
  Result<std::vector<Namespace>> ListNamespaces(int64_t experiment_id) { return store_.ListNamespaces(experiment_id); }
  Result<std::vector<ConsoleLine>> TailConsole(int64_t experiment_id, int limit) { return store_.TailConsole(experiment_id, limit); }
  Result<std::vector<ConsoleLine>> ReadConsole(int64_t experiment_id, int64_t from_line, int limit) {
    return store_.ReadConsole(experiment_id, from_line, limit);
  }
  Result<int64_t> CountConsole(int64_t experiment_id) { return store_.CountConsole(experiment_id); }
  Result<std::vector<ConsoleLine>> SearchConsole(int64_t experiment_id, const std::string& needle, int stream,
                                                 int limit) {
    return store_.SearchConsole(experiment_id, needle, stream, limit);
  }
  // The project's metric keys, most common first. Cached for a few seconds: the
  // experiments table asks on every page and the answer changes rarely.
  Result<std::vector<std::pair<std::string, int64_t>>> ProjectKeys(int64_t project_id);
  Result<std::vector<std::pair<int64_t, double>>> LastValues(int64_t project_id, const std::string& key) {
    return store_.LastValues(project_id, key);
  }
  Result<std::vector<std::optional<MetricRange>>> MetricRanges(const std::string& key,
                                                              const std::vector<int64_t>& experiment_ids) {
    return store_.MetricRanges(key, experiment_ids);
  }
  Result<std::vector<MediaItem>> ListMedia(int64_t experiment_id, const std::string& key, int limit) {
    return store_.ListMedia(experiment_id, key, limit);
  }

  // Renames and dashboard state. Names follow ValidateName; descriptions are <= 64 KiB.
  Status RenameProject(int64_t id, const std::string& name, const std::string& description);
  Status PatchExperiment(int64_t id, const ExperimentPatch& patch);
  Result<Chart> SetChartStatus(int64_t chart_id, int status) { return store_.SetChartStatus(chart_id, status); }
  Status SetNamespaceOpened(int64_t namespace_id, int opened) { return store_.SetNamespaceOpened(namespace_id, opened); }
  Status SetUiState(const std::string& key, const std::string& value) { return store_.SetUiState(key, value); }
  Result<std::string> GetUiState(const std::string& key) { return store_.GetUiState(key); }

  // Runs one pass of the heartbeat monitor now (the thread calls it periodically).
  Result<int> CrashSilentRuns();

 private:
  void MonitorLoop();
  std::string MediaDir(int64_t experiment_id) const;
  // The keys among `keys` that hold media (key -> type), so a metrics batch naming one
  // is refused before it reaches the writer (the store checks again, for the races
  // this cache cannot see).
  Result<std::unordered_map<std::string, std::string>> MediaKeysAmong(
      int64_t experiment_id, const std::unordered_set<std::string_view>& keys);

  TrackingStore& store_;
  TrackingOptions options_;
  DiskGuard disk_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread monitor_;
  struct KeysEntry {
    int64_t fetched_micros = 0;
    std::vector<std::pair<std::string, int64_t>> keys;
  };
  std::mutex keys_mu_;
  std::map<int64_t, KeysEntry> project_keys_;
  Mutex media_mu_;
  // Per experiment: its keys that hold media (image, audio), with their type.
  std::unordered_map<int64_t, std::unordered_map<std::string, std::string>> media_keys_ GUARDED_BY(media_mu_);
};

}  // namespace loupe
