// The models Loupe trains, with the tasks each fits, its parameter schema and a
// factory. The component API, run validation and the job that trains all read this.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "training/model.h"
#include "training/params.h"
#include "training/task.h"

namespace loupe::training {

struct ModelInfo {
  std::string name;
  std::string description;
  std::string library;
  std::vector<TaskKind> tasks;
  bool gives_proba = false;  // class probabilities (needed by ROCAUC and LogLoss)
  std::vector<ParamSpec> params;
  std::string file_extension;  // of the saved model file
};

const std::vector<ModelInfo>& ModelCatalog();
const ModelInfo* FindModel(const std::string& name);
bool ModelFitsTask(const ModelInfo& m, TaskKind task);

// `params` are validated values (ValidateAndTransform). `work_dir` takes temporary files.
Result<std::unique_ptr<Model>> MakeModel(const std::string& name, TaskKind task, int num_classes,
                                         const nlohmann::json& params, const std::string& work_dir);

}  // namespace loupe::training
