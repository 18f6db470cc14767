// Per-column statistics for the dataset page: counts and missing values for every
// column; min, max, mean, standard deviation and quartiles for numbers; the most
// frequent values for categories and booleans; lengths for text; range for dates.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "datasets/table.h"

namespace loupe::datasets {

nlohmann::json ColumnStats(const Column& column);

}  // namespace loupe::datasets
