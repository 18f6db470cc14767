// Dataset pages: the list with upload and samples, and a dataset's columns (types,
// statistics) and paged preview.
#pragma once

#include <vector>

#include "datasets/dataset_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> DatasetPageRoutes(datasets::DatasetService& datasets);

}  // namespace loupe
