#include "app/llm_module.h"

#include "ui/llm_pages.h"
#include "web/llm_api.h"

namespace loupe::app {

LlmModule::LlmModule(LlmStore& models, ChatStore& chats, auth::SecretService& secrets)
    : models_(models, secrets, http_), chat_(chats, models, models_, http_) {}

void LlmModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, LlmApiRoutes(models_));
  AppendRoutes(routes, ChatApiRoutes(chat_));
  AppendRoutes(routes, LlmPageRoutes(models_));
}

}  // namespace loupe::app
