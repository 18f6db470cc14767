// Batch tests' pages (batch_pages.cc): /llm/batch and /llm/batch/:id.
#pragma once

#include <vector>

#include "evals/batch_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> BatchPageRoutes(evals::BatchService& batches, llm::ModelRegistry& models);

}  // namespace loupe
