// LlmModule: the LLM workbench — model endpoints, conversations, predictions and their
// feedback, training-data exports, and the HTTP client that calls the models.
// The client's thread starts with the module and stops (cancelling calls in flight)
// when the module is destroyed.
#pragma once

#include "app/module.h"
#include "auth/secret_service.h"
#include "datasets/dataset_service.h"
#include "llm/chat_service.h"
#include "llm/feedback_service.h"
#include "llm/http_client.h"
#include "llm/model_registry.h"
#include "store/feedback_store.h"
#include "store/llm_store.h"
#include "ui/tracking_pages.h"
#include "web/stream_workers.h"

namespace loupe::app {

class LlmModule final : public Module {
 public:
  // Training data saved as a dataset goes to `datasets`.
  LlmModule(LlmStore& models, ChatStore& chats, FeedbackStore& feedback, auth::SecretService& secrets,
            datasets::DatasetService& datasets);
  const char* name() const override { return "llm"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Answers in flight end (recorded as cancelled) while the server's streams still exist.
  // Downloads in progress end too.
  void Stop() override {
    http_.Shutdown();
    downloads_.Stop();
  }
  llm::ModelRegistry& models() { return models_; }
  llm::ChatService& chat() { return chat_; }
  // "Test in chat" on the page of each training experiment that produced a model.
  ExperimentLinks TestInChatLinks();

 private:
  llm::HttpClient http_;
  llm::ModelRegistry models_;
  llm::ChatService chat_;
  llm::FeedbackService feedback_;
  ChatStore& chats_;
  datasets::DatasetService& datasets_;
  StreamWorkers downloads_;
};

}  // namespace loupe::app
