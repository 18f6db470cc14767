#include "training/baseline.h"

#include <cmath>

#include "common/number_text.h"
#include "training/evaluation.h"

namespace loupe::training {

Baseline FitBaseline(TaskKind task, int num_classes, const std::vector<std::string>& classes, const TrainData& train) {
  Baseline b;
  if (IsClassification(task)) {
    std::vector<size_t> counts(static_cast<size_t>(std::max(num_classes, 0)), 0);
    for (int y : *train.labels) {
      if (y >= 0 && y < num_classes) ++counts[static_cast<size_t>(y)];
    }
    const size_t n = train.labels->size();
    b.priors.assign(counts.size(), 0.0);
    for (size_t k = 0; k < counts.size(); ++k) {
      b.priors[k] = n ? static_cast<double>(counts[k]) / static_cast<double>(n) : 0.0;
      if (b.majority_class < 0 || counts[k] > counts[static_cast<size_t>(b.majority_class)]) b.majority_class = static_cast<int>(k);
    }
    const size_t c = static_cast<size_t>(std::max(b.majority_class, 0));
    const std::string name = c < classes.size() ? classes[c] : std::to_string(c);
    b.description = "always the majority class \"" + name + "\" (" + std::to_string(counts.empty() ? 0 : counts[c]) +
                    " of " + std::to_string(n) + " train rows)";
  } else {
    double sum = 0;
    for (double v : *train.targets) sum += v;
    b.mean = train.targets->empty() ? 0.0 : sum / static_cast<double>(train.targets->size());
    std::string mean;
    AppendNumberText(mean, b.mean);
    b.description = "always the mean of the train targets (" + mean + ")";
  }
  return b;
}

Predictions PredictBaseline(const Baseline& b, TaskKind task, size_t rows) {
  Predictions p;
  if (IsClassification(task)) {
    p.classes.assign(rows, b.majority_class);
    p.proba.assign(rows, b.priors);
  } else {
    p.values.assign(rows, b.mean);
  }
  return p;
}

bool BeatsBaseline(const std::string& metric, double value, double baseline) {
  if (!std::isfinite(value)) return false;
  if (!std::isfinite(baseline)) return true;
  const double margin = 1e-9 * std::max({1.0, std::fabs(value), std::fabs(baseline)});
  return HigherIsBetter(metric) ? value > baseline + margin : value < baseline - margin;
}

}  // namespace loupe::training
