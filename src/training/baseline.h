// The score every run must beat to be worth anything: scikit-learn's
// DummyClassifier(strategy="prior") — the train split's most frequent class, with the
// train class frequencies as probabilities (so ROC-AUC is 0.5) — and
// DummyRegressor(strategy="mean"). A model no better than this has learned nothing
// from its inputs (the 0.7167-accuracy fastText run that was the majority class).
#pragma once

#include <string>
#include <vector>

#include "training/model.h"

namespace loupe::training {

struct Baseline {
  std::string description;   // majority class "no" (286 of 400 train rows) | mean of the train targets (5.64)
  int majority_class = -1;   // classification
  std::vector<double> priors;
  double mean = 0;           // regression
};

// Ties between classes go to the lowest class id, as numpy's argmax (and sklearn) do.
Baseline FitBaseline(TaskKind task, int num_classes, const std::vector<std::string>& classes, const TrainData& train);
Predictions PredictBaseline(const Baseline& b, TaskKind task, size_t rows);

// Whether `value` is better than `baseline` for `metric`, by more than rounding.
bool BeatsBaseline(const std::string& metric, double value, double baseline);

}  // namespace loupe::training
