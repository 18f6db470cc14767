// Plain value types of experiment tracking that cross the TrackingStore interface.
// No behaviour beyond small helpers. Each other domain keeps its records in its own
// store header (dataset_store.h, job_store.h, run_store.h, explorer_store.h).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace loupe {

enum class RunStatus { kRunning, kFinished, kCrashed, kStopped };

const char* RunStatusName(RunStatus s);                    // "running", "finished", ...
std::optional<RunStatus> ParseRunStatus(const std::string& s);
int SwanlabStatusCode(RunStatus s);                        // 0 running, 1 finished, -1 otherwise
// The series type a media file's content type is stored under: "audio" or "image".
// The series type of a media key by its files' content type: image, audio, text (text
// samples, .txt) or histogram (.hist.json: {"edges": [n+1], "counts": [n]}).
inline constexpr const char* kHistogramContentType = "application/vnd.loupe.histogram+json";
const char* MediaSeriesType(const std::string& content_type);

struct Project {
  int64_t id = 0;
  std::string name;
  std::string description;
  int64_t create_time = 0;  // micros since epoch
  int64_t update_time = 0;  // bumped by a rename and by each new experiment
  int64_t sum = 0;          // experiments ever created in it, deleted ones included
};

struct Experiment {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string run_id;
  std::string name;
  std::string description;
  RunStatus status = RunStatus::kRunning;
  bool show = true;
  int64_t create_time = 0;
  int64_t update_time = 0;
  int64_t finish_time = 0;  // 0 while running
  int64_t last_seen = 0;    // last heartbeat or write
  std::string config_json = "{}";
  std::string system_json = "{}";
  std::string requirements;  // newline-separated
  int64_t sort = 0;          // 1, 2, ... in creation order within the project; never reused
  std::string error;         // traceback of an uncaught exception that ended the run, or ""
  std::vector<std::string> tags;  // in the order they were added; no duplicates
};

struct NewExperiment {
  std::string project;       // created when missing; a former name finds the renamed project
  std::string run_id;        // empty: the store generates one
  std::string name;          // empty: the run id; taken in the project: name-2, name-3, ...
  std::string description;
  std::string config_json = "{}";
  // The SDK process asking (see ClientWrite); empty for clients without one. A request
  // from a client already registered is a replay and changes nothing.
  std::string client;
  // When the client started, micros (0: unknown). A new run's start time (a run synced
  // later starts when it ran, not when it arrived), and the order of a run's clients.
  int64_t client_start = 0;
  // Added to the run's tags (a resumed run keeps the ones it has).
  std::vector<std::string> tags;
  // A run an importer keeps from another tool's files (CLaaS): its times come from the
  // files (a start moves back to client_start when that is earlier) and its status from
  // the importer, so the heartbeat monitor never marks it crashed.
  bool imported = false;
};

// A partial update of an experiment: fields left empty keep their stored value, so two
// concurrent updates of different fields both land.
struct ExperimentPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> show;
  std::optional<std::vector<std::string>> tags;  // replaces the run's tags
};

struct CreatedExperiment {
  Experiment experiment;
  bool resumed = false;
  int64_t step_base = 0;  // where the client's relative steps start
};

// Where a write's steps count from: as sent, or from where the client's run resumed
// (one past the experiment's last step when the client registered; the system
// metrics' own last step for kResumeSystem). A new run's base is 0.
enum class StepOrigin { kAbsolute, kResume, kResumeSystem };

// Who sent a write, for idempotency: a retry of (client, kind, seq) is applied once.
// client is an SDK process's random id ("" for clients without one); seq -1 when the
// client sent none (such writes are never deduplicated).
struct ClientWrite {
  std::string client;
  int64_t seq = -1;
  StepOrigin origin = StepOrigin::kAbsolute;
};

// One scalar at one step. Non-finite values are stored as they are.
struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0;
  int64_t ts = 0;  // when the client logged it, micros; 0: the batch's receive time
};

struct MetricBatch {
  int64_t experiment_id = 0;
  ClientWrite from;
  // Keep the valid points when some are refused (a bad key, a key holding media, a
  // step out of range), instead of refusing the batch; the answer lists the refusals.
  bool partial = false;
  int64_t ts = 0;    // receive time, micros
  std::vector<MetricPoint> points;
};

struct ConsoleLine {
  int64_t line_no = 0;
  int stream = 0;  // 0 stdout, 1 stderr
  int64_t ts = 0;
  std::string text;
};

struct ConsoleBatch {
  int64_t experiment_id = 0;
  ClientWrite from;
  std::vector<ConsoleLine> lines;  // line_no is assigned by the store
};

// What a write request learns back: whether it was a retry already applied, and the
// run's status now (so a client sees a stop requested from the UI).
struct WriteAck {
  bool duplicate = false;
  RunStatus status = RunStatus::kRunning;
  // Of a partial metrics batch: what was left out, and why. step -1 means every point
  // of the key.
  struct Refusal {
    std::string key;
    int64_t step = -1;
    std::string message;
  };
  std::vector<Refusal> refused;
  size_t refused_points = 0;
};

struct Series {
  int64_t id = 0;
  int64_t experiment_id = 0;
  std::string key;
  std::string type = "line";  // line | image | audio
  int64_t chart_id = 0;
  int64_t first_step = 0;
  int64_t last_step = -1;  // -1: no points yet
  double last_value = 0;
  int64_t last_ts = 0;
  int64_t create_time = 0;
  int64_t version = 0;  // bumped by every write to the series
  int64_t first_ts = 0;  // the time of the point at first_step (0: unknown, before v8)
};

// A run's smallest and largest finite value of a metric over all its steps, each at the
// first step that has it.
struct MetricRange {
  double min = 0, max = 0;
  int64_t min_step = 0, max_step = 0;
};

// A chart and a group belong to an experiment or, for the compare view, to a project
// (the other id is 0).
struct Chart {
  int64_t id = 0;
  int64_t experiment_id = 0;
  int64_t project_id = 0;
  int64_t namespace_id = 0;
  std::string name;  // the metric key it draws
  std::string type = "line";
  int status = 0;  // 0 normal, 1 pinned, -1 hidden
  int64_t sort = 0;
  std::optional<int64_t> pin_sort;  // place among the pinned or hidden charts
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct Namespace {
  int64_t id = 0;
  int64_t experiment_id = 0;
  int64_t project_id = 0;
  std::string name;
  int opened = 1;
  int64_t sort = 0;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct SeriesPoint {
  int64_t step = 0;
  double value = 0;
  int64_t ts = 0;
};

struct SeriesQuery {
  int64_t from = 0;
  int64_t to = std::numeric_limits<int64_t>::max();
  int max_points = 1500;  // >= 5: first, last, and a bucket's min, max and NaN/Inf
};

struct SeriesResult {
  int64_t count = 0;  // points stored in [from, to]
  double min = std::numeric_limits<double>::quiet_NaN();  // over finite values
  double max = std::numeric_limits<double>::quiet_NaN();
  bool downsampled = false;
  std::vector<SeriesPoint> points;  // ascending steps
};

struct MediaItem {
  int64_t id = 0;
  int64_t experiment_id = 0;
  std::string key;
  int64_t step = 0;
  std::string filename;  // generated, safe: [A-Za-z0-9._-]+
  std::string content_type;
  int64_t ts = 0;
  std::optional<std::string> caption;
  ClientWrite from;  // written only: who uploaded it, for idempotent retries
  int64_t bytes = 0;  // written only: the file's size, counted against the media quota
};

}  // namespace loupe
