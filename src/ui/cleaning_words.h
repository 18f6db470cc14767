// A recorded cleaning step (datasets/cleaning.h) in words for the dataset page:
// {text: "keep rows where age >= 18", result: "5 rows removed, 95 left"}.
#pragma once

#include <nlohmann/json.hpp>

namespace loupe {

nlohmann::json CleaningStepView(const nlohmann::json& step);

}  // namespace loupe
