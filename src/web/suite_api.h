// Regression suites' API under /api/v1/suites (suite_api.cc): suites created, read (by id,
// or by ?name= in the list), changed and removed; runs started against a model (by id or
// name), listed, and read with their verdict and the diff against the previous version;
// the per-version history the tracking chart plots.
#pragma once

#include <vector>

#include "evals/suite_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> SuiteApiRoutes(evals::SuiteService& suites, llm::ModelRegistry& models);

}  // namespace loupe
