#include "app/llm_module.h"

#include "ui/llm_pages.h"
#include "web/llm_api.h"

namespace loupe::app {

LlmModule::LlmModule(LlmStore& models, ChatStore& chats, FeedbackStore& feedback, auth::SecretService& secrets)
    : models_(models, secrets, http_), chat_(chats, models, models_, http_), feedback_(feedback), chats_(chats) {}

void LlmModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, LlmApiRoutes(models_));
  AppendRoutes(routes, ChatApiRoutes(chat_));
  AppendRoutes(routes, FeedbackApiRoutes(feedback_, chats_, downloads_));
  AppendRoutes(routes, LlmPageRoutes(models_));
  AppendRoutes(routes, ChatPageRoutes(chat_, models_, feedback_.store()));
  AppendRoutes(routes, PredictionPageRoutes(feedback_, models_, chats_));
}

}  // namespace loupe::app
