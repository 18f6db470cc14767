#include "claas/claas_importer.h"

#include <sys/stat.h>

#include "common/file_util.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "claas/eval_results.h"
#include "claas/feedback_log.h"
#include "common/file_util.h"
#include "common/time_util.h"

namespace loupe::claas {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A CLaaS file's time (ISO 8601: "2026-02-24T19:35:12Z", Python's isoformat with a
// fraction and an offset, or with a space) -> micros; 0 when it does not parse.
int64_t ParseUtc(const std::string& s) { return ParseIsoMicros(s).value_or(0); }

// Metric keys allow [A-Za-z0-9_./-]; anything else becomes '_'.
std::string KeyPart(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return out.empty() ? "_" : out;
}

// Run ids allow [A-Za-z0-9_.-]: a readable part plus a hash of the original, so
// "user/a" and "user_a" stay different experiments.
std::string RunId(const std::string& prefix, const std::string& text) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", h);
  std::string readable;
  for (char c : text.substr(0, 80)) readable += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return prefix + readable + "-" + hex;
}

void AddNumbers(const json& obj, const std::string& prefix, int64_t step, int64_t ts, std::vector<MetricPoint>& out) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it->is_number()) out.push_back({prefix + KeyPart(it.key()), step, it->get<double>(), ts});
  }
}

// Content Loupe refuses (a LoRA name or a metric key too long, a config too large, too
// many keys) skips its file like an unreadable one: retrying cannot help, and failing
// the pass would keep every later file out for good. Other errors (the disk) fail the
// pass, which is retried.
bool RefusedContent(const Status& st) { return st.code() == Code::kInvalidArgument || st.code() == Code::kTooLarge; }

// Folder names reach the config as they are, and need not be UTF-8: dump() would throw,
// on the importer's thread, at every start.
std::string ConfigText(const json& config) { return config.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Signature(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return "";
  return std::to_string(st.st_size) + "/" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

ClaasImporter::ClaasImporter(TrackingService& tracking, ImportOptions options)
    : tracking_(tracking), options_(std::move(options)) {}

ClaasImporter::~ClaasImporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClaasImporter::StartBackground() {
  if (options_.interval_seconds <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      // Errors are retried on the next pass; pages show the files' state. Nothing above
      // this thread would catch an exception: it would end the process, at every start.
      Result<ImportStats> pass = [this]() -> Result<ImportStats> {
        try {
          return ImportOnce();
        } catch (const std::exception& e) {
          return Status::Internal(std::string("unexpected error: ") + e.what());
        }
      }();
      if (!pass.ok()) spdlog::warn("CLaaS import failed (retried in {} s): {}", options_.interval_seconds,
                                   pass.status().message());
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(options_.interval_seconds), [this] { return stopping_; });
    }
  });
}

Result<ImportStats> ClaasImporter::ImportOnce() {
  std::lock_guard<std::mutex> lock(pass_mu_);
  ImportStats stats;
  LOUPE_RETURN_IF_ERROR(ImportFeedback(stats));
  LOUPE_RETURN_IF_ERROR(ImportEvals(stats));
  return stats;
}

Result<int64_t> ClaasImporter::Experiment(const std::string& project, const std::string& run_id,
                                          const std::string& name, const std::string& config_json, int64_t start) {
  if (auto it = experiment_ids_.find(run_id); it != experiment_ids_.end()) {
    auto known = experiment_starts_.find(run_id);
    if (start <= 0 || (known != experiment_starts_.end() && known->second <= start)) return it->second;
  }
  NewExperiment e;
  e.project = project;
  e.run_id = run_id;
  e.name = name;
  e.config_json = config_json;
  e.client_start = start;  // the run starts when its files say, not when they were read
  e.imported = true;
  LOUPE_ASSIGN_OR_RETURN(CreatedExperiment created, tracking_.StartRun(e));
  experiment_ids_[run_id] = created.experiment.id;
  if (start > 0) experiment_starts_[run_id] = start;
  return created.experiment.id;
}

Status ClaasImporter::ImportFeedback(ImportStats& stats) {
  if (options_.feedback_dir.empty()) return Status::Ok();
  LOUPE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListFeedbackFiles(options_.feedback_dir));
  std::map<int64_t, int64_t> touched;  // experiment -> its newest batch's time (0: unknown)
  // Oldest first, so a LoRA's steps follow time.
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const std::string& name = *it;
    if (feedback_done_.count(name)) continue;
    Result<std::string> content = ReadFileInFolder(options_.feedback_dir, name, 64ull << 20);
    Result<FeedbackBatch> batch = content.ok() ? ParseFeedbackLog(name, *content) : Result<FeedbackBatch>(content.status());
    if (!batch.ok()) {
      ++stats.skipped_files;
      feedback_done_.insert(name);  // the page reports it; a rewritten file keeps its name and is not re-read
      continue;
    }
    std::string lora = batch->lora_id.empty() ? "unknown" : batch->lora_id;
    json config = {{"lora_id", lora}, {"source", "CLaaS feedback logs"}, {"engine", EngineModeName(batch->mode)}};
    int64_t step = lora_steps_[lora];  // advanced only once the batch is written
    Status written = [&]() -> Status {
      const int64_t ts = ParseUtc(batch->timestamp_utc);
      LOUPE_ASSIGN_OR_RETURN(int64_t id, Experiment("claas-feedback", RunId("claas-feedback-", lora), lora,
                                                    ConfigText(config), ts));
      MetricBatch mb;
      mb.experiment_id = id;
      mb.from.seq = step;
      mb.partial = true;  // a key Loupe refuses (too long) drops alone
      AddNumbers(batch->metadata, "sdpo/", step, ts, mb.points);
      for (const auto& [k, v] : batch->timing_ms) {
        if (v) mb.points.push_back({"timing/" + k + "_ms", step, static_cast<double>(*v), ts});
      }
      mb.points.push_back({"batch/samples", step, static_cast<double>(batch->samples.size()), ts});
      mb.points.push_back({"batch/ok", step, batch->status == "ok" ? 1.0 : 0.0, ts});
      LOUPE_RETURN_IF_ERROR((tracking_.LogMetrics(mb)).status());
      touched[id] = std::max(touched[id], ts);
      return Status::Ok();
    }();
    if (!written.ok()) {
      if (!RefusedContent(written)) return written;
      spdlog::warn("CLaaS import: skipping feedback file {}: {}", name, written.message());
      ++stats.skipped_files;
      feedback_done_.insert(name);
      continue;
    }
    ++lora_steps_[lora];
    feedback_done_.insert(name);
    ++stats.feedback_batches;
  }
  // A LoRA's log has no end; between batches it is shown finished, not silent-and-crashed,
  // ending at its newest batch.
  for (const auto& [id, last] : touched) {
    int64_t& end = lora_ends_[id];
    end = std::max(end, last);
    LOUPE_RETURN_IF_ERROR((tracking_.Finish(id, RunStatus::kFinished, "", end)).status());
  }
  return Status::Ok();
}

Status ClaasImporter::ImportEvals(ImportStats& stats) {
  if (options_.evals_root.empty()) return Status::Ok();
  LOUPE_ASSIGN_OR_RETURN(std::vector<EvalRunRef> refs, DiscoverEvalRuns(options_.evals_root));
  for (const EvalRunRef& ref : refs) {
    // Which preferences changed since the last pass (or just finished)?
    const bool finished = !ref.in_progress;
    std::map<std::string, std::string> changed;  // preference -> steps.jsonl signature
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(ref.path, ec)) {
      fs::path steps = entry.path() / "steps.jsonl";
      std::string sig = Signature(steps);
      if (sig.empty()) continue;
      std::string pref = entry.path().filename().string();
      bool steps_changed = eval_seen_[steps.string()] != sig;
      bool newly_finished = finished && !eval_finished_.count(RunId("claas-eval-", ref.id + "/" + pref));
      if (steps_changed || newly_finished) changed[pref] = sig;
    }
    if (changed.empty()) continue;
    // One read of the run, through the reader the page uses, without the plots.
    EvalRun run = ReadEvalRun(ref, /*with_plots=*/false);
    stats.skipped_files += static_cast<int>(run.skipped.size());
    for (const EvalPreference& p : run.preferences) {
      auto sig = changed.find(p.name);
      if (sig == changed.end()) continue;
      std::string run_id = RunId("claas-eval-", ref.id + "/" + p.name);
      json config = p.config.is_object() ? p.config : json::object();
      config["lora_id"] = p.lora_id;
      config["preference"] = p.name;
      config["eval_run"] = ref.id;
      // The run spans its steps' own times.
      int64_t first = 0, last = 0;
      for (const EvalStep& s : p.steps) {
        const int64_t ts = ParseUtc(s.timestamp);
        if (ts <= 0) continue;
        first = first ? std::min(first, ts) : ts;
        last = std::max(last, ts);
      }
      Result<int64_t> created = Experiment("claas-evals", run_id, run.label + "/" + p.name, ConfigText(config), first);
      if (!created.ok()) {
        if (!RefusedContent(created.status())) return created.status();
        spdlog::warn("CLaaS import: skipping {}/{}: {}", ref.id, p.name, created.status().message());
        ++stats.skipped_files;
        eval_seen_[(fs::path(ref.path) / p.name / "steps.jsonl").string()] = sig->second;  // until it changes
        if (finished) eval_finished_.insert(run_id);
        continue;
      }
      const int64_t id = *created;
      for (const EvalStep& s : p.steps) {
        MetricBatch mb;
        mb.experiment_id = id;
        mb.from.seq = s.step;
        mb.partial = true;  // a key Loupe refuses (too long) drops alone
        int64_t ts = ParseUtc(s.timestamp);
        auto add = [&](const char* key, std::optional<double> v) {
          if (v) mb.points.push_back({key, s.step, *v, ts});
        };
        add("eval/margin", s.eval.margin);
        add("eval/margin_delta", s.eval.margin_delta);
        add("eval/compliance", s.eval.compliance);
        add("eval/general_score", s.eval.general_score);
        add("eval/timing_s", s.timing_s);
        AddNumbers(s.sdpo_metrics, "sdpo/", s.step, ts, mb.points);
        if (mb.points.empty()) continue;
        Result<WriteAck> ack = tracking_.LogMetrics(mb);
        if (!ack.ok()) {
          if (!RefusedContent(ack.status())) return ack.status();
          spdlog::warn("CLaaS import: skipping step {} of {}/{}: {}", s.step, ref.id, p.name, ack.status().message());
          continue;
        }
        if (!ack->duplicate) ++stats.eval_steps;
      }
      eval_seen_[(fs::path(ref.path) / p.name / "steps.jsonl").string()] = sig->second;
      if (finished) {
        LOUPE_RETURN_IF_ERROR((tracking_.Finish(id, RunStatus::kFinished, "", last)).status());
        eval_finished_.insert(run_id);
      }
    }
  }
  return Status::Ok();
}

}  // namespace loupe::claas
