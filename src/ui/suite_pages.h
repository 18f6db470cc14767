// Regression suites' pages (suite_pages.cc): /llm/suites, /llm/suites/:id (the tracking
// chart, the runs, run now) and /llm/suites/:id/runs/:run (a run's verdict and diff).
#pragma once

#include <vector>

#include "evals/suite_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> SuitePageRoutes(evals::SuiteService& suites, llm::ModelRegistry& models);

}  // namespace loupe
