// LLM workbench pages: the model endpoints (llm_pages.cc), the chat portal
// (chat_pages.cc), and predictions with their feedback (prediction_pages.cc).
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "llm/chat_service.h"
#include "llm/feedback_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> LlmPageRoutes(llm::ModelRegistry& models);
std::vector<Route> ChatPageRoutes(llm::ChatService& chat, llm::ModelRegistry& models, FeedbackStore& feedback);
std::vector<Route> PredictionPageRoutes(llm::FeedbackService& feedback, llm::ModelRegistry& models, ChatStore& chats);

// A model's capability badges ({label, confirmed, title}) from its API form (LlmModelJson).
nlohmann::json ModelBadges(const nlohmann::json& model);

// The LLM pages' own tabs: chat, compare, predictions, feedback, endpoints.
std::string LlmTabs(const std::string& active);

}  // namespace loupe
