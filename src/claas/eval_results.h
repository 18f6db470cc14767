// Reads CLaaS eval-harness results (../shared/specs/claas-formats.md):
//   <results_dir>/<run id>/summary.json, plots/*.png, <preference>/{metadata.json,
//   baseline.json, steps.jsonl}
// Runs are direct children holding summary.json (and results_dir itself if it holds
// one), plus runs still in progress (a preference's steps.jsonl, no summary yet).
// Newest first by summary.json (or newest steps.jsonl) mtime. Only the page's runs
// are parsed.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "claas/feedback_log.h"
#include "common/pagination.h"
#include "common/status.h"

namespace loupe::claas {

struct EvalSummaryRow {
  std::string preference;
  std::string lora_id;
  std::optional<double> margin_delta;
  std::optional<double> compliance;
  std::optional<double> capability_ratio;
};

struct RolloutMessage {
  std::string role;
  std::string content;
};

struct Rollout {
  std::string metric;
  std::vector<RolloutMessage> messages;
  nlohmann::json metadata;
};

// The headline numbers of one EvalMetrics object, plus the object itself.
struct EvalMetrics {
  std::optional<double> margin;
  std::optional<double> margin_delta;
  std::optional<double> compliance;
  std::optional<double> general_score;
  nlohmann::json raw;  // without rollouts
  std::vector<Rollout> rollouts;
};

struct EvalStep {
  int64_t step = 0;
  std::string timestamp;
  std::string feedback;
  std::string prompt;
  std::string response;
  std::optional<double> timing_s;
  std::optional<int64_t> sub_step_count;
  EngineMode sdpo_mode = EngineMode::kUnknown;
  std::optional<double> loss;  // adv_mean (Tinker) or distill_loss (local)
  nlohmann::json sdpo_metrics;  // null when the step trained nothing
  EvalMetrics eval;
};

struct EvalPreference {
  std::string name;
  std::string lora_id;
  nlohmann::json config;
  std::optional<EvalMetrics> baseline;
  std::vector<EvalStep> steps;
};

struct EvalRun {
  std::string id;     // folder name ("." for results_dir itself)
  std::string label;  // the folder's name, results_dir's own too
  std::string path;
  bool in_progress = false;
  int64_t mtime = 0;  // seconds since epoch
  std::vector<EvalSummaryRow> summary;
  std::vector<std::pair<std::string, std::string>> plots;  // file name, base64 PNG
  std::vector<EvalPreference> preferences;
  std::vector<SkippedFile> skipped;  // relative to the run folder
};

struct EvalRunRef {
  std::string id;  // folder name; "." for results_dir itself (stable: the importer's run ids use it)
  std::string path;
  bool in_progress = false;
  int64_t mtime = 0;
  std::string label;  // what pages call it: the folder's name, results_dir's own too
};

// Discovers runs newest first without parsing them. A missing folder lists nothing.
Result<std::vector<EvalRunRef>> DiscoverEvalRuns(const std::string& results_dir);

// Parses one run; bad files become `skipped` entries, never an error. Without plots,
// the PNGs are neither read nor encoded (the importer has no use for them).
EvalRun ReadEvalRun(const EvalRunRef& ref, bool with_plots = true);

EvalMetrics ParseEvalMetrics(const nlohmann::json& j);

struct EvalPage {
  Page page;
  std::vector<EvalRun> runs;
  bool folder_missing = false;
};

Result<EvalPage> ReadEvalPage(const std::string& results_dir, int64_t page, int64_t per_page);

std::string Base64Encode(std::string_view bytes);

}  // namespace loupe::claas
