#include "tracking/tracking_service.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <unordered_set>
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/time_util.h"
#include "tracking/media_rules.h"
#include "tracking/validation.h"

namespace fs = std::filesystem;

namespace loupe {

TrackingService::TrackingService(TrackingStore& store, TrackingOptions options)
    : store_(store), options_(std::move(options)), disk_(options_.data_dir, options_.min_free_bytes) {
  if (options_.heartbeat_timeout_seconds > 0) monitor_ = std::thread([this] { MonitorLoop(); });
}

TrackingService::~TrackingService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

void TrackingService::MonitorLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(options_.heartbeat_check_seconds));
    if (stopping_) break;
    lock.unlock();
    Result<int> crashed = CrashSilentRuns();
    if (!crashed.ok()) {
      spdlog::warn("heartbeat monitor: {}", crashed.status().message());
    } else if (*crashed > 0) {
      spdlog::info("heartbeat monitor: {} run(s) silent for {} s marked crashed", *crashed,
                   options_.heartbeat_timeout_seconds);
    }
    lock.lock();
  }
}

Result<int> TrackingService::CrashSilentRuns() {
  int64_t cutoff = options_.clock->NowMicros() - int64_t{options_.heartbeat_timeout_seconds} * 1000000;
  return store_.CrashStaleRuns(cutoff);
}

Result<CreatedExperiment> TrackingService::StartRun(NewExperiment e) {
  const Limits& l = options_.limits;
  if (e.project.empty()) e.project = "default";
  LOUPE_RETURN_IF_ERROR(ValidateName("project", e.project, l));
  if (!e.run_id.empty()) LOUPE_RETURN_IF_ERROR(ValidateRunId(e.run_id));
  if (!e.client.empty()) LOUPE_RETURN_IF_ERROR(ValidateClientId(e.client));
  if (!e.name.empty()) LOUPE_RETURN_IF_ERROR(ValidateName("name", e.name, l));
  LOUPE_ASSIGN_OR_RETURN(e.tags, NormalizeTags(e.tags));
  if (e.description.size() > l.max_json_field_bytes) {
    return Status::TooLarge("description is larger than " + std::to_string(l.max_json_field_bytes) + " bytes");
  }
  if (e.config_json.size() > l.max_json_field_bytes) {
    return Status::TooLarge("config is larger than " + std::to_string(l.max_json_field_bytes) + " bytes");
  }
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  LOUPE_ASSIGN_OR_RETURN(CreatedExperiment created, store_.CreateOrResumeExperiment(e));
  spdlog::info("experiment {} ({} / {}) {}", created.experiment.id, e.project, created.experiment.name,
               created.resumed ? "resumed" : "started");
  return created;
}

Result<WriteAck> TrackingService::LogMetrics(MetricBatch batch) {
  const Limits& l = options_.limits;
  if (batch.points.size() > l.max_points_per_request) {
    return Status::TooLarge("a batch may carry at most " + std::to_string(l.max_points_per_request) +
                            " points; this one has " + std::to_string(batch.points.size()));
  }
  constexpr size_t kMaxRefusalsListed = 1000;
  std::vector<WriteAck::Refusal> refused;
  std::unordered_set<std::string> refused_keys;
  bool any_refused = false;
  // A bad point refuses the batch, or (partial) just itself and the key it names.
  auto refuse = [&](const std::string& key, int64_t step, Status why) -> Status {
    if (!batch.partial) return why;
    any_refused = true;
    if (step < 0) refused_keys.insert(key);
    if (refused.size() < kMaxRefusalsListed) refused.push_back({key, step, why.message()});
    return Status::Ok();
  };
  bool bad_steps = false;
  std::unordered_set<std::string_view> keys;
  for (const MetricPoint& p : batch.points) {
    if (keys.insert(p.key).second) {
      if (keys.size() > l.max_keys_per_request) {
        return Status::TooLarge("a batch may carry at most " + std::to_string(l.max_keys_per_request) +
                                " distinct keys");
      }
      if (Status st = ValidateKey(p.key, l); !st.ok()) LOUPE_RETURN_IF_ERROR(refuse(p.key, -1, st));
    }
    if (p.step < 0 || p.step > l.max_step) {
      bad_steps = true;
      LOUPE_RETURN_IF_ERROR(refuse(p.key, p.step,
                                   Status::InvalidArgument("step " + std::to_string(p.step) + " of key '" + p.key +
                                                           "' is out of range: steps are integers from 0 to 2^53")));
    }
  }
  LOUPE_ASSIGN_OR_RETURN(auto media, MediaKeysAmong(batch.experiment_id, keys));
  for (const auto& [key, type] : media) {
    LOUPE_RETURN_IF_ERROR(refuse(key, -1, Status::InvalidArgument("key '" + key + "' already holds " + type +
                                                                  " data; log numbers under another key")));
  }
  size_t before = batch.points.size();
  if (any_refused) {
    std::erase_if(batch.points, [&](const MetricPoint& p) {
      return refused_keys.count(p.key) || (bad_steps && (p.step < 0 || p.step > l.max_step));
    });
  }
  if (batch.ts == 0) batch.ts = NowMicros();
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  LOUPE_ASSIGN_OR_RETURN(WriteAck ack, store_.WriteMetrics(batch));
  // The store may have left out keys past the experiment's key quota (partial batches).
  ack.refused_points += before - batch.points.size();
  for (WriteAck::Refusal& r : ack.refused) {
    if (refused.size() < kMaxRefusalsListed) refused.push_back(std::move(r));
  }
  ack.refused = std::move(refused);
  return ack;
}

Result<std::unordered_map<std::string, std::string>> TrackingService::MediaKeysAmong(
    int64_t experiment_id, const std::unordered_set<std::string_view>& keys) {
  std::unordered_map<std::string, std::string> media;  // key -> type
  bool cached = false;
  {
    MutexLock lock(media_mu_);
    auto it = media_keys_.find(experiment_id);
    if (it != media_keys_.end()) {
      cached = true;
      for (std::string_view k : keys) {
        auto m = it->second.find(std::string(k));
        if (m != it->second.end()) media.emplace(m->first, m->second);
      }
    }
  }
  if (!cached) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<Series> series, store_.ListSeries(experiment_id));
    std::unordered_map<std::string, std::string> all;
    for (const Series& s : series) {
      if (s.type != "line") all.emplace(s.key, s.type);
    }
    for (std::string_view k : keys) {
      auto m = all.find(std::string(k));
      if (m != all.end()) media.emplace(m->first, m->second);
    }
    MutexLock lock(media_mu_);
    if (media_keys_.size() >= 10000) media_keys_.clear();  // bounded; reloaded on demand
    media_keys_.emplace(experiment_id, std::move(all));
  }
  return media;
}

Result<WriteAck> TrackingService::LogConsole(ConsoleBatch batch) {
  const Limits& l = options_.limits;
  if (batch.lines.size() > l.max_console_lines_per_request) {
    return Status::TooLarge("a console batch may carry at most " +
                            std::to_string(l.max_console_lines_per_request) + " lines");
  }
  int64_t now = NowMicros();
  for (size_t i = 0; i < batch.lines.size(); ++i) {
    ConsoleLine& line = batch.lines[i];
    if (line.text.size() > l.max_console_line_bytes) {
      return Status::TooLarge("lines[" + std::to_string(i) + "] is longer than " +
                              std::to_string(l.max_console_line_bytes) + " bytes; split it");
    }
    if (line.ts == 0) line.ts = now;
  }
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  return store_.AppendConsole(batch);
}

Status TrackingService::LogConfig(int64_t experiment_id, const std::string& config_json) {
  if (config_json.size() > options_.limits.max_json_field_bytes) {
    return Status::TooLarge("config is larger than " + std::to_string(options_.limits.max_json_field_bytes) + " bytes");
  }
  return store_.MergeConfig(experiment_id, config_json);
}

Status TrackingService::LogSystem(int64_t experiment_id, const std::string& system_json,
                                  const std::vector<std::string>& requirements) {
  std::string reqs;
  for (const std::string& r : requirements) {
    if (r.find('\n') != std::string::npos) {
      return Status::InvalidArgument("requirements entries must be single lines");
    }
    reqs += r;
    reqs += '\n';
  }
  if (system_json.size() + reqs.size() > options_.limits.max_json_field_bytes) {
    return Status::TooLarge("system metadata is larger than " +
                            std::to_string(options_.limits.max_json_field_bytes) + " bytes");
  }
  return store_.SetSystem(experiment_id, system_json, reqs);
}

std::string TrackingService::ContentTypeFor(const std::string& filename) {
  std::string ext = fs::path(filename).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".webp") return "image/webp";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".mp3") return "audio/mpeg";
  if (ext == ".ogg") return "audio/ogg";
  if (ext == ".flac") return "audio/flac";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".json" && filename.size() > 10 && filename.compare(filename.size() - 10, 10, ".hist.json") == 0) {
    return kHistogramContentType;
  }
  return "";
}

std::string TrackingService::MediaDir(int64_t experiment_id) const {
  return (fs::path(options_.data_dir) / "media" / std::to_string(experiment_id)).string();
}

Result<WriteAck> TrackingService::LogMedia(int64_t experiment_id, const std::string& key, int64_t step,
                                           const std::string& filename, const std::string& bytes,
                                           const ClientWrite& from, const std::optional<std::string>& caption) {
  const Limits& l = options_.limits;
  LOUPE_RETURN_IF_ERROR(ValidateKey(key, l));
  if (caption && caption->size() > kMaxCaptionBytes) {
    return Status::InvalidArgument("caption holds " + std::to_string(caption->size()) + " bytes; at most " +
                                   std::to_string(kMaxCaptionBytes) + " are kept");
  }
  if (step < 0 || step > l.max_step) {
    return Status::InvalidArgument("step must be an integer from 0 to 2^53");
  }
  std::string type = ContentTypeFor(filename);
  if (type.empty()) {
    return Status::InvalidArgument("unsupported media file '" + filename +
                                   "': use .png, .jpg, .jpeg, .gif, .webp, .wav, .mp3, .ogg, .flac, .txt "
                                   "(a text sample) or .hist.json (a histogram)");
  }
  if (bytes.empty()) return Status::InvalidArgument("the media file is empty");
  if (MediaSeriesType(type) == std::string("text")) LOUPE_RETURN_IF_ERROR(ValidateTextSample(bytes));
  if (type == kHistogramContentType) LOUPE_RETURN_IF_ERROR(ValidateHistogram(bytes));
  if (bytes.size() > l.max_media_bytes) {
    return Status::TooLarge("media files are limited to " + std::to_string(l.max_media_bytes) + " bytes");
  }
  if (!from.client.empty()) LOUPE_RETURN_IF_ERROR(ValidateClientId(from.client));
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());

  // The stored name is ours, never the client's: step, a unique counter, the extension.
  static std::atomic<uint64_t> counter{0};
  std::string ext = fs::path(filename).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == kHistogramContentType) ext = ".hist.json";  // the type is read back from the name
  std::string stored = std::to_string(step) + "-" + std::to_string(NowMicros()) + "-" +
                       std::to_string(counter.fetch_add(1)) + ext;
  std::error_code ec;
  fs::create_directories(MediaDir(experiment_id), ec);
  if (ec) return Status::Unavailable("cannot create media dir: " + ec.message());
  fs::path final_path = fs::path(MediaDir(experiment_id)) / stored;
  LOUPE_RETURN_IF_ERROR(WriteFileDurably(final_path.string(), bytes, "the media file"));

  MediaItem item;
  item.experiment_id = experiment_id;
  item.key = key;
  item.step = step;
  item.filename = stored;
  item.content_type = type;
  item.ts = NowMicros();
  item.from = from;
  item.caption = caption;
  item.bytes = static_cast<int64_t>(bytes.size());
  Result<WriteAck> ack = store_.AddMedia(item);
  if (!ack.ok() || ack->duplicate) {
    fs::remove(final_path, ec);  // a retry of an upload already kept keeps only the first copy
    if (!ack.ok()) fs::remove(MediaDir(experiment_id), ec);  // only if empty: an unknown or deleted run's
    return ack;
  }
  MutexLock lock(media_mu_);
  auto known = media_keys_.find(experiment_id);
  if (known != media_keys_.end()) known->second.emplace(key, MediaSeriesType(type));
  return ack;
}

Result<int> TrackingService::RemoveOrphanMedia() {
  fs::path root = fs::path(options_.data_dir) / "media";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return 0;
  int removed = 0;
  for (const fs::directory_entry& dir : fs::directory_iterator(root, ec)) {
    const std::string name = dir.path().filename().string();
    int64_t id = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (err != std::errc() || end != name.data() + name.size() || !dir.is_directory(ec)) continue;
    Result<Experiment> e = store_.GetExperiment(id);
    if (!e.ok() && e.status().code() != Code::kNotFound) return e.status();
    if (!e.ok()) {
      removed += static_cast<int>(fs::remove_all(dir.path(), ec));
      continue;
    }
    LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> names, store_.ListMediaFilenames(id));
    std::unordered_set<std::string> kept(names.begin(), names.end());
    for (const fs::directory_entry& f : fs::directory_iterator(dir.path(), ec)) {
      if (!kept.count(f.path().filename().string()) && fs::remove(f.path(), ec)) ++removed;
    }
  }
  if (removed > 0) spdlog::warn("removed {} media file(s) that no media point refers to (left by a crash)", removed);
  return removed;
}

Result<std::string> TrackingService::ReadMedia(int64_t experiment_id, const std::string& filename,
                                               size_t max_bytes) const {
  LOUPE_ASSIGN_OR_RETURN(std::string path, MediaPath(experiment_id, filename));
  return ReadFileUpTo(path, max_bytes);
}

Result<std::string> TrackingService::MediaPath(int64_t experiment_id, const std::string& filename) const {
  if (filename.empty() || filename.size() > 255 ||
      filename.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos ||
      filename.front() == '.') {
    return Status::NotFound("media file '" + filename.substr(0, 100) + "' not found");
  }
  std::error_code ec;
  fs::path root = fs::weakly_canonical(MediaDir(experiment_id), ec);
  fs::path full = fs::weakly_canonical(fs::path(MediaDir(experiment_id)) / filename, ec);
  if (ec || full.parent_path() != root || !fs::is_regular_file(full)) {
    return Status::NotFound("media file '" + filename + "' not found");
  }
  return full.string();
}

namespace {
Status ValidateDescription(const std::string& d) {
  if (d.size() > 65536) return Status::InvalidArgument("description is longer than 65536 bytes");
  return Status::Ok();
}
}  // namespace

Status TrackingService::RenameProject(int64_t id, const std::string& name, const std::string& description) {
  LOUPE_RETURN_IF_ERROR(ValidateName("name", name, options_.limits));
  LOUPE_RETURN_IF_ERROR(ValidateDescription(description));
  return store_.UpdateProject(id, name, description);
}

Status TrackingService::PatchExperiment(int64_t id, const ExperimentPatch& patch) {
  if (patch.name) LOUPE_RETURN_IF_ERROR(ValidateName("name", *patch.name, options_.limits));
  if (patch.description) LOUPE_RETURN_IF_ERROR(ValidateDescription(*patch.description));
  if (!patch.tags) return store_.PatchExperiment(id, patch);
  ExperimentPatch normalized = patch;
  LOUPE_ASSIGN_OR_RETURN(normalized.tags, NormalizeTags(*patch.tags));
  return store_.PatchExperiment(id, normalized);
}

std::string TrackingService::DataDir() const {
  std::error_code ec;
  fs::path abs = fs::absolute(options_.data_dir, ec);
  return (ec ? fs::path(options_.data_dir) : abs).lexically_normal().string();
}

Result<RunStatus> TrackingService::Finish(int64_t experiment_id, RunStatus status, const std::string& client,
                                          int64_t at_micros, const std::string& error) {
  if (!client.empty()) LOUPE_RETURN_IF_ERROR(ValidateClientId(client));
  if (error.size() > kMaxErrorBytes) {
    return Status::TooLarge("error holds " + std::to_string(error.size()) + " bytes; at most " +
                            std::to_string(kMaxErrorBytes) + " are kept (send the end of the traceback)");
  }
  if (!error.empty() && status == RunStatus::kFinished) {
    return Status::InvalidArgument("error is only kept for a run that ended \"crashed\", \"failed\" or \"stopped\"");
  }
  LOUPE_ASSIGN_OR_RETURN(RunStatus now, client.empty() && at_micros == 0 && error.empty()
                                            ? store_.SetStatus(experiment_id, status)
                                            : store_.FinishFromClient(experiment_id, status, client, at_micros, error));
  spdlog::info("experiment {} ended {}", experiment_id, RunStatusName(now));
  return now;
}

Result<RunStatus> TrackingService::Heartbeat(int64_t experiment_id) {
  return store_.Heartbeat(experiment_id);
}

Result<Experiment> TrackingService::Stop(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Experiment e, store_.StopIfRunning(experiment_id));
  spdlog::info("experiment {} stopped from the dashboard", experiment_id);
  return e;
}

Status TrackingService::DeleteExperiment(int64_t experiment_id) {
  LOUPE_RETURN_IF_ERROR(store_.DeleteExperiment(experiment_id));
  {
    MutexLock lock(media_mu_);
    media_keys_.erase(experiment_id);
  }
  std::error_code ec;
  fs::remove_all(MediaDir(experiment_id), ec);
  return Status::Ok();
}

Status TrackingService::DeleteProject(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<Experiment> exps, store_.ListExperimentsBrief(project_id));
  LOUPE_RETURN_IF_ERROR(store_.DeleteProject(project_id));
  std::error_code ec;
  MutexLock lock(media_mu_);
  for (const Experiment& e : exps) {
    fs::remove_all(MediaDir(e.id), ec);
    media_keys_.erase(e.id);
  }
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, int64_t>>> TrackingService::ProjectKeys(int64_t project_id) {
  constexpr int64_t kTtlMicros = 5'000'000;
  int64_t now = NowMicros();
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    auto it = project_keys_.find(project_id);
    if (it != project_keys_.end() && now - it->second.fetched_micros < kTtlMicros) return it->second.keys;
  }
  Result<std::vector<std::pair<std::string, int64_t>>> keys = store_.ListProjectKeys(project_id);
  if (!keys.ok()) return keys.status();
  std::lock_guard<std::mutex> lock(keys_mu_);
  if (project_keys_.size() > 1000) project_keys_.clear();  // bounded; refilled on demand
  project_keys_[project_id] = {now, *keys};
  return keys;
}

}  // namespace loupe
