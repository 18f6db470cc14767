// ModelRegistry: the model endpoints Loupe can call — validated, stored, their API keys
// sealed in the secret store (write-only: a model shows only the key's last four
// characters), and a connection test that confirms what the endpoint claims. Thread-safe
// (the store and the HTTP client are; the registry keeps no state of its own).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "auth/secret_service.h"
#include "common/status.h"
#include "llm/chat_types.h"
#include "llm/cost.h"
#include "llm/http_client.h"
#include "store/llm_store.h"

namespace loupe::llm {

struct RegistryOptions {
  int64_t max_models = 1000;
  int64_t probe_timeout_ms = 10000;  // each of the connection test's two calls (they hold a compute thread)
};

// What a call needs to reach a model: filled from its row, its defaults and its key.
struct Endpoint {
  ApiKind api = ApiKind::kOpenAi;
  std::string base_url;
  std::string model;
  std::string api_key;  // never logged, never returned
  std::string system;   // the default system prompt
  SamplingParams params;
  Prices prices;
};

class ModelRegistry {
 public:
  ModelRegistry(LlmStore& store, auth::SecretService& secrets, HttpClient& http, RegistryOptions options = {});

  // `body`: name, api, base_url, model, api_key | api_key_secret, defaults {temperature,
  // top_p, max_tokens, stop, seed, system}, price_input, price_output (USD per million
  // tokens), capabilities {streaming, tools, vision, json_mode}, base_model_id,
  // experiment_id. Unknown fields are refused (a typo must not pass silently).
  Result<LlmModel> Create(const nlohmann::json& body, const std::string& by);
  // `f` is called after each model is registered (regression suites run on new
  // versions). Added before serving: the list is not guarded.
  void OnCreated(std::function<void()> f) { on_created_.push_back(std::move(f)); }
  // Changes the fields `patch` names; `api_key: null` (or "") removes the key.
  Result<LlmModel> Update(int64_t id, const nlohmann::json& patch, const std::string& by);
  Result<LlmModel> Get(int64_t id) { return store_.GetLlmModel(id); }
  Result<std::vector<LlmModel>> List() { return store_.ListLlmModels(); }
  Status Remove(int64_t id);

  // Lists the endpoint's models and streams a five-token answer: whether the key is
  // accepted, the model is listed, streaming works, and how fast. The findings are
  // stored with the model and returned; a failure is a finding (ok: false), not an error.
  Result<nlohmann::json> Test(int64_t id);

  Result<Endpoint> EndpointOf(const LlmModel& m);
  // {set, hint, secret}: whether a key is set and its last four characters. `known`: the
  // secrets' list when the caller already has it (a page of models reads it once).
  nlohmann::json KeyInfo(const LlmModel& m, const std::vector<SealedSecret>* known = nullptr);
  Result<std::vector<SealedSecret>> Secrets() { return secrets_.List(); }

 private:
  Status Apply(const nlohmann::json& body, LlmModel& m, std::string* new_key, bool* clear_key);

  LlmStore& store_;
  auth::SecretService& secrets_;
  HttpClient& http_;
  RegistryOptions options_;
  std::vector<std::function<void()>> on_created_;
};

// Sampling defaults ({temperature 0-2, top_p 0-1, max_tokens 1-1e6, seed, stop: <= 4
// strings, system}), checked field by field and written back in one canonical form.
Result<nlohmann::json> CheckSamplingDefaults(const nlohmann::json& d);
// `text` with every occurrence of `key` replaced: a provider may echo the key it was sent.
std::string RedactKey(std::string text, const std::string& key);
// Whether `s` holds a control character (tab, CR and LF allowed with `allow_whitespace`).
bool HasControlCharacters(std::string_view s, bool allow_whitespace = false);
// The model-name rule: 1 to 100 characters, no control characters.
Status ValidateModelName(const std::string& name);
// http(s), a host, no user:password@, no query or fragment, at most 2048 bytes.
Status ValidateBaseUrl(const std::string& url);
// A provider's HTTP error as the user should read it (401: the key; 404: the URL or model...).
Status ProviderStatusError(long status, const std::string& body, const std::string& url);

}  // namespace loupe::llm
