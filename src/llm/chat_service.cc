#include "llm/chat_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "common/time_util.h"
#include "llm/cost.h"

namespace loupe::llm {

namespace {

using nlohmann::json;

constexpr size_t kMaxErrorBody = 64 << 10;
constexpr size_t kMaxWholeAnswer = 8 << 20;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string ErrorTypeOf(long http) {
  if (http == 401 || http == 403) return "auth";
  if (http == 404) return "not_found";
  if (http == 429) return "rate_limit";
  if (http >= 500) return "provider";
  return "request";
}

// The sampling parameters of a call: the model's defaults, then the conversation's.
SamplingParams Merge(SamplingParams base, const json& over) {
  if (!over.is_object()) return base;
  if (over.contains("temperature")) base.temperature = over["temperature"].get<double>();
  if (over.contains("top_p")) base.top_p = over["top_p"].get<double>();
  if (over.contains("max_tokens")) base.max_tokens = over["max_tokens"].get<int64_t>();
  if (over.contains("seed")) base.seed = over["seed"].get<int64_t>();
  if (over.contains("stop")) base.stop = over["stop"].get<std::vector<std::string>>();
  return base;
}

json ParamsJson(const SamplingParams& p) {
  json out = json::object();
  if (p.temperature) out["temperature"] = *p.temperature;
  if (p.top_p) out["top_p"] = *p.top_p;
  if (p.max_tokens) out["max_tokens"] = *p.max_tokens;
  if (p.seed) out["seed"] = *p.seed;
  if (!p.stop.empty()) out["stop"] = p.stop;
  return out;
}

}  // namespace

json ChatMessageJson(const ChatMessageRecord& m) {
  return {{"id", m.id},
          {"conversation_id", m.conversation_id},
          {"role", m.role},
          {"content", m.content},
          {"reply_to", OrNull(m.reply_to)},
          {"model_id", OrNull(m.model_id)},
          {"model_name", m.role == "assistant" ? json(m.model_name) : json(nullptr)},
          {"prediction_id", OrNull(m.prediction_id)},
          {"error", m.error.empty() ? json(nullptr) : json(m.error)},
          {"create_time", m.create_time / 1e6}};
}

json PredictionJson(const Prediction& p, bool full) {
  json out = {{"id", p.id},
              {"time", p.time / 1e6},
              {"model_id", OrNull(p.model_id)},
              {"model_name", p.model_name},
              {"outcome", p.outcome},
              {"finish_reason", p.finish_reason.empty() ? json(nullptr) : json(p.finish_reason)},
              {"error_type", p.error_type.empty() ? json(nullptr) : json(p.error_type)},
              {"error_text", p.error_text.empty() ? json(nullptr) : json(p.error_text)},
              {"latency_ms", p.latency_ms},
              {"ttft_ms", OrNull(p.ttft_ms)},
              {"prompt_tokens", OrNull(p.prompt_tokens)},
              {"completion_tokens", OrNull(p.completion_tokens)},
              {"total_tokens", p.prompt_tokens && p.completion_tokens ? json(*p.prompt_tokens + *p.completion_tokens)
                                                                       : json(nullptr)},
              {"cost_usd", OrNull(p.cost_usd)},
              {"conversation_id", OrNull(p.conversation_id)},
              {"source", p.source}};
  if (full) {
    out["api"] = p.api;
    out["provider_model"] = p.provider_model;
    out["messages"] = json::parse(p.messages_json, nullptr, false);
    out["params"] = json::parse(p.params_json, nullptr, false);
    out["response"] = p.response;
    out["trace_id"] = p.trace_id;
    out["tags"] = json::parse(p.tags_json, nullptr, false);
    out["created_by"] = p.created_by;
  }
  return out;
}

ChatCall::ChatCall(ChatStore& chats, HttpClient& http, Setup setup)
    : chats_(chats), http_(http), setup_(std::move(setup)) {}

void ChatCall::Start(ChatSink sink) {
  sink_ = std::move(sink);
  start_micros_ = NowMicros();
  last_event_micros_ = start_micros_;
  if (!sink_("start", {{"user_message", ChatMessageJson(setup_.user)},
                       {"model", {{"id", setup_.model.id}, {"name", setup_.model.name}}}})) {
    sink_gone_ = true;
  }
  Attempt(0);
}

void ChatCall::Cancel() {
  cancelled_.store(true);
  std::lock_guard<std::mutex> lock(outbound_mu_);
  if (outbound_) outbound_->Cancel();
}

void ChatCall::Attempt(int64_t delay_ms) {
  ++attempt_;
  http_status_ = 0;
  streaming_ = false;
  retry_after_.clear();
  body_.clear();
  parser_ = std::make_unique<SseParser>();
  decoder_ = std::make_unique<StreamDecoder>(setup_.endpoint.api);
  HttpCall call = BuildChatCall(setup_.endpoint.api, setup_.endpoint.base_url, setup_.endpoint.api_key,
                                setup_.request);
  OutboundRequest o;
  o.url = call.url;
  o.headers = std::move(call.headers);
  o.body = std::move(call.body);
  o.timeout_ms = setup_.options.call_timeout_ms;
  o.idle_timeout_s = setup_.options.idle_timeout_s;
  o.delay_ms = delay_ms;
  auto self = shared_from_this();
  OutboundCallbacks cb;
  cb.on_head = [self](const ResponseHead& h) { return self->OnHead(h); };
  cb.on_body = [self](std::string_view piece) { return self->OnBody(piece); };
  cb.on_done = [self](const Status& s, long http) { self->OnDone(s, http); };
  cb.on_tick = [self] { return self->OnTick(); };
  std::lock_guard<std::mutex> lock(outbound_mu_);
  outbound_ = http_.Submit(std::move(o), std::move(cb));
  if (cancelled_.load() || sink_gone_) outbound_->Cancel();
}

bool ChatCall::OnHead(const ResponseHead& head) {
  http_status_ = head.status;
  auto type = head.headers.find("content-type");
  streaming_ = type != head.headers.end() && type->second.rfind("text/event-stream", 0) == 0;
  if (auto ra = head.headers.find("retry-after"); ra != head.headers.end()) retry_after_ = ra->second;
  return !cancelled_.load();
}

Status ChatCall::Relay(const std::string& delta) {
  if (delta.empty()) return Status::Ok();
  if (relayed_.size() + delta.size() > setup_.options.max_answer_bytes) {
    return Status::TooLarge("the answer was stopped at " + std::to_string(setup_.options.max_answer_bytes) +
                            " bytes");
  }
  if (!ttft_ms_) ttft_ms_ = (NowMicros() - start_micros_) / 1000.0;
  relayed_ += delta;
  last_event_micros_ = NowMicros();
  if (!sink_("delta", {{"text", delta}})) {
    sink_gone_ = true;
    return Status::Cancelled("the answer's reader went away");
  }
  return Status::Ok();
}

bool ChatCall::OnTick() {
  if (cancelled_.load() || sink_gone_) return false;
  // A keep-alive also finds out, within two ticks, that the reader closed its connection
  // while the provider was silent.
  if (NowMicros() - last_event_micros_ >= setup_.options.keepalive_s * 1000000) {
    last_event_micros_ = NowMicros();
    if (!sink_("", nullptr)) sink_gone_ = true;
  }
  return !sink_gone_;
}

bool ChatCall::OnBody(std::string_view piece) {
  if (cancelled_.load()) return false;
  if (http_status_ != 200 || !streaming_) {
    const size_t limit = http_status_ == 200 ? kMaxWholeAnswer : kMaxErrorBody;
    if (body_.size() + piece.size() > limit) {
      if (http_status_ == 200) {
        stream_error_ = Status::TooLarge("the answer exceeds " + std::to_string(limit) + " bytes");
        return false;
      }
      body_.append(piece.substr(0, limit - body_.size()));
      return true;
    }
    body_.append(piece);
    return true;
  }
  Status s = parser_->Feed(piece, [&](SseEvent& e) -> Status {
    std::string delta;
    LOUPE_RETURN_IF_ERROR(decoder_->OnEvent(e, delta));
    return Relay(delta);
  });
  if (!s.ok() && s.code() != Code::kCancelled) stream_error_ = s;
  return s.ok();
}

void ChatCall::OnDone(const Status& status, long http) {
  if (http_status_ == 0) http_status_ = http;
  ChatResult result = decoder_ ? decoder_->result() : ChatResult{};
  if (!stream_error_.ok()) {
    const Code c = stream_error_.code();
    return Finish("error", c == Code::kUnavailable ? "provider" : c == Code::kTooLarge ? "too_large" : "malformed",
                  stream_error_.message(), result);
  }
  if (cancelled_.load() || sink_gone_) {
    return Finish("cancelled", "cancelled", "stopped before the answer was complete", result);
  }
  if (!status.ok() && status.code() == Code::kCancelled) {
    return Finish("cancelled", "shutdown", status.message(), result);  // the server is stopping
  }
  if (!status.ok() && streaming_ && decoder_->done()) {
    // The provider said the answer was complete, then the connection broke: it is whole.
    return Finish("ok", "", "", result);
  }
  if (!status.ok()) {
    const bool timed_out = status.message().find("timed out") != std::string::npos;
    return Finish("error", timed_out ? "timeout" : "network", status.message(), result);
  }
  if (http_status_ != 200) {
    if (relayed_.empty()) {
      std::optional<int64_t> delay =
          RetryDelayMs(setup_.options.retry, attempt_ + 1, http_status_, retry_after_, NowMicros() / 1000000);
      if (delay) {
        const std::string reason = RedactKey(
            ProviderStatusError(http_status_, body_, ChatUrl(setup_.endpoint.api, setup_.endpoint.base_url)).message(),
            setup_.endpoint.api_key);
        if (!sink_("retry", {{"attempt", attempt_ + 1}, {"delay_ms", *delay}, {"reason", reason}})) sink_gone_ = true;
        return Attempt(*delay);
      }
    }
    Status e = ProviderStatusError(http_status_, body_, ChatUrl(setup_.endpoint.api, setup_.endpoint.base_url));
    return Finish("error", ErrorTypeOf(http_status_), e.message(), result);
  }
  if (!streaming_) {
    Result<ChatResult> whole = ParseChatResponse(setup_.endpoint.api, body_);
    if (!whole.ok()) return Finish("error", "malformed", whole.status().message(), result);
    if (Status relayed = Relay(whole->text); !relayed.ok() && relayed.code() == Code::kTooLarge) {
      return Finish("error", "too_large", relayed.message(), *whole);
    }
    return Finish("ok", "", "", *whole);
  }
  Status tail = parser_->Finish([&](SseEvent& e) -> Status {
    std::string delta;
    LOUPE_RETURN_IF_ERROR(decoder_->OnEvent(e, delta));
    Status relayed = Relay(delta);
    return relayed.code() == Code::kCancelled ? Status::Ok() : relayed;
  });
  result = decoder_->result();
  if (!tail.ok()) return Finish("error", "malformed", tail.message(), result);
  if (!decoder_->done()) {
    return Finish("error", "truncated", "the stream ended before the provider said the answer was complete",
                  result);
  }
  Finish("ok", "", "", result);
}

void ChatCall::Finish(const std::string& outcome_in, const std::string& error_type, const std::string& error_text,
                      const ChatResult& result) {
  std::string outcome = outcome_in;
  if (outcome == "ok" &&
      (result.refused || result.finish_reason == "content_filter" || result.finish_reason == "refusal")) {
    outcome = "refused";
  }
  const int64_t now = NowMicros();
  Prediction p;
  p.time = start_micros_;
  p.model_id = setup_.model.id;
  p.model_name = setup_.model.name;
  p.api = setup_.model.api;
  p.provider_model = setup_.endpoint.model;
  json messages = json::array();
  if (!setup_.request.system.empty()) messages.push_back({{"role", "system"}, {"content", setup_.request.system}});
  for (const ChatMessage& m : setup_.request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  p.messages_json = messages.dump(-1, ' ', false, json::error_handler_t::replace);
  p.params_json = ParamsJson(setup_.request.params).dump();
  // What the user saw: the relayed text (a whole answer is relayed in one piece).
  p.response = relayed_.empty() ? result.text : relayed_;
  p.finish_reason = result.finish_reason;
  p.outcome = outcome;
  p.error_type = error_type;
  p.error_text = RedactKey(error_text, setup_.endpoint.api_key);
  p.latency_ms = (now - start_micros_) / 1000.0;
  p.ttft_ms = ttft_ms_;
  p.prompt_tokens = result.usage.prompt_tokens;
  p.completion_tokens = result.usage.completion_tokens;
  p.cost_usd = EstimateCostUsd(setup_.endpoint.prices, result.usage);
  if (!setup_.record) p.conversation_id = setup_.conversation.id;  // a call outside a conversation has none
  p.trace_id = result.response_id;
  p.source = setup_.source;
  p.created_by = setup_.by;
  const bool answered = outcome == "ok" || outcome == "refused";
  if (setup_.record) {
    Result<int64_t> id = setup_.record(p);
    if (!id.ok()) {
      spdlog::error("cannot record the answer of model {}: {}", setup_.model.name, id.status().message());
      sink_("error", {{"message", {{"error", "the answer could not be saved: " + id.status().message()}}},
                      {"prediction", nullptr}});
      return;
    }
    p.id = *id;
    sink_(answered ? "done" : "error", {{"message", nullptr}, {"prediction", PredictionJson(p, false)}});
    return;
  }
  ChatMessageRecord answer;
  answer.conversation_id = setup_.conversation.id;
  answer.role = "assistant";
  answer.content = p.response;
  answer.reply_to = setup_.user.id;
  answer.model_id = setup_.model.id;
  answer.model_name = setup_.model.name;
  answer.error = outcome == "ok" || outcome == "refused" ? "" : p.error_text;
  answer.create_time = now;
  Result<ChatMessageRecord> recorded = chats_.RecordAnswer(answer, p);
  if (!recorded.ok()) {
    spdlog::error("conversation {}: cannot record the answer of model {}: {}", setup_.conversation.id,
                  setup_.model.name, recorded.status().message());
    sink_("error", {{"message", {{"error", "the answer could not be saved: " + recorded.status().message()}}},
                    {"prediction", nullptr}});
    return;
  }
  Result<Prediction> stored = chats_.GetPrediction(*recorded->prediction_id);
  // A conversation deleted while the answer streamed keeps only the prediction.
  json data = {{"message", recorded->id ? ChatMessageJson(*recorded) : json(nullptr)},
               {"prediction", stored.ok() ? PredictionJson(*stored, false) : json(nullptr)}};
  sink_(answered ? "done" : "error", data);
}

ChatService::ChatService(ChatStore& chats, LlmStore& models_store, ModelRegistry& models, HttpClient& http,
                         ChatOptions options)
    : chats_(chats), models_store_(models_store), models_(models), http_(http), options_(options) {}

Status ChatService::ApplyConversation(const json& body, Conversation& c) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "title") {
      if (!v.is_string() || v.get<std::string>().size() > 200 || HasControlCharacters(v.get<std::string>(), /*allow_whitespace=*/true)) {
        return Status::InvalidArgument("'title' must be a string of at most 200 bytes");
      }
      c.title = v.get<std::string>();
    } else if (k == "model_id") {
      if (v.is_null()) {
        c.model_id.reset();
      } else if (!v.is_number_integer() || v.get<double>() < 1 || v.get<double>() > 9.2e18) {
        return Status::InvalidArgument("'model_id' must be a model's id or null");
      } else {
        LOUPE_RETURN_IF_ERROR(models_store_.GetLlmModel(v.get<int64_t>()).status());
        c.model_id = v.get<int64_t>();
      }
    } else if (k == "system") {
      if (!v.is_string() || v.get<std::string>().size() > 32768 ||
          HasControlCharacters(v.get<std::string>(), /*allow_whitespace=*/true)) {
        return Status::InvalidArgument("'system' must be a string of at most 32768 bytes without control characters");
      }
      c.system = v.get<std::string>();
    } else if (k == "params") {
      // The same rules as a model's defaults, without the system prompt (it has its own field).
      if (!v.is_object() || v.contains("system")) {
        return Status::InvalidArgument("'params' must be an object of temperature, top_p, max_tokens, stop, seed");
      }
      LOUPE_ASSIGN_OR_RETURN(json params, CheckSamplingDefaults(v));
      c.params_json = params.dump();
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  return Status::Ok();
}

Result<Conversation> ChatService::CreateConversation(const json& body, const std::string& by) {
  Conversation c;
  LOUPE_RETURN_IF_ERROR(ApplyConversation(body, c));
  if (c.title.empty()) c.title = "New conversation";
  c.create_time = c.update_time = NowMicros();
  c.created_by = by;
  return chats_.CreateConversation(c);
}

Result<Conversation> ChatService::UpdateConversation(int64_t id, const json& patch) {
  LOUPE_ASSIGN_OR_RETURN(Conversation c, chats_.GetConversation(id));
  LOUPE_RETURN_IF_ERROR(ApplyConversation(patch, c));
  c.update_time = NowMicros();
  LOUPE_RETURN_IF_ERROR(chats_.UpdateConversation(c));
  return chats_.GetConversation(id);
}

Result<std::shared_ptr<ChatCall>> ChatService::Send(int64_t conversation_id, const std::string& content,
                                                    std::optional<int64_t> model_id, const std::string& by) {
  LOUPE_ASSIGN_OR_RETURN(Conversation c, chats_.GetConversation(conversation_id));
  if (content.empty() || std::all_of(content.begin(), content.end(), [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); })) {
    return Status::InvalidArgument("the message is empty");
  }
  if (content.size() > options_.max_content_bytes) {
    return Status::TooLarge("a message has at most " + std::to_string(options_.max_content_bytes) + " bytes");
  }
  if (content.find('\0') != std::string::npos) return Status::InvalidArgument("the message holds a NUL character");
  const std::optional<int64_t> model_ref = model_id ? model_id : c.model_id;
  if (!model_ref) return Status::InvalidArgument("choose a model for this conversation first ('model_id')");
  // Everything that can refuse the call comes before the prompt is recorded, so a refused
  // send leaves no unanswered message behind.
  LOUPE_ASSIGN_OR_RETURN(LlmModel model, models_store_.GetLlmModel(*model_ref));
  LOUPE_ASSIGN_OR_RETURN(Endpoint endpoint, models_.EndpointOf(model));
  LOUPE_ASSIGN_OR_RETURN(std::vector<ChatMessageRecord> earlier, chats_.ListMessages(c.id));
  if (earlier.size() + 2 > options_.max_conversation_messages) {
    return Status::TooLarge("a conversation holds at most " + std::to_string(options_.max_conversation_messages) +
                            " messages; start a new one");
  }
  ChatMessageRecord user;
  user.conversation_id = c.id;
  user.role = "user";
  user.content = content;
  user.create_time = NowMicros();
  LOUPE_ASSIGN_OR_RETURN(user, chats_.AddUserMessage(user));
  return Prepare(c, earlier, user, model, std::move(endpoint), by);
}

Result<std::shared_ptr<ChatCall>> ChatService::Resend(int64_t conversation_id, int64_t user_message_id,
                                                      int64_t model_id, const std::string& by) {
  LOUPE_ASSIGN_OR_RETURN(Conversation c, chats_.GetConversation(conversation_id));
  LOUPE_ASSIGN_OR_RETURN(ChatMessageRecord user, chats_.GetMessage(user_message_id));
  if (user.conversation_id != c.id || user.role != "user") {
    return Status::NotFound("message " + std::to_string(user_message_id) + " is not a prompt of conversation " +
                            std::to_string(c.id));
  }
  LOUPE_ASSIGN_OR_RETURN(LlmModel model, models_store_.GetLlmModel(model_id));
  LOUPE_ASSIGN_OR_RETURN(Endpoint endpoint, models_.EndpointOf(model));
  LOUPE_ASSIGN_OR_RETURN(std::vector<ChatMessageRecord> all, chats_.ListMessages(c.id));
  if (all.size() + 1 > options_.max_conversation_messages) {
    return Status::TooLarge("a conversation holds at most " + std::to_string(options_.max_conversation_messages) +
                            " messages; start a new one");
  }
  // The prompts before this one with the answers the prompt's first answer saw, so that
  // a second model answers the same conversation as the first (the preference pairs of a
  // comparison need the same history on both sides); answers given since are left out.
  std::optional<int64_t> first_answer;
  for (const ChatMessageRecord& m : all) {
    if (m.role == "assistant" && m.reply_to == user.id && !first_answer) first_answer = m.id;
  }
  std::vector<ChatMessageRecord> earlier;
  for (const ChatMessageRecord& m : all) {
    if (m.role == "user" ? m.id < user.id
                         : (m.reply_to && *m.reply_to < user.id && (!first_answer || m.id < *first_answer))) {
      earlier.push_back(m);
    }
  }
  return Prepare(c, earlier, user, model, std::move(endpoint), by);
}

Result<std::shared_ptr<ChatCall>> ChatService::Prepare(const Conversation& c,
                                                       const std::vector<ChatMessageRecord>& earlier,
                                                       const ChatMessageRecord& user, const LlmModel& model,
                                                       Endpoint endpoint, const std::string& by) {
  // The history: each earlier prompt with its latest answer that did not fail (answers
  // come in id order, so the last one seen wins), then this prompt.
  std::unordered_map<int64_t, const ChatMessageRecord*> answer_of;
  for (const ChatMessageRecord& a : earlier) {
    if (a.role == "assistant" && a.reply_to && a.error.empty()) answer_of[*a.reply_to] = &a;
  }
  // A prompt without such an answer (it failed, was stopped before a word, or is still
  // being answered) is left out: turns must alternate for most chat templates.
  std::vector<ChatMessage> history;
  for (const ChatMessageRecord& m : earlier) {
    if (m.role != "user") continue;
    auto it = answer_of.find(m.id);
    if (it == answer_of.end()) continue;
    history.push_back({"user", m.content});
    history.push_back({"assistant", it->second->content});
  }
  history.push_back({"user", user.content});
  if (history.size() > options_.max_messages) {
    history.erase(history.begin(), history.end() - static_cast<std::ptrdiff_t>(options_.max_messages));
    if (history.front().role == "assistant") history.erase(history.begin());  // its prompt was cut
  }
  ChatCall::Setup setup;
  setup.request.model = endpoint.model;
  setup.request.system = c.system.empty() ? endpoint.system : c.system;
  setup.request.messages = std::move(history);
  setup.request.params = Merge(endpoint.params, json::parse(c.params_json, nullptr, false));
  setup.request.stream = true;
  setup.endpoint = std::move(endpoint);
  setup.conversation = c;
  setup.user = user;
  setup.model = model;
  setup.by = by;
  setup.options = options_;
  auto call = std::make_shared<ChatCall>(chats_, http_, std::move(setup));
  std::lock_guard<std::mutex> lock(running_mu_);
  auto& calls = running_[c.id];
  std::erase_if(calls, [](const std::weak_ptr<ChatCall>& w) { return w.expired(); });
  calls.push_back(call);
  return call;
}

Result<std::shared_ptr<ChatCall>> ChatService::PrepareCall(int64_t model_id, const std::string& system,
                                                           const std::string& params_json,
                                                           std::vector<ChatMessage> messages,
                                                           const std::string& by, const std::string& source,
                                                           std::function<Result<int64_t>(const Prediction&)> record) {
  LOUPE_ASSIGN_OR_RETURN(LlmModel model, models_store_.GetLlmModel(model_id));
  LOUPE_ASSIGN_OR_RETURN(Endpoint endpoint, models_.EndpointOf(model));
  ChatCall::Setup setup;
  setup.request.model = endpoint.model;
  setup.request.system = system.empty() ? endpoint.system : system;
  setup.request.messages = std::move(messages);
  setup.request.params = Merge(endpoint.params, json::parse(params_json, nullptr, false));
  setup.request.stream = true;
  setup.endpoint = std::move(endpoint);
  setup.model = model;
  setup.by = by;
  setup.options = options_;
  setup.record = std::move(record);
  setup.source = source;
  return std::make_shared<ChatCall>(chats_, http_, std::move(setup));
}

int ChatService::StopAnswers(int64_t conversation_id) {
  std::vector<std::shared_ptr<ChatCall>> calls;
  {
    std::lock_guard<std::mutex> lock(running_mu_);
    auto it = running_.find(conversation_id);
    if (it == running_.end()) return 0;
    for (const auto& w : it->second) {
      if (auto call = w.lock()) calls.push_back(std::move(call));
    }
    running_.erase(it);
  }
  for (const auto& call : calls) call->Cancel();
  return static_cast<int>(calls.size());
}

}  // namespace loupe::llm
