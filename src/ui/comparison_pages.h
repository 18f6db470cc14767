// The comparison lab's pages (comparison_pages.cc): /llm/compare (comparisons and the
// form that starts one), /llm/compare/:id (the grid), /llm/compare/leaderboard.
#pragma once

#include <vector>

#include "evals/comparison_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> ComparisonPageRoutes(evals::ComparisonService& comparisons, llm::ModelRegistry& models);

}  // namespace loupe
