// Reads CLaaS feedback logs: one JSON file per feedback batch, named
// YYYYMMDDTHHMMSS-<request id>.json, directly in the feedback folder
// (../shared/specs/claas-formats.md). Newest first is reverse file-name order, so a
// page lists the folder, sorts names and parses only the files on that page.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/pagination.h"
#include "common/status.h"

namespace loupe::claas {

struct SkippedFile {
  std::string name;
  std::string reason;
};

struct FeedbackSample {
  std::string prompt;         // the user's prompt (user_prompt, else the raw prompt)
  std::string chat_prompt;    // the chat-templated prompt, when the log has one
  std::string system_prompt;
  std::string response;
  std::string feedback;
  std::string teacher_scored_text;  // empty when the engine reported none
};

enum class EngineMode { kUnknown, kLocal, kTinker };

struct NamedMetric {
  std::string name;  // the column title, e.g. "Loss"
  std::string key;   // the metadata key it comes from, e.g. "distill_loss"
  std::optional<double> value;
};

struct FeedbackBatch {
  std::string file_name;
  std::string request_id;
  std::string timestamp_utc;
  std::string status;
  std::string phase;
  std::string lora_id;
  std::vector<std::pair<std::string, std::optional<int64_t>>> timing_ms;  // total, distill, sleep, wake, save, logprobs
  std::optional<bool> vllm_slept, vllm_woke;
  EngineMode mode = EngineMode::kUnknown;
  std::vector<NamedMetric> metrics;  // the mode's named columns, in display order
  nlohmann::json metadata;           // distill_result.metadata without teacher texts (unknown keys kept)
  std::string error;
  std::vector<FeedbackSample> samples;

  std::optional<int64_t> Timing(std::string_view key) const;
};

// The named SDPO columns of each mode, in display order: {title, metadata key}.
const std::vector<std::pair<std::string, std::string>>& MetricColumns(EngineMode mode);
const char* EngineModeName(EngineMode mode);  // "local", "tinker", ""

// Parses one file's content. A non-object, or a known field of the wrong type, is an
// error naming the field; missing fields are tolerated.
Result<FeedbackBatch> ParseFeedbackLog(const std::string& file_name, std::string_view content);

// *.json file names directly in `dir`, newest first. A missing folder lists nothing.
Result<std::vector<std::string>> ListFeedbackFiles(const std::string& dir);

struct FeedbackPage {
  Page page;
  std::vector<FeedbackBatch> batches;
  std::vector<SkippedFile> skipped;  // files on this page that could not be read
  bool folder_missing = false;
};

// Reads the files of one page; bad files are reported in `skipped`, never fatal.
Result<FeedbackPage> ReadFeedbackPage(const std::string& dir, int64_t page, int64_t per_page);

}  // namespace loupe::claas
