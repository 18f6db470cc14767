// ChatStore: conversations with models, their messages, and predictions — the record of
// every model call Loupe makes (chat now; batch tests and judges later), with what was
// sent, what came back, how long it took, what it cost and how it ended. Thread-safe;
// writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct Conversation {
  int64_t id = 0;
  std::string title;
  std::optional<int64_t> model_id;  // the model new messages go to
  std::string system;               // the conversation's system prompt ("" : the model's default)
  std::string params_json = "{}";   // sampling parameters over the model's defaults
  int64_t create_time = 0;
  int64_t update_time = 0;
  std::string created_by;
  int64_t message_count = 0;  // filled by lists
};

struct ChatMessageRecord {
  int64_t id = 0;
  int64_t conversation_id = 0;
  std::string role;                  // user | assistant
  std::string content;               // an assistant's text so far when it failed or was stopped
  std::optional<int64_t> reply_to;   // an answer: the user message it answers
  std::optional<int64_t> model_id;   // an answer: the model that gave it
  std::string model_name;
  std::optional<int64_t> prediction_id;
  std::string error;                 // an answer that failed: why ("" when it did not)
  int64_t create_time = 0;
};

struct Prediction {
  int64_t id = 0;
  int64_t time = 0;  // when the call started, micros
  std::optional<int64_t> model_id;
  std::string model_name;
  std::string api;             // openai | anthropic
  std::string provider_model;  // the model name sent to the provider
  std::string messages_json;   // the prompt: [{role, content}], the system prompt first
  std::string params_json = "{}";
  std::string response;
  std::string finish_reason;
  std::string outcome;     // ok | error | refused | cancelled
  std::string error_type;  // auth, rate_limit, provider, network, timeout, malformed, ...; "" when ok
  std::string error_text;
  double latency_ms = 0;
  std::optional<double> ttft_ms;
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
  std::optional<double> cost_usd;
  std::optional<int64_t> conversation_id;
  std::string trace_id;
  std::string source = "chat";  // chat | comparison | batch | judge
  std::string tags_json = "[]";
  std::string created_by;
};

class ChatStore {
 public:
  virtual ~ChatStore() = default;
  // NotFound for a model that does not exist.
  virtual Result<Conversation> CreateConversation(const Conversation& c) = 0;
  // Title, model, system prompt, parameters and update time.
  virtual Status UpdateConversation(const Conversation& c) = 0;
  virtual Result<Conversation> GetConversation(int64_t id) = 0;
  // Most recently updated first.
  virtual Result<std::vector<Conversation>> ListConversations(int64_t limit, int64_t offset) = 0;
  // With its messages; the predictions stay (they are the record of the calls).
  virtual Status DeleteConversation(int64_t id) = 0;

  virtual Result<ChatMessageRecord> AddUserMessage(const ChatMessageRecord& m) = 0;
  virtual Result<std::vector<ChatMessageRecord>> ListMessages(int64_t conversation_id) = 0;
  virtual Result<ChatMessageRecord> GetMessage(int64_t id) = 0;
  // An answer and the prediction of the call that produced it, in one transaction
  // (the message's prediction_id is set here); the conversation's update time moves.
  virtual Result<ChatMessageRecord> RecordAnswer(const ChatMessageRecord& answer, const Prediction& p) = 0;
  // A call made outside a conversation (a judge's, a call a shutdown interrupted): the
  // prediction alone; returns its id.
  virtual Result<int64_t> RecordPrediction(const Prediction& p) = 0;
  virtual Result<Prediction> GetPrediction(int64_t id) = 0;
};

}  // namespace loupe
