// The two wire protocols a model endpoint may speak: OpenAI's chat completions (also
// vLLM, Ollama, llama.cpp's server, LM Studio, Together, ...) and Anthropic's Messages
// API. Builds the HTTP call for a ChatRequest and decodes answers, whole or streamed as
// server-sent events, into ChatResult. Pure functions and a per-stream decoder: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "llm/chat_types.h"
#include "llm/sse_parser.h"

namespace loupe::llm {

struct HttpCall {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The endpoint for `base_url`: OpenAI-style bases end where `/chat/completions` is
// appended (e.g. http://host:8000/v1); Anthropic's base is the host, `/v1/messages` is
// appended (a base that already ends in /v1 gets `/messages`).
std::string ChatUrl(ApiKind kind, std::string base_url);
// The model list a connection test reads: `/models` (OpenAI) or `/v1/models` (Anthropic).
std::string ModelsUrl(ApiKind kind, std::string base_url);
HttpCall BuildChatCall(ApiKind kind, const std::string& base_url, const std::string& api_key, const ChatRequest& req);
std::vector<std::pair<std::string, std::string>> AuthHeaders(ApiKind kind, const std::string& api_key);

// A whole (non-streamed) answer. Corrupt when the body is not the protocol's shape.
Result<ChatResult> ParseChatResponse(ApiKind kind, std::string_view body);

// The provider's own words for a failed call, from its error body when it has one
// (`{"error": {"message"}}` or Anthropic's `{"type": "error", "error": {...}}`), bounded.
std::string ProviderErrorText(std::string_view body);

// Decodes one streamed answer, event by event. Text arrives through `delta`; usage,
// finish reason and id accumulate in `result()`. An error event from the provider, or a
// chunk that is not the protocol's JSON, is an error naming what arrived.
class StreamDecoder {
 public:
  explicit StreamDecoder(ApiKind kind) : kind_(kind) {}
  Status OnEvent(const SseEvent& event, std::string& delta);
  // The provider said the answer is complete ([DONE], message_stop).
  bool done() const { return done_; }
  const ChatResult& result() const { return result_; }
  ChatResult& result() { return result_; }

 private:
  Status OnOpenAi(const SseEvent& event, std::string& delta);
  Status OnAnthropic(const SseEvent& event, std::string& delta);

  ApiKind kind_;
  bool done_ = false;
  ChatResult result_;
};

}  // namespace loupe::llm
