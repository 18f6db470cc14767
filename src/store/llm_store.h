// LlmStore: the LLM workbench's records — model endpoints now; conversations, predictions
// and judgments join them as the workbench grows. API keys are not here: a model names a
// secret (store/secret_store.h), sealed by auth::SecretService. Thread-safe; writes are
// durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct LlmModel {
  int64_t id = 0;
  std::string name;         // unique; how chats and predictions name it
  std::string api;          // openai | anthropic
  std::string base_url;
  std::string model;        // the provider's model name
  std::string secret_name;  // the secret holding its API key; empty: none
  std::string defaults_json = "{}";      // temperature, top_p, max_tokens, stop, seed, system
  std::optional<double> price_input;     // USD per 1,000,000 prompt tokens
  std::optional<double> price_output;    // USD per 1,000,000 completion tokens
  std::string capabilities_json = "{}";  // declared: {streaming, tools, vision, json_mode}
  std::string probe_json = "null";       // the last connection test's findings
  std::optional<int64_t> base_model_id;  // fine-tuned from this model
  std::optional<int64_t> experiment_id;  // produced by this training experiment
  int64_t create_time = 0;
  int64_t update_time = 0;
  std::string created_by;
};

class LlmStore {
 public:
  virtual ~LlmStore() = default;
  // Conflict for a name in use; NotFound for a base model or experiment that does not
  // exist; TooLarge beyond `max_count` models.
  virtual Result<LlmModel> CreateLlmModel(const LlmModel& m, int64_t max_count) = 0;
  // Replaces every field but id, create_time, created_by and probe_json.
  virtual Status UpdateLlmModel(const LlmModel& m) = 0;
  virtual Status SetLlmModelProbe(int64_t id, const std::string& probe_json) = 0;
  virtual Result<LlmModel> GetLlmModel(int64_t id) = 0;
  virtual Result<std::vector<LlmModel>> ListLlmModels() = 0;
  // Models fine-tuned from it keep their row and lose the link.
  virtual Status DeleteLlmModel(int64_t id) = 0;
};

}  // namespace loupe
