// The fastText text classifier behind the Model interface.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "training/model.h"

namespace loupe::training {

std::unique_ptr<Model> MakeFastTextClassifier(int num_classes, const nlohmann::json& params, const std::string& work_dir);

}  // namespace loupe::training
