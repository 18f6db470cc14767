// Scoring a trained model on one split: the session's chosen metrics, the confusion
// matrix for classification, and which way each metric is better.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "training/metrics.h"
#include "training/model.h"
#include "training/task.h"

namespace loupe::training {

struct SplitEvaluation {
  std::map<std::string, double> values;
  std::map<std::string, std::string> errors;  // metrics that could not be computed, and why
  std::vector<std::vector<int64_t>> confusion;  // classification: [truth][predicted]
};

SplitEvaluation Evaluate(TaskKind task, int num_classes, const Predictions& predicted, const TrainData& truth,
                         const std::vector<std::string>& metrics);

// Metric names valid for the task, or an error naming the first that is not (and the
// valid ones). `gives_proba` false refuses ROCAUC and LogLoss.
Status CheckMetrics(TaskKind task, const std::vector<std::string>& metrics, bool gives_proba, const std::string& field);
std::vector<std::string> MetricsForTask(TaskKind task);
bool HigherIsBetter(const std::string& metric);

}  // namespace loupe::training
