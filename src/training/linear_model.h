// Linear models with liblinear (Debian's liblinear): logistic regression, linear SVM
// and linear support vector regression, on tabular features (standardised with the
// training split's mean and deviation, missing values at the mean) or on text through
// TF-IDF features fitted on the training split.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "training/model.h"

namespace loupe::training {

enum class LinearKind { kLogisticRegression, kLinearSvm, kLinearSvr };

std::unique_ptr<Model> MakeLinearModel(LinearKind kind, TaskKind task, int num_classes, const nlohmann::json& params);

}  // namespace loupe::training
