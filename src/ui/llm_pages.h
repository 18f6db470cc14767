// LLM workbench pages: the model endpoints (add, test, remove, with what the last
// connection test found).
#pragma once

#include <vector>

#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> LlmPageRoutes(llm::ModelRegistry& models);

}  // namespace loupe
