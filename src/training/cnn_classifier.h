// Image classification with a small convolutional network from dlib's DNN module
// (Debian's libdlib): two 5x5 convolutions with max pooling, a hidden fully connected
// layer and a softmax over the classes (LeNet's shape, with ReLUs), trained with Adam on
// square grey images given as pixel columns (Fashion-MNIST's 784, digits' 64). Reports
// the training loss and the validation accuracy after every epoch and stops between
// mini-batches when asked.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>

#include "training/model.h"

namespace loupe::training {

// `params` holds the validated schema values (see model_catalog.cc).
std::unique_ptr<Model> MakeCnnClassifier(int num_classes, const nlohmann::json& params);

}  // namespace loupe::training
