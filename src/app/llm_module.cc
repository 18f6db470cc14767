#include "app/llm_module.h"

#include <string>
#include <vector>

#include "ui/llm_pages.h"
#include "web/llm_api.h"

namespace loupe::app {

LlmModule::LlmModule(LlmStore& models, ChatStore& chats, FeedbackStore& feedback, auth::SecretService& secrets,
                     datasets::DatasetService& datasets)
    : models_(models, secrets, http_),
      chat_(chats, models, models_, http_),
      feedback_(feedback),
      chats_(chats),
      datasets_(datasets) {}

void LlmModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, LlmApiRoutes(models_));
  AppendRoutes(routes, ChatApiRoutes(chat_));
  DatasetSaving saving;
  saving.sink = [this](const std::string& name, const std::string& file_name, const std::string& bytes) -> Result<int64_t> {
    LOUPE_ASSIGN_OR_RETURN(DatasetRecord d, datasets_.Create(name, file_name, "jsonl", bytes, "llm-export:" + file_name));
    return d.id;
  };
  saving.max_bytes = datasets_.options().max_upload_bytes;
  AppendRoutes(routes, FeedbackApiRoutes(feedback_, chats_, downloads_, std::move(saving)));
  AppendRoutes(routes, LlmPageRoutes(models_));
  AppendRoutes(routes, ChatPageRoutes(chat_, models_, feedback_.store()));
  AppendRoutes(routes, PredictionPageRoutes(feedback_, models_, chats_));
}

ExperimentLinks LlmModule::TestInChatLinks() {
  return [this](int64_t experiment_id) {
    std::vector<ExperimentLink> links;
    Result<std::vector<LlmModel>> all = models_.List();
    if (!all.ok()) return links;  // the page still renders; the link is an extra
    for (const LlmModel& m : *all) {
      if (m.experiment_id != experiment_id) continue;
      links.push_back({"Test " + m.name + " in chat", "/llm/chat?model=" + std::to_string(m.id),
                       "start a conversation with " + m.name + ", the model this run produced"});
    }
    return links;
  };
}

}  // namespace loupe::app
