#include "llm/model_registry.h"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "common/time_util.h"
#include "llm/provider_protocol.h"
#include "llm/sse_parser.h"

namespace loupe::llm {

namespace {

using nlohmann::json;

constexpr const char* kOwnKeyPrefix = "llm-key-";

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xFF;
    out += hex[v >> 4];
    out += hex[v & 15];
  }
  return out;
}

std::string Plain(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return json(v).dump();
}

Result<std::optional<double>> OptionalNumber(const json& v, const std::string& field, double lo, double hi) {
  if (v.is_null()) return std::optional<double>();
  if (!v.is_number()) return Status::InvalidArgument("'" + field + "' must be a number or null");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    return Status::InvalidArgument("'" + field + "' must be between " + Plain(lo) + " and " + Plain(hi));
  }
  return std::optional<double>(d);
}

}  // namespace

Result<json> CheckSamplingDefaults(const json& d) {
  if (!d.is_object()) return Status::InvalidArgument("'defaults' must be an object");
  json out = json::object();
  for (auto it = d.begin(); it != d.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (k == "temperature") {
      LOUPE_ASSIGN_OR_RETURN(auto t, OptionalNumber(v, "defaults.temperature", 0, 2));
      out[k] = *t;
    } else if (k == "top_p") {
      LOUPE_ASSIGN_OR_RETURN(auto t, OptionalNumber(v, "defaults.top_p", 0, 1));
      out[k] = *t;
    } else if (k == "max_tokens" || k == "seed") {
      // Unsigned values past int64 would wrap (2^64-1 read as -1).
      if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) {
        return Status::InvalidArgument("'defaults." + k + "' must be an integer of at most 64 bits");
      }
      int64_t n = v.get<int64_t>();
      if (k == "max_tokens" && (n < 1 || n > 1000000)) {
        return Status::InvalidArgument("'defaults.max_tokens' must be between 1 and 1000000");
      }
      out[k] = n;
    } else if (k == "stop") {
      if (!v.is_array() || v.size() > 4) return Status::InvalidArgument("'defaults.stop' must be a list of at most 4 strings");
      for (const json& s : v) {
        if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > 200) {
          return Status::InvalidArgument("each stop sequence must be a string of 1 to 200 bytes");
        }
      }
      if (!v.empty()) out[k] = v;
    } else if (k == "system") {
      if (!v.is_string() || v.get<std::string>().size() > 32768) {
        return Status::InvalidArgument("'defaults.system' must be a string of at most 32768 bytes");
      }
      if (!v.get<std::string>().empty()) out[k] = v;
    } else {
      return Status::InvalidArgument("unknown default '" + k +
                                     "' (known: temperature, top_p, max_tokens, stop, seed, system)");
    }
  }
  return out;
}

namespace {

Result<json> CheckCapabilities(const json& c) {
  if (!c.is_object()) return Status::InvalidArgument("'capabilities' must be an object");
  static const std::set<std::string> kKnown = {"streaming", "tools", "vision", "json_mode"};
  json out = json::object();
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (!kKnown.count(it.key())) {
      return Status::InvalidArgument("unknown capability '" + it.key() + "' (known: streaming, tools, vision, json_mode)");
    }
    if (!it.value().is_boolean()) return Status::InvalidArgument("capability '" + it.key() + "' must be true or false");
    out[it.key()] = it.value();
  }
  return out;
}

Result<std::optional<int64_t>> OptionalId(const json& v, const std::string& field) {
  if (v.is_null()) return std::optional<int64_t>();
  if (!v.is_number_integer() || v.get<int64_t>() < 1) {
    return Status::InvalidArgument("'" + field + "' must be a positive integer or null");
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

Result<std::string> RequiredText(const json& v, const std::string& field, size_t max) {
  if (!v.is_string() || v.get<std::string>().empty()) return Status::InvalidArgument("'" + field + "' must be a non-empty string");
  const std::string s = v.get<std::string>();
  if (s.size() > max) return Status::InvalidArgument("'" + field + "' has at most " + std::to_string(max) + " bytes");
  if (HasControlCharacters(s)) return Status::InvalidArgument("'" + field + "' must not contain control characters");
  return s;
}

}  // namespace

bool HasControlCharacters(std::string_view s, bool allow_whitespace) {
  for (unsigned char c : s) {
    if (allow_whitespace && (c == '\n' || c == '\r' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

std::string RedactKey(std::string text, const std::string& key) {
  if (key.size() < 4) return text;
  static const std::string kRedacted = "[the API key]";
  // A provider's body is cut to an excerpt before it reaches a message, and the cut can
  // fall inside an echoed key: a run of the key's first 12 or more characters is redacted
  // as well (a shorter piece is mostly the key's public prefix, such as "sk-proj-").
  const std::string head = key.substr(0, std::min<size_t>(12, key.size()));
  for (size_t at = text.find(head); at != std::string::npos; at = text.find(head, at)) {
    size_t n = head.size();
    while (at + n < text.size() && n < key.size() && text[at + n] == key[n]) ++n;
    text.replace(at, n, kRedacted);
    at += kRedacted.size();
  }
  // Where an excerpt was cut ("…"), even a short piece of the key's start goes.
  static const std::string kCut = "…";
  for (size_t cut = text.find(kCut); cut != std::string::npos; cut = text.find(kCut, cut + kCut.size())) {
    for (size_t n = std::min(cut, key.size() - 1); n >= 4; --n) {
      if (text.compare(cut - n, n, key, 0, n) == 0) {
        text.replace(cut - n, n, kRedacted);
        cut += kRedacted.size() - n;
        break;
      }
    }
  }
  return text;
}

namespace {

// scheme://host:port, lower-cased: where a key would be sent (base URLs start with
// http:// or https://, checked on the way in).
std::string OriginOf(const std::string& url) {
  std::string origin = url.substr(0, url.find("://")) + "://" + HostPortOf(url);
  for (char& c : origin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return origin;
}

}  // namespace

Status ValidateModelName(const std::string& name) {
  if (name.empty() || name.size() > 100) return Status::InvalidArgument("a model's name has 1 to 100 bytes");
  if (HasControlCharacters(name)) return Status::InvalidArgument("a model's name must not contain control characters");
  return Status::Ok();
}

Status ValidateBaseUrl(const std::string& url) {
  if (url.size() > 2048) return Status::InvalidArgument("'base_url' has at most 2048 bytes");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("'base_url' must start with http:// or https://");
  }
  const size_t authority = url.find("://") + 3;
  if (authority >= url.size() || url[authority] == '/') return Status::InvalidArgument("'base_url' has no host: " + url);
  CURLU* u = curl_url();
  Status s = Status::Ok();
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    s = Status::InvalidArgument("'base_url' is not a valid URL: " + url);
  } else {
    char* part = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
      s = Status::InvalidArgument("'base_url' has no host: " + url);
    }
    curl_free(part);
    part = nullptr;
    if (s.ok() && curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
      s = Status::InvalidArgument("'base_url' must not hold a user name or password: put the key in 'api_key'");
    }
    curl_free(part);
    part = nullptr;
    if (s.ok() && (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
                   curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)) {
      s = Status::InvalidArgument("'base_url' must not have a query or fragment");
    }
    curl_free(part);
  }
  curl_url_cleanup(u);
  return s;
}

Status ProviderStatusError(long status, const std::string& body, const std::string& url) {
  const std::string said = body.empty() ? std::string() : ": " + ProviderErrorText(body);
  switch (status) {
    case 400:
      return Status::InvalidArgument("the provider refused the request (400)" + said);
    case 401:
      return Status::Unauthenticated("the provider refused the API key (401)" + said);
    case 403:
      return Status::Forbidden("the API key may not use this model (403)" + said);
    case 404:
      return Status::NotFound("no such endpoint or model at " + url + " (404)" + said);
    case 408:
    case 504:
      return Status::Unavailable("the provider timed out (" + std::to_string(status) + ")" + said);
    case 413:
      return Status::TooLarge("the request is too large for the provider (413)" + said);
    case 429:
      return Status::RateLimited("the provider is rate-limiting this key (429)" + said);
    case 529:
      return Status::Unavailable("the provider is overloaded (529)" + said);
    default:
      break;
  }
  if (status >= 500) return Status::Unavailable("the provider failed (" + std::to_string(status) + ")" + said);
  return Status::Unavailable("the provider answered HTTP " + std::to_string(status) + said);
}

ModelRegistry::ModelRegistry(LlmStore& store, auth::SecretService& secrets, HttpClient& http, RegistryOptions options)
    : store_(store), secrets_(secrets), http_(http), options_(options) {}

Status ModelRegistry::Apply(const json& body, LlmModel& m, std::string* new_key, bool* clear_key) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  if (body.contains("api_key") && body.contains("api_key_secret")) {
    return Status::InvalidArgument("give either 'api_key' or 'api_key_secret', not both");
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name") {
      if (!v.is_string()) return Status::InvalidArgument("'name' must be a string");
      m.name = v.get<std::string>();
      LOUPE_RETURN_IF_ERROR(ValidateModelName(m.name));
    } else if (k == "api") {
      if (!v.is_string() || !ParseApiKind(v.get<std::string>())) {
        return Status::InvalidArgument("'api' must be \"openai\" (chat completions) or \"anthropic\" (Messages API)");
      }
      m.api = v.get<std::string>();
    } else if (k == "base_url") {
      LOUPE_ASSIGN_OR_RETURN(m.base_url, RequiredText(v, "base_url", 2048));
      LOUPE_RETURN_IF_ERROR(ValidateBaseUrl(m.base_url));
    } else if (k == "model") {
      LOUPE_ASSIGN_OR_RETURN(m.model, RequiredText(v, "model", 200));
    } else if (k == "api_key") {
      if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) {
        *clear_key = true;
      } else if (!v.is_string() || v.get<std::string>().size() > 16384 || HasControlCharacters(v.get<std::string>())) {
        return Status::InvalidArgument("'api_key' must be a string of at most 16384 bytes without control characters");
      } else {
        *new_key = v.get<std::string>();
      }
    } else if (k == "api_key_secret") {
      if (!v.is_string()) return Status::InvalidArgument("'api_key_secret' must be a secret's name");
      LOUPE_RETURN_IF_ERROR(auth::ValidateSecretName(v.get<std::string>()));
      Result<std::vector<SealedSecret>> all = secrets_.List();
      if (!all.ok()) return all.status();
      bool found = false;
      for (const SealedSecret& s : *all) found = found || s.name == v.get<std::string>();
      if (!found) return Status::NotFound("no secret named '" + v.get<std::string>() + "'");
      m.secret_name = v.get<std::string>();
    } else if (k == "defaults") {
      LOUPE_ASSIGN_OR_RETURN(json d, CheckSamplingDefaults(v));
      m.defaults_json = d.dump();
    } else if (k == "price_input") {
      LOUPE_ASSIGN_OR_RETURN(m.price_input, OptionalNumber(v, k, 0, 1e6));
    } else if (k == "price_output") {
      LOUPE_ASSIGN_OR_RETURN(m.price_output, OptionalNumber(v, k, 0, 1e6));
    } else if (k == "capabilities") {
      LOUPE_ASSIGN_OR_RETURN(json c, CheckCapabilities(v));
      m.capabilities_json = c.dump();
    } else if (k == "base_model_id") {
      LOUPE_ASSIGN_OR_RETURN(m.base_model_id, OptionalId(v, k));
    } else if (k == "experiment_id") {
      LOUPE_ASSIGN_OR_RETURN(m.experiment_id, OptionalId(v, k));
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  return Status::Ok();
}

Result<LlmModel> ModelRegistry::Create(const json& body, const std::string& by) {
  LlmModel m;
  std::string key;
  bool clear = false;
  LOUPE_RETURN_IF_ERROR(Apply(body, m, &key, &clear));
  for (const char* required : {"name", "api", "base_url", "model"}) {
    if (!body.contains(required)) return Status::InvalidArgument(std::string("'") + required + "' is required");
  }
  if (!key.empty()) {
    m.secret_name = kOwnKeyPrefix + RandomHex(8);
    LOUPE_RETURN_IF_ERROR(secrets_.Put(m.secret_name, key, by));
  }
  m.create_time = m.update_time = NowMicros();
  m.created_by = by;
  Result<LlmModel> created = store_.CreateLlmModel(m, options_.max_models);
  if (!created.ok() && !key.empty()) secrets_.Delete(m.secret_name).IgnoreError();  // the model never existed
  if (created.ok()) {
    for (const auto& f : on_created_) f();
  }
  return created;
}

Result<LlmModel> ModelRegistry::Update(int64_t id, const json& patch, const std::string& by) {
  LOUPE_ASSIGN_OR_RETURN(LlmModel m, store_.GetLlmModel(id));
  const std::string old_secret = m.secret_name;
  const std::string old_base_url = m.base_url;
  std::string key;
  bool clear = false;
  LOUPE_RETURN_IF_ERROR(Apply(patch, m, &key, &clear));
  if (clear) m.secret_name.clear();
  // The key goes wherever base_url points: moving a model with a key to another host
  // needs the key given again (or removed), or anyone allowed to edit models could send
  // someone else's key to a host of their own.
  if (!m.secret_name.empty() && key.empty() && !patch.contains("api_key_secret") &&
      OriginOf(m.base_url) != OriginOf(old_base_url)) {
    return Status::InvalidArgument(
        "this model has an API key: moving it to another host needs the key again ('api_key', or "
        "'api_key_secret' for an admin) or 'api_key': null");
  }
  if (!key.empty()) {
    // A new key goes to a new secret, which the row points at only if the whole change
    // is accepted: a refused PATCH leaves the old key in place.
    m.secret_name = kOwnKeyPrefix + RandomHex(8);
    LOUPE_RETURN_IF_ERROR(secrets_.Put(m.secret_name, key, by));
  }
  m.update_time = NowMicros();
  if (Status s = store_.UpdateLlmModel(m); !s.ok()) {
    if (!key.empty()) secrets_.Delete(m.secret_name).IgnoreError();  // never referenced
    return s;
  }
  if (old_secret != m.secret_name && old_secret.rfind(kOwnKeyPrefix, 0) == 0) {
    secrets_.Delete(old_secret).IgnoreError();  // no model names it any more; a leftover is harmless
  }
  return store_.GetLlmModel(id);
}

Status ModelRegistry::Remove(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(LlmModel m, store_.GetLlmModel(id));
  LOUPE_RETURN_IF_ERROR(store_.DeleteLlmModel(id));
  if (m.secret_name.rfind(kOwnKeyPrefix, 0) == 0) {
    secrets_.Delete(m.secret_name).IgnoreError();  // the model is gone; a leftover sealed key is harmless
  }
  return Status::Ok();
}

json ModelRegistry::KeyInfo(const LlmModel& m, const std::vector<SealedSecret>* known) {
  json out = {{"set", !m.secret_name.empty()}, {"hint", nullptr}, {"secret", nullptr}};
  if (m.secret_name.empty()) return out;
  if (m.secret_name.rfind(kOwnKeyPrefix, 0) != 0) out["secret"] = m.secret_name;
  Result<std::vector<SealedSecret>> listed = known ? Result<std::vector<SealedSecret>>(*known) : secrets_.List();
  if (listed.ok()) {
    bool found = false;
    for (const SealedSecret& s : *listed) {
      if (s.name != m.secret_name) continue;
      found = true;
      if (!s.hint.empty()) out["hint"] = s.hint;
    }
    if (!found) out["missing"] = true;  // a shared secret deleted since
  }
  return out;
}

Result<Endpoint> ModelRegistry::EndpointOf(const LlmModel& m) {
  Endpoint e;
  e.api = ParseApiKind(m.api).value_or(ApiKind::kOpenAi);
  e.base_url = m.base_url;
  e.model = m.model;
  if (!m.secret_name.empty()) {
    Result<std::string> key = secrets_.Reveal(m.secret_name);
    if (!key.ok()) {
      return Status::Unavailable("the API key of model '" + m.name + "' cannot be read (secret '" +
                                        m.secret_name + "': " + key.status().message() + ")");
    }
    e.api_key = *key;
  }
  json d = json::parse(m.defaults_json, nullptr, false);
  if (d.is_object()) {
    if (d.contains("temperature")) e.params.temperature = d["temperature"].get<double>();
    if (d.contains("top_p")) e.params.top_p = d["top_p"].get<double>();
    if (d.contains("max_tokens")) e.params.max_tokens = d["max_tokens"].get<int64_t>();
    if (d.contains("seed")) e.params.seed = d["seed"].get<int64_t>();
    if (d.contains("stop")) e.params.stop = d["stop"].get<std::vector<std::string>>();
    if (d.contains("system")) e.system = d["system"].get<std::string>();
  }
  e.prices = {m.price_input, m.price_output};
  return e;
}

Result<json> ModelRegistry::Test(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(LlmModel m, store_.GetLlmModel(id));
  json probe = {{"time", NowMicros() / 1e6}, {"ok", false}, {"message", ""}, {"models_listed", nullptr},
                {"model_listed", nullptr}, {"streaming", nullptr}, {"latency_ms", nullptr},
                {"answer", nullptr}, {"usage_reported", nullptr}};
  std::string key;  // filled below; a provider that echoes it must not get it stored or shown
  auto finish = [&](const std::string& message) -> Result<json> {
    probe["message"] = RedactKey(message, key);
    if (probe["answer"].is_string()) probe["answer"] = RedactKey(probe["answer"].get<std::string>(), key);
    // A provider's bytes may not be UTF-8: replaced, not refused.
    const std::string text = probe.dump(-1, ' ', false, json::error_handler_t::replace);
    LOUPE_RETURN_IF_ERROR(store_.SetLlmModelProbe(id, text));
    return json::parse(text);
  };
  Result<Endpoint> endpoint = EndpointOf(m);
  if (!endpoint.ok()) return finish(endpoint.status().message());
  const Endpoint& e = *endpoint;
  key = e.api_key;

  // 1. The model list: is the key accepted, is the model there? Not every server has one.
  OutboundRequest list;
  list.method = "GET";
  list.url = ModelsUrl(e.api, e.base_url);
  list.headers = AuthHeaders(e.api, e.api_key);
  list.timeout_ms = options_.probe_timeout_ms;
  Result<FetchResult> listed = http_.Fetch(list, 4 << 20);
  if (!listed.ok()) return finish(listed.status().message());
  if (listed->head.status == 401 || listed->head.status == 403) {
    return finish(ProviderStatusError(listed->head.status, listed->body, list.url).message());
  }
  if (listed->head.status == 200) {
    json j = json::parse(listed->body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array()) {
      probe["models_listed"] = true;
      bool found = false;
      for (const json& entry : j["data"]) {
        found = found || (entry.is_object() && entry.contains("id") && entry["id"] == e.model);
      }
      probe["model_listed"] = found;
    } else {
      probe["models_listed"] = false;
    }
  } else {
    probe["models_listed"] = false;
  }

  // 2. A streamed five-token answer.
  ChatRequest req;
  req.model = e.model;
  req.messages = {{"user", "Reply with the single word OK."}};
  req.params.max_tokens = 5;
  req.stream = true;
  HttpCall call = BuildChatCall(e.api, e.base_url, e.api_key, req);
  OutboundRequest chat;
  chat.url = call.url;
  chat.headers = call.headers;
  chat.body = call.body;
  chat.timeout_ms = options_.probe_timeout_ms;
  const auto start = std::chrono::steady_clock::now();
  Result<FetchResult> answered = http_.Fetch(chat, 4 << 20);
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!answered.ok()) return finish(answered.status().message());
  if (answered->head.status != 200) {
    return finish(ProviderStatusError(answered->head.status, answered->body, chat.url).message());
  }
  probe["latency_ms"] = latency_ms;
  const std::string type = answered->head.headers.count("content-type") ? answered->head.headers["content-type"] : "";
  if (type.rfind("text/event-stream", 0) != 0) {
    // Some servers ignore `stream` and answer whole: usable, but not streaming.
    probe["streaming"] = false;
    Result<ChatResult> whole = ParseChatResponse(e.api, answered->body);
    if (!whole.ok()) return finish(whole.status().message());
    probe["answer"] = whole->text;
    probe["usage_reported"] = whole->usage.completion_tokens.has_value();
    probe["ok"] = true;
    return finish("connected; the endpoint answered without streaming");
  }
  SseParser parser;
  StreamDecoder decoder(e.api);
  auto on_event = [&](SseEvent& ev) -> Status {
    std::string delta;
    return decoder.OnEvent(ev, delta);
  };
  Status parsed = parser.Feed(answered->body, on_event);
  if (parsed.ok()) parsed = parser.Finish(on_event);
  if (!parsed.ok()) return finish(parsed.message());
  if (!decoder.done()) return finish("the stream ended before the provider said the answer was complete");
  probe["streaming"] = true;
  probe["answer"] = decoder.result().text;
  probe["usage_reported"] = decoder.result().usage.completion_tokens.has_value();
  probe["ok"] = true;
  return finish("connected; streaming works");
}

}  // namespace loupe::llm
