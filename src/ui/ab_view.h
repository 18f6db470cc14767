// How the pages write an A/B comparison (evals/ab_compare.h): each metric's means, the
// difference with its interval, the test, p and Holm's p, and the verdict, in units that
// fit the metric (percentage points, ms, rating points).
#pragma once

#include <nlohmann/json.hpp>

namespace loupe {

// `ab`: CompareArms() (a batch run's models: arms with pass rates) or CompareRatings() (a
// comparison's: wins and ties). For the templates batch_live and ab_ratings.
nlohmann::json AbView(const nlohmann::json& ab);

}  // namespace loupe
