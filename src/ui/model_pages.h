// Model pages: sessions (list and the new-session wizard), a session's runs (table
// with metrics, the run form generated from parameter schemas, compare), and a run
// (metrics per split, confusion matrices, search plots and trials, predict box).
#pragma once

#include <vector>

#include "datasets/dataset_service.h"
#include "runs/run_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> ModelPageRoutes(runs::RunService& runs, datasets::DatasetService& datasets);

}  // namespace loupe
