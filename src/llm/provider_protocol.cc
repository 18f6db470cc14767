#include "llm/provider_protocol.h"

#include <nlohmann/json.hpp>

namespace loupe::llm {

namespace {

using nlohmann::json;

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A piece of a provider's body for a message: at most 300 bytes, cut at a UTF-8 boundary.
std::string Excerpt(std::string_view body) {
  if (body.size() <= 300) return std::string(body);
  size_t n = 300;
  while (n > 0 && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;
  return std::string(body.substr(0, n)) + "…";
}

// A token count the provider reports; a negative one, or one of a trillion or more (past
// any context window, and sums of a few stay far from overflowing), is unknown rather
// than believed.
std::optional<int64_t> CountAt(const json& j, const char* key) {
  constexpr uint64_t kBelievable = 1000000000000ULL;
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    return v < kBelievable ? std::optional<int64_t>(static_cast<int64_t>(v)) : std::nullopt;
  }
  if (!it->is_number_integer()) return std::nullopt;
  const int64_t v = it->get<int64_t>();
  return v >= 0 && v < static_cast<int64_t>(kBelievable) ? std::optional<int64_t>(v) : std::nullopt;
}

std::string StringAt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void ReadOpenAiUsage(const json& j, Usage& usage) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object()) return;
  if (auto v = CountAt(*u, "prompt_tokens")) usage.prompt_tokens = v;
  if (auto v = CountAt(*u, "completion_tokens")) usage.completion_tokens = v;
}

// Anthropic reports input tokens (plus cache reads and writes, billed as input) at the
// start and the running output count at the end.
void ReadAnthropicUsage(const json& u, Usage& usage) {
  if (!u.is_object()) return;
  if (auto v = CountAt(u, "input_tokens")) {
    usage.prompt_tokens = *v + CountAt(u, "cache_creation_input_tokens").value_or(0) +
                          CountAt(u, "cache_read_input_tokens").value_or(0);
  }
  if (auto v = CountAt(u, "output_tokens")) usage.completion_tokens = v;
}

Result<json> ParseJson(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corrupt(std::string("the provider sent ") + what + " that is not a JSON object: " + Excerpt(text));
  }
  return j;
}

}  // namespace

const char* ApiKindName(ApiKind k) { return k == ApiKind::kAnthropic ? "anthropic" : "openai"; }

std::optional<ApiKind> ParseApiKind(const std::string& s) {
  if (s == "openai") return ApiKind::kOpenAi;
  if (s == "anthropic") return ApiKind::kAnthropic;
  return std::nullopt;
}

std::string ChatUrl(ApiKind kind, std::string base_url) {
  base_url = TrimSlash(std::move(base_url));
  if (kind == ApiKind::kOpenAi) return base_url + "/chat/completions";
  return base_url + (EndsWith(base_url, "/v1") ? "/messages" : "/v1/messages");
}

std::string ModelsUrl(ApiKind kind, std::string base_url) {
  base_url = TrimSlash(std::move(base_url));
  if (kind == ApiKind::kOpenAi) return base_url + "/models";
  return base_url + (EndsWith(base_url, "/v1") ? "/models" : "/v1/models");
}

std::vector<std::pair<std::string, std::string>> AuthHeaders(ApiKind kind, const std::string& api_key) {
  std::vector<std::pair<std::string, std::string>> h;
  if (kind == ApiKind::kOpenAi) {
    if (!api_key.empty()) h.emplace_back("Authorization", "Bearer " + api_key);
  } else {
    if (!api_key.empty()) h.emplace_back("x-api-key", api_key);
    h.emplace_back("anthropic-version", "2023-06-01");
  }
  return h;
}

HttpCall BuildChatCall(ApiKind kind, const std::string& base_url, const std::string& api_key, const ChatRequest& req) {
  json body = {{"model", req.model}};
  json messages = json::array();
  if (kind == ApiKind::kOpenAi && !req.system.empty()) messages.push_back({{"role", "system"}, {"content", req.system}});
  for (const ChatMessage& m : req.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(messages);
  const SamplingParams& p = req.params;
  if (p.temperature) body["temperature"] = *p.temperature;
  if (p.top_p) body["top_p"] = *p.top_p;
  if (kind == ApiKind::kOpenAi) {
    if (p.max_tokens) body["max_tokens"] = *p.max_tokens;
    if (p.seed) body["seed"] = *p.seed;
    if (!p.stop.empty()) body["stop"] = p.stop;
    if (req.stream) {
      body["stream"] = true;
      body["stream_options"] = {{"include_usage", true}};
    }
  } else {
    if (!req.system.empty()) body["system"] = req.system;
    body["max_tokens"] = p.max_tokens.value_or(1024);  // required by the Messages API
    if (!p.stop.empty()) body["stop_sequences"] = p.stop;
    // The Messages API has no seed.
    if (req.stream) body["stream"] = true;
  }
  HttpCall call{ChatUrl(kind, base_url), AuthHeaders(kind, api_key), body.dump(-1, ' ', false, json::error_handler_t::replace)};
  call.headers.emplace_back("Content-Type", "application/json");
  if (req.stream) call.headers.emplace_back("Accept", "text/event-stream");
  return call;
}

Result<ChatResult> ParseChatResponse(ApiKind kind, std::string_view body) {
  LOUPE_ASSIGN_OR_RETURN(json j, ParseJson(body, "an answer"));
  ChatResult r;
  r.response_id = StringAt(j, "id");
  if (kind == ApiKind::kOpenAi) {
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
      return Status::Corrupt("the provider's answer has no choices: " + Excerpt(body));
    }
    const json& c = (*choices)[0];
    auto msg = c.find("message");
    if (msg == c.end() || !msg->is_object()) return Status::Corrupt("the provider's answer has no message: " + Excerpt(body));
    r.text = StringAt(*msg, "content");  // null content (a refusal or tool call) is no text
    if (std::string refusal = StringAt(*msg, "refusal"); !refusal.empty()) {
      r.text += refusal;
      r.refused = true;
    }
    r.finish_reason = StringAt(c, "finish_reason");
    ReadOpenAiUsage(j, r.usage);
    return r;
  }
  auto content = j.find("content");
  if (content == j.end() || !content->is_array()) {
    return Status::Corrupt("the provider's answer has no content: " + Excerpt(body));
  }
  for (const json& block : *content) {
    if (block.is_object() && StringAt(block, "type") == "text") r.text += StringAt(block, "text");
  }
  r.finish_reason = StringAt(j, "stop_reason");
  if (auto u = j.find("usage"); u != j.end()) ReadAnthropicUsage(*u, r.usage);
  return r;
}

std::string ProviderErrorText(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end() && e->is_object()) {
      std::string msg = StringAt(*e, "message");
      std::string type = StringAt(*e, "type");
      if (!msg.empty()) return Excerpt(type.empty() ? msg : type + ": " + msg);
    }
    if (e != j.end() && e->is_string()) return Excerpt(e->get<std::string>());  // Ollama, llama.cpp
    if (std::string detail = StringAt(j, "detail"); !detail.empty()) return Excerpt(detail);  // vLLM, FastAPI
  }
  return Excerpt(body);
}

Status StreamDecoder::OnEvent(const SseEvent& event, std::string& delta) {
  return kind_ == ApiKind::kOpenAi ? OnOpenAi(event, delta) : OnAnthropic(event, delta);
}

Status StreamDecoder::OnOpenAi(const SseEvent& event, std::string& delta) {
  if (event.data == "[DONE]") {
    done_ = true;
    return Status::Ok();
  }
  LOUPE_ASSIGN_OR_RETURN(json j, ParseJson(event.data, "a stream chunk"));
  if (auto e = j.find("error"); e != j.end()) {
    return Status::Unavailable("the provider failed mid-answer: " + ProviderErrorText(event.data));
  }
  if (result_.response_id.empty()) result_.response_id = StringAt(j, "id");
  ReadOpenAiUsage(j, result_.usage);
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) {
    return Status::Corrupt("a stream chunk has no choices: " + Excerpt(event.data));
  }
  for (const json& c : *choices) {
    if (!c.is_object()) return Status::Corrupt("a stream chunk's choice is not an object: " + Excerpt(event.data));
    if (auto d = c.find("delta"); d != c.end() && d->is_object()) {
      std::string piece = StringAt(*d, "content");
      if (std::string refusal = StringAt(*d, "refusal"); !refusal.empty()) {
        piece += refusal;
        result_.refused = true;
      }
      delta += piece;
      result_.text += piece;
    }
    if (std::string fr = StringAt(c, "finish_reason"); !fr.empty()) result_.finish_reason = fr;
  }
  return Status::Ok();
}

Status StreamDecoder::OnAnthropic(const SseEvent& event, std::string& delta) {
  LOUPE_ASSIGN_OR_RETURN(json j, ParseJson(event.data, "a stream event"));
  const std::string type = StringAt(j, "type");
  if (type == "error" || event.event == "error") {
    return Status::Unavailable("the provider failed mid-answer: " + ProviderErrorText(event.data));
  }
  if (type == "message_start") {
    auto m = j.find("message");
    if (m == j.end() || !m->is_object()) return Status::Corrupt("message_start without a message: " + Excerpt(event.data));
    result_.response_id = StringAt(*m, "id");
    // Its output_tokens is a placeholder (1): the count arrives with message_delta, and
    // a stream cut before then has none.
    if (auto u = m->find("usage"); u != m->end()) {
      ReadAnthropicUsage(*u, result_.usage);
      result_.usage.completion_tokens.reset();
    }
  } else if (type == "content_block_delta") {
    auto d = j.find("delta");
    if (d == j.end() || !d->is_object()) return Status::Corrupt("content_block_delta without a delta: " + Excerpt(event.data));
    if (StringAt(*d, "type") == "text_delta") {
      std::string piece = StringAt(*d, "text");
      delta += piece;
      result_.text += piece;
    }
  } else if (type == "message_delta") {
    if (auto d = j.find("delta"); d != j.end() && d->is_object()) {
      if (std::string sr = StringAt(*d, "stop_reason"); !sr.empty()) result_.finish_reason = sr;
    }
    if (auto u = j.find("usage"); u != j.end()) ReadAnthropicUsage(*u, result_.usage);
  } else if (type == "message_stop") {
    done_ = true;
  }
  // ping, content_block_start and content_block_stop carry nothing a chat needs.
  return Status::Ok();
}

}  // namespace loupe::llm
