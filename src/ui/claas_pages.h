// CLaaS's two dashboards, served as HTML: GET /v1/dashboard (feedback logs) and
// GET /v1/eval (eval-harness results). See docs/claas.md.
#pragma once

#include <string>
#include <vector>

#include "web/http_types.h"

namespace loupe {

struct ClaasPageOptions {
  std::string feedback_dir = "./data/feedback";
  std::string evals_root = "./data/evals";  // results_dir must resolve inside it
};

std::vector<Route> ClaasPageRoutes(ClaasPageOptions options);

}  // namespace loupe
