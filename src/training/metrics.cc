#include "training/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace loupe::training {

namespace {

Status CheckClassification(const ClassificationData& d, bool need_proba) {
  if (d.truth.empty()) return Status::InvalidArgument("no rows to score");
  if (d.num_classes < 2) return Status::InvalidArgument("a classification metric needs at least 2 classes");
  if (!need_proba && d.predicted.size() != d.truth.size()) {
    return Status::InvalidArgument("predictions and labels differ in length");
  }
  if (need_proba) {
    if (d.proba.size() != d.truth.size()) return Status::InvalidArgument("this metric needs class probabilities");
    for (const auto& row : d.proba) {
      if (row.size() != static_cast<size_t>(d.num_classes)) return Status::InvalidArgument("probability rows must have one value per class");
    }
  }
  for (int y : d.truth) {
    if (y < 0 || y >= d.num_classes) return Status::InvalidArgument("a label is outside the classes");
  }
  return Status::Ok();
}

struct Counts {
  std::vector<int64_t> tp, fp, fn, support;
};

Counts CountPerClass(const ClassificationData& d) {
  Counts c{std::vector<int64_t>(d.num_classes), std::vector<int64_t>(d.num_classes), std::vector<int64_t>(d.num_classes),
           std::vector<int64_t>(d.num_classes)};
  for (size_t i = 0; i < d.truth.size(); ++i) {
    int t = d.truth[i], p = d.predicted[i];
    ++c.support[t];
    if (t == p) {
      ++c.tp[t];
    } else {
      ++c.fn[t];
      if (p >= 0 && p < d.num_classes) ++c.fp[p];
    }
  }
  return c;
}

double Ratio(int64_t a, int64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

enum class Which { kPrecision, kRecall, kF1 };

Result<double> Averaged(const ClassificationData& d, Average avg, Which which) {
  LOUPE_RETURN_IF_ERROR(CheckClassification(d, false));
  Counts c = CountPerClass(d);
  auto score = [&](int64_t tp, int64_t fp, int64_t fn) {
    double p = Ratio(tp, tp + fp), r = Ratio(tp, tp + fn);
    if (which == Which::kPrecision) return p;
    if (which == Which::kRecall) return r;
    return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
  };
  if (avg == Average::kMicro) {
    int64_t tp = std::accumulate(c.tp.begin(), c.tp.end(), int64_t{0});
    int64_t fp = std::accumulate(c.fp.begin(), c.fp.end(), int64_t{0});
    int64_t fn = std::accumulate(c.fn.begin(), c.fn.end(), int64_t{0});
    return score(tp, fp, fn);
  }
  // Like scikit-learn, classes are those seen in the labels or the predictions.
  double sum = 0, weight = 0;
  for (int k = 0; k < d.num_classes; ++k) {
    if (c.support[k] == 0 && c.fp[k] == 0) continue;
    double w = avg == Average::kWeighted ? static_cast<double>(c.support[k]) : 1.0;
    sum += w * score(c.tp[k], c.fp[k], c.fn[k]);
    weight += w;
  }
  return weight == 0 ? 0.0 : sum / weight;
}

// Area under the ROC curve of scores for one positive class (Mann-Whitney U, ties
// counted half). nullopt when the split lacks positives or negatives.
std::optional<double> BinaryAuc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  int64_t pos = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    double avg_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
    for (size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        rank_sum += avg_rank;
        ++pos;
      }
    }
    i = j;
  }
  int64_t neg = static_cast<int64_t>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return std::nullopt;
  return (rank_sum - static_cast<double>(pos) * static_cast<double>(pos + 1) / 2.0) /
         (static_cast<double>(pos) * static_cast<double>(neg));
}

Status CheckRegression(const RegressionData& d) {
  if (d.truth.empty()) return Status::InvalidArgument("no rows to score");
  if (d.truth.size() != d.predicted.size()) return Status::InvalidArgument("predictions and targets differ in length");
  return Status::Ok();
}

}  // namespace

Result<double> Accuracy(const ClassificationData& d) {
  LOUPE_RETURN_IF_ERROR(CheckClassification(d, false));
  int64_t right = 0;
  for (size_t i = 0; i < d.truth.size(); ++i) right += d.truth[i] == d.predicted[i] ? 1 : 0;
  return Ratio(right, static_cast<int64_t>(d.truth.size()));
}

Result<double> Precision(const ClassificationData& d, Average avg) { return Averaged(d, avg, Which::kPrecision); }
Result<double> Recall(const ClassificationData& d, Average avg) { return Averaged(d, avg, Which::kRecall); }
Result<double> F1(const ClassificationData& d, Average avg) { return Averaged(d, avg, Which::kF1); }

Result<double> RocAuc(const ClassificationData& d) {
  LOUPE_RETURN_IF_ERROR(CheckClassification(d, true));
  const size_t n = d.truth.size();
  if (d.num_classes == 2) {
    std::vector<double> s(n);
    std::vector<bool> pos(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = d.proba[i][1];
      pos[i] = d.truth[i] == 1;
    }
    auto auc = BinaryAuc(s, pos);
    if (!auc) return Status::InvalidArgument("ROC-AUC needs both classes among the split's labels");
    return *auc;
  }
  double sum = 0;
  int used = 0;
  for (int k = 0; k < d.num_classes; ++k) {
    std::vector<double> s(n);
    std::vector<bool> pos(n);
    for (size_t i = 0; i < n; ++i) {
      s[i] = d.proba[i][k];
      pos[i] = d.truth[i] == k;
    }
    if (auto auc = BinaryAuc(s, pos)) {
      sum += *auc;
      ++used;
    }
  }
  if (used == 0) return Status::InvalidArgument("ROC-AUC needs at least two classes among the split's labels");
  return sum / used;
}

Result<double> LogLoss(const ClassificationData& d) {
  LOUPE_RETURN_IF_ERROR(CheckClassification(d, true));
  constexpr double kEps = 1e-15;
  double sum = 0;
  for (size_t i = 0; i < d.truth.size(); ++i) {
    double total = std::accumulate(d.proba[i].begin(), d.proba[i].end(), 0.0);
    double p = total > 0 ? d.proba[i][d.truth[i]] / total : 0;  // rows are normalised, like scikit-learn
    sum += -std::log(std::clamp(p, kEps, 1 - kEps));
  }
  return sum / static_cast<double>(d.truth.size());
}

std::vector<std::vector<int64_t>> ConfusionMatrix(const ClassificationData& d) {
  std::vector<std::vector<int64_t>> m(d.num_classes, std::vector<int64_t>(d.num_classes));
  for (size_t i = 0; i < d.truth.size() && i < d.predicted.size(); ++i) {
    int t = d.truth[i], p = d.predicted[i];
    if (t >= 0 && t < d.num_classes && p >= 0 && p < d.num_classes) ++m[t][p];
  }
  return m;
}

Result<double> MeanAbsoluteError(const RegressionData& d) {
  LOUPE_RETURN_IF_ERROR(CheckRegression(d));
  double sum = 0;
  for (size_t i = 0; i < d.truth.size(); ++i) sum += std::fabs(d.truth[i] - d.predicted[i]);
  return sum / static_cast<double>(d.truth.size());
}

Result<double> RootMeanSquaredError(const RegressionData& d) {
  LOUPE_RETURN_IF_ERROR(CheckRegression(d));
  double sum = 0;
  for (size_t i = 0; i < d.truth.size(); ++i) sum += (d.truth[i] - d.predicted[i]) * (d.truth[i] - d.predicted[i]);
  return std::sqrt(sum / static_cast<double>(d.truth.size()));
}

Result<double> R2(const RegressionData& d) {
  LOUPE_RETURN_IF_ERROR(CheckRegression(d));
  double mean = std::accumulate(d.truth.begin(), d.truth.end(), 0.0) / static_cast<double>(d.truth.size());
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < d.truth.size(); ++i) {
    ss_res += (d.truth[i] - d.predicted[i]) * (d.truth[i] - d.predicted[i]);
    ss_tot += (d.truth[i] - mean) * (d.truth[i] - mean);
  }
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;  // constant targets, as scikit-learn
  return 1 - ss_res / ss_tot;
}

const std::vector<MetricInfo>& MetricCatalog() {
  static const std::vector<MetricInfo> catalog = {
      {"Accuracy", true, false, "share of rows predicted right"},
      {"Precision", true, false, "macro-averaged precision"},
      {"Precision_micro", true, false, "micro-averaged precision"},
      {"Precision_weighted", true, false, "support-weighted precision"},
      {"Recall", true, false, "macro-averaged recall"},
      {"Recall_micro", true, false, "micro-averaged recall"},
      {"Recall_weighted", true, false, "support-weighted recall"},
      {"F1", true, false, "macro-averaged F1"},
      {"F1_micro", true, false, "micro-averaged F1"},
      {"F1_weighted", true, false, "support-weighted F1"},
      {"ROCAUC", true, true, "area under the ROC curve (macro one-vs-rest for several classes)"},
      {"LogLoss", true, true, "cross-entropy of the predicted probabilities"},
      {"MAE", false, false, "mean absolute error"},
      {"RMSE", false, false, "root mean squared error"},
      {"R2", false, false, "coefficient of determination"},
  };
  return catalog;
}

Result<double> ComputeClassificationMetric(const std::string& name, const ClassificationData& d) {
  auto avg = [&](const std::string& base) -> std::optional<Average> {
    if (name == base) return Average::kMacro;
    if (name == base + "_micro") return Average::kMicro;
    if (name == base + "_weighted") return Average::kWeighted;
    return std::nullopt;
  };
  if (name == "Accuracy") return Accuracy(d);
  if (auto a = avg("Precision")) return Precision(d, *a);
  if (auto a = avg("Recall")) return Recall(d, *a);
  if (auto a = avg("F1")) return F1(d, *a);
  if (name == "ROCAUC") return RocAuc(d);
  if (name == "LogLoss") return LogLoss(d);
  return Status::InvalidArgument("\"" + name + "\" is not a classification metric");
}

Result<double> ComputeRegressionMetric(const std::string& name, const RegressionData& d) {
  if (name == "MAE") return MeanAbsoluteError(d);
  if (name == "RMSE") return RootMeanSquaredError(d);
  if (name == "R2") return R2(d);
  return Status::InvalidArgument("\"" + name + "\" is not a regression metric");
}

}  // namespace loupe::training
