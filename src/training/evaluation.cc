#include "training/evaluation.h"

namespace loupe::training {

SplitEvaluation Evaluate(TaskKind task, int num_classes, const Predictions& predicted, const TrainData& truth,
                         const std::vector<std::string>& metrics) {
  SplitEvaluation out;
  if (IsClassification(task)) {
    ClassificationData d{num_classes, *truth.labels, predicted.classes, predicted.proba};
    for (const std::string& m : metrics) {
      Result<double> v = ComputeClassificationMetric(m, d);
      if (v.ok()) out.values[m] = *v;
      else out.errors[m] = v.status().message();
    }
    out.confusion = ConfusionMatrix(d);
  } else {
    RegressionData d{*truth.targets, predicted.values};
    for (const std::string& m : metrics) {
      Result<double> v = ComputeRegressionMetric(m, d);
      if (v.ok()) out.values[m] = *v;
      else out.errors[m] = v.status().message();
    }
  }
  return out;
}

std::vector<std::string> MetricsForTask(TaskKind task) {
  std::vector<std::string> out;
  for (const MetricInfo& m : MetricCatalog()) {
    if (m.classification == IsClassification(task)) out.push_back(m.name);
  }
  return out;
}

Status CheckMetrics(TaskKind task, const std::vector<std::string>& metrics, bool gives_proba, const std::string& field) {
  for (const std::string& name : metrics) {
    const MetricInfo* info = nullptr;
    for (const MetricInfo& m : MetricCatalog()) {
      if (m.name == name) info = &m;
    }
    if (!info || info->classification != IsClassification(task)) {
      std::string list;
      for (const std::string& m : MetricsForTask(task)) list += (list.empty() ? "" : ", ") + m;
      return Status::InvalidArgument(field + ": \"" + name + "\" is not a " + TaskName(task) + " metric (valid: " + list + ")");
    }
    if (info->needs_proba && !gives_proba) {
      return Status::InvalidArgument(field + ": " + name + " needs class probabilities, which this model does not give");
    }
  }
  return Status::Ok();
}

bool HigherIsBetter(const std::string& metric) {
  return !(metric == "LogLoss" || metric == "MAE" || metric == "RMSE");
}

}  // namespace loupe::training
