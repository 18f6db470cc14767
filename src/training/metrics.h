// Model metrics, computed the way scikit-learn defines them so results can be checked
// against it. Classes are 0..k-1; probabilities are n x k rows.
//   classification: Accuracy; Precision, Recall, F1 (macro, micro, weighted; a class
//   never predicted counts 0 precision, as zero_division=0); ROC-AUC (binary, or macro
//   one-vs-rest, skipping classes absent from the split instead of failing); log loss;
//   confusion matrix.
//   regression: MAE, RMSE, R².
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::training {

enum class Average { kMacro, kMicro, kWeighted };

struct ClassificationData {
  int num_classes = 0;
  std::vector<int> truth;
  std::vector<int> predicted;
  std::vector<std::vector<double>> proba;  // empty when the model gives none
};

struct RegressionData {
  std::vector<double> truth;
  std::vector<double> predicted;
};

Result<double> Accuracy(const ClassificationData& d);
Result<double> Precision(const ClassificationData& d, Average avg);
Result<double> Recall(const ClassificationData& d, Average avg);
Result<double> F1(const ClassificationData& d, Average avg);
Result<double> RocAuc(const ClassificationData& d);
Result<double> LogLoss(const ClassificationData& d);
std::vector<std::vector<int64_t>> ConfusionMatrix(const ClassificationData& d);  // [truth][predicted]

Result<double> MeanAbsoluteError(const RegressionData& d);
Result<double> RootMeanSquaredError(const RegressionData& d);
Result<double> R2(const RegressionData& d);

// Metric names the API accepts, e.g. "Accuracy", "F1" (macro), "F1_micro",
// "F1_weighted", "ROCAUC", "LogLoss", "MAE", "RMSE", "R2".
struct MetricInfo {
  std::string name;
  bool classification;  // else regression
  bool needs_proba;
  std::string description;
};
const std::vector<MetricInfo>& MetricCatalog();
Result<double> ComputeClassificationMetric(const std::string& name, const ClassificationData& d);
Result<double> ComputeRegressionMetric(const std::string& name, const RegressionData& d);

}  // namespace loupe::training
