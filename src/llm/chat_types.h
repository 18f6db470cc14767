// The values a chat call is made of, independent of the provider's wire format: the
// messages, the sampling parameters, and what came back (text, usage, finish reason).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loupe::llm {

// The wire protocol a model endpoint speaks.
enum class ApiKind { kOpenAi, kAnthropic };
const char* ApiKindName(ApiKind k);                          // "openai" | "anthropic"
std::optional<ApiKind> ParseApiKind(const std::string& s);

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

// Unset fields are left out of the request, so the provider's own defaults apply.
struct SamplingParams {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> max_tokens;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
};

struct ChatRequest {
  std::string model;
  std::string system;  // empty: none
  std::vector<ChatMessage> messages;
  SamplingParams params;
  bool stream = true;
};

// Token counts as the provider reported them; unset when it reported none (never guessed).
struct Usage {
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
};

struct ChatResult {
  std::string text;
  std::string finish_reason;  // the provider's word: stop, length, end_turn, max_tokens, ...
  std::string response_id;
  Usage usage;
  bool refused = false;  // the model declined (OpenAI's `refusal`): its words are the text
};

}  // namespace loupe::llm
