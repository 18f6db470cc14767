// LlmModule: the LLM workbench — model endpoints, conversations, and the HTTP client
// that calls the models.
// The client's thread starts with the module and stops (cancelling calls in flight)
// when the module is destroyed.
#pragma once

#include "app/module.h"
#include "auth/secret_service.h"
#include "llm/chat_service.h"
#include "llm/http_client.h"
#include "llm/model_registry.h"
#include "store/llm_store.h"

namespace loupe::app {

class LlmModule final : public Module {
 public:
  LlmModule(LlmStore& models, ChatStore& chats, auth::SecretService& secrets);
  const char* name() const override { return "llm"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Answers in flight end (recorded as cancelled) while the server's streams still exist.
  void Stop() override { http_.Shutdown(); }
  llm::ModelRegistry& models() { return models_; }

 private:
  llm::HttpClient http_;
  llm::ModelRegistry models_;
  llm::ChatService chat_;
};

}  // namespace loupe::app
