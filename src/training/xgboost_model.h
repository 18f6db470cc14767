// Gradient-boosted trees with XGBoost's C API (Debian's libxgboost): classification
// (binary:logistic or multi:softprob) and regression (reg:squarederror) on tabular
// features. Reports the train and validation loss after every boosting round.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "training/model.h"

namespace loupe::training {

// `params` holds the validated schema values (see model_catalog.cc).
std::unique_ptr<Model> MakeXGBoostModel(TaskKind task, int num_classes, const nlohmann::json& params);

}  // namespace loupe::training
