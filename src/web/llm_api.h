// The LLM workbench's API under /api/v1/llm: model endpoints (add, list, edit, test,
// remove), conversations and their streamed answers, predictions. Handlers parse and check the request's shape and render JSON; the registry
// holds the rules.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "llm/chat_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> LlmApiRoutes(llm::ModelRegistry& models);
// Conversations, streamed answers (server-sent events), predictions (chat_api.cc).
std::vector<Route> ChatApiRoutes(llm::ChatService& chat);

// A model as the API and the pages show it: its key only as {set, hint, secret}.
// `all` and `secrets`, when given, spare a lookup per model on lists.
nlohmann::json LlmModelJson(llm::ModelRegistry& models, const LlmModel& m, const std::vector<LlmModel>* all = nullptr,
                            const std::vector<SealedSecret>* secrets = nullptr);

}  // namespace loupe
