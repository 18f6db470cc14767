// ChatService: conversations with the registered models. A message is recorded, the
// model is called with the conversation so far, and the answer streams back through a
// sink while it is generated; when the call ends — answered, failed, stopped — the
// answer and its prediction (prompt, response, latency, time to first token, tokens,
// cost, outcome) are recorded together. 429 and 5xx are retried with backoff honouring
// Retry-After, as long as nothing of the answer has been shown yet.
//
// Thread-safe. A call's sink is invoked on the HTTP client's thread, in order.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llm/http_client.h"
#include "llm/model_registry.h"
#include "llm/provider_protocol.h"
#include "llm/retry_policy.h"
#include "store/chat_store.h"

namespace loupe::llm {

// Events of an answer ("" is a keep-alive, sent as an SSE comment): "start" {user_message, model}, "retry" {attempt, delay_ms,
// reason}, "delta" {text}, then exactly one of "done" {message, prediction} or "error"
// {message, prediction} (a failed or stopped answer keeps what arrived). `send` returns
// false when nobody listens any more, which stops the call.
using ChatSink = std::function<bool(const std::string& event, const nlohmann::json& data)>;

struct ChatOptions {
  RetryPolicy retry;
  int64_t call_timeout_ms = 300000;  // the whole answer
  int64_t idle_timeout_s = 60;       // no byte for this long: timed out
  size_t max_content_bytes = 256 << 10;
  size_t max_answer_bytes = 4 << 20;  // a longer answer is stopped (kept so far, outcome error)
  int64_t keepalive_s = 2;            // an SSE comment after this long without an event
  size_t max_messages = 500;         // a conversation's history sent to the model
  size_t max_conversation_messages = 10000;  // prompts and answers a conversation may hold
};

// One answer in progress. Start() once; Cancel() from any thread (the answer so far is
// kept, outcome "cancelled").
class ChatCall : public std::enable_shared_from_this<ChatCall> {
 public:
  struct Setup {
    Endpoint endpoint;
    ChatRequest request;
    Conversation conversation;
    ChatMessageRecord user;
    LlmModel model;
    std::string by;
    ChatOptions options;
    // A call outside a conversation (a comparison's or a batch's cell): records the
    // prediction (source `source`) instead of an answer, and returns its id.
    std::function<Result<int64_t>(const Prediction&)> record;
    std::string source = "chat";
  };
  ChatCall(ChatStore& chats, HttpClient& http, Setup setup);
  void Start(ChatSink sink);
  void Cancel();
  int64_t user_message_id() const { return setup_.user.id; }

 private:
  void Attempt(int64_t delay_ms);
  bool OnHead(const ResponseHead& head);
  bool OnBody(std::string_view piece);
  void OnDone(const Status& status, long http);
  Status Relay(const std::string& delta);
  bool OnTick();
  void Finish(const std::string& outcome, const std::string& error_type, const std::string& error_text,
              const ChatResult& result);

  ChatStore& chats_;
  HttpClient& http_;
  Setup setup_;
  ChatSink sink_;
  std::atomic<bool> cancelled_{false};
  std::shared_ptr<OutboundCall> outbound_;
  std::mutex outbound_mu_;
  // Per attempt (the client's thread only).
  int attempt_ = 0;
  int64_t start_micros_ = 0;
  std::optional<double> ttft_ms_;
  long http_status_ = 0;
  bool streaming_ = false;
  std::string retry_after_;
  std::string body_;  // an error body, or a whole (non-streamed) answer
  std::unique_ptr<SseParser> parser_;
  std::unique_ptr<StreamDecoder> decoder_;
  std::string relayed_;
  Status stream_error_ = Status::Ok();
  bool sink_gone_ = false;
  int64_t last_event_micros_ = 0;
};

// A message and a prediction as the API shows them.
nlohmann::json ChatMessageJson(const ChatMessageRecord& m);
nlohmann::json PredictionJson(const Prediction& p, bool full);

class ChatService {
 public:
  ChatService(ChatStore& chats, LlmStore& models_store, ModelRegistry& models, HttpClient& http,
              ChatOptions options = {});

  // Records `content` as the user's next message and prepares the answer of `model_id`
  // (or the conversation's model); the call starts when Start(sink) is called on it.
  // Errors here (no such conversation or model, empty or oversized content, no model
  // chosen, an unreadable key) come before anything is streamed.
  Result<std::shared_ptr<ChatCall>> Send(int64_t conversation_id, const std::string& content,
                                         std::optional<int64_t> model_id, const std::string& by);
  // Another answer to an earlier user message, from `model_id`: the same prompt, side by side.
  Result<std::shared_ptr<ChatCall>> Resend(int64_t conversation_id, int64_t user_message_id, int64_t model_id,
                                           const std::string& by);

  // A call outside any conversation (a comparison's or a batch's cell, a judge's):
  // `messages` (user and assistant turns), `system` ("" : the model's default) and
  // `params_json` over the model's defaults; `record` stores the prediction when the
  // call ends.
  Result<std::shared_ptr<ChatCall>> PrepareCall(int64_t model_id, const std::string& system,
                                                const std::string& params_json, std::vector<ChatMessage> messages,
                                                const std::string& by, const std::string& source,
                                                std::function<Result<int64_t>(const Prediction&)> record);

  // Stops the answers being written in a conversation (the page's Stop button): each is
  // recorded as cancelled with what arrived, and its stream ends with an "error" event.
  // Returns how many were running.
  int StopAnswers(int64_t conversation_id);

  // Rules for a conversation's fields (title, system prompt, parameters, model).
  Result<Conversation> CreateConversation(const nlohmann::json& body, const std::string& by);
  Result<Conversation> UpdateConversation(int64_t id, const nlohmann::json& patch);

  ChatStore& chats() { return chats_; }

 private:
  // `earlier`: the conversation's messages before `user`.
  Result<std::shared_ptr<ChatCall>> Prepare(const Conversation& c, const std::vector<ChatMessageRecord>& earlier,
                                            const ChatMessageRecord& user, const LlmModel& model, Endpoint endpoint,
                                            const std::string& by);
  Status ApplyConversation(const nlohmann::json& body, Conversation& c);

  ChatStore& chats_;
  LlmStore& models_store_;
  ModelRegistry& models_;
  HttpClient& http_;
  ChatOptions options_;
  // Calls by conversation, while someone holds them (the stream); for StopAnswers.
  std::mutex running_mu_;
  std::map<int64_t, std::vector<std::weak_ptr<ChatCall>>> running_;
};

}  // namespace loupe::llm
