// Every metric against values computed by hand (and matching scikit-learn's).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "training/metrics.h"
#include "training/splits.h"

namespace loupe::training {
namespace {

ClassificationData ThreeClass() {
  // Per class: 0: TP1 FP1 FN1; 1: TP2 FP1 FN0; 2: TP1 FP0 FN1.
  return {3, {0, 0, 1, 1, 2, 2}, {0, 1, 1, 1, 2, 0}, {}};
}

TEST(Metrics, AccuracyPrecisionRecallF1) {
  ClassificationData d = ThreeClass();
  EXPECT_DOUBLE_EQ(*Accuracy(d), 4.0 / 6);
  EXPECT_NEAR(*Precision(d, Average::kMacro), (0.5 + 2.0 / 3 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(*Recall(d, Average::kMacro), (0.5 + 1.0 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(*F1(d, Average::kMacro), (0.5 + 0.8 + 2.0 / 3) / 3, 1e-12);
  for (auto f : {Precision, Recall, F1}) EXPECT_NEAR(*f(d, Average::kMicro), 4.0 / 6, 1e-12);
  // Weighted: supports 1, 3, 2 for classes 0, 1, 2.
  ClassificationData w{3, {0, 1, 1, 1, 2, 2}, {0, 1, 1, 0, 2, 1}, {}};
  // precision: c0 1/2, c1 2/3, c2 1/1; recall: c0 1, c1 2/3, c2 1/2
  double p = (1 * 0.5 + 3 * (2.0 / 3) + 2 * 1.0) / 6;
  EXPECT_NEAR(*Precision(w, Average::kWeighted), p, 1e-12);
  double f1c0 = 2 * 0.5 * 1 / 1.5, f1c1 = 2.0 / 3, f1c2 = 2 * 1 * 0.5 / 1.5;
  EXPECT_NEAR(*F1(w, Average::kWeighted), (1 * f1c0 + 3 * f1c1 + 2 * f1c2) / 6, 1e-12);
}

TEST(Metrics, NeverPredictedClassCountsZeroPrecision) {
  // class 0: TP 1, FP 2 -> 1/3; class 1 is never predicted -> 0 (zero_division=0).
  ClassificationData d{2, {0, 1, 1}, {0, 0, 0}, {}};
  EXPECT_NEAR(*Precision(d, Average::kMacro), (1.0 / 3 + 0) / 2, 1e-12);
  EXPECT_NEAR(*Recall(d, Average::kMacro), (1.0 + 0) / 2, 1e-12);
}

TEST(Metrics, ConfusionMatrix) {
  auto m = ConfusionMatrix(ThreeClass());
  EXPECT_EQ(m, (std::vector<std::vector<int64_t>>{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}));
}

TEST(Metrics, RocAucAndLogLoss) {
  // scikit-learn's roc_auc_score example: 0.75.
  ClassificationData b{2, {0, 0, 1, 1}, {0, 0, 0, 1}, {{0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}}};
  EXPECT_DOUBLE_EQ(*RocAuc(b), 0.75);
  ClassificationData l{2, {0, 1}, {0, 1}, {{0.9, 0.1}, {0.1, 0.9}}};
  EXPECT_NEAR(*LogLoss(l), -std::log(0.9), 1e-12);
  // Ties count half.
  ClassificationData tie{2, {0, 1}, {0, 1}, {{0.5, 0.5}, {0.5, 0.5}}};
  EXPECT_DOUBLE_EQ(*RocAuc(tie), 0.5);
  // A split holding one class: a clear error, not a crash (DashAI #698).
  ClassificationData one{2, {1, 1}, {1, 1}, {{0.2, 0.8}, {0.3, 0.7}}};
  EXPECT_EQ(RocAuc(one).status().message(), "ROC-AUC needs both classes among the split's labels");
  // Multiclass: macro one-vs-rest over the classes present.
  ClassificationData m{3, {0, 1, 2, 2}, {0, 1, 2, 2},
                       {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}, {0.3, 0.3, 0.4}}};
  EXPECT_DOUBLE_EQ(*RocAuc(m), 1.0);
  EXPECT_FALSE(LogLoss(ThreeClass()).ok());  // no probabilities
}

TEST(Metrics, Regression) {
  // scikit-learn's examples: MAE 0.5, MSE 0.375, R² 0.9486081370449679.
  RegressionData d{{3, -0.5, 2, 7}, {2.5, 0.0, 2, 8}};
  EXPECT_DOUBLE_EQ(*MeanAbsoluteError(d), 0.5);
  EXPECT_DOUBLE_EQ(*RootMeanSquaredError(d), std::sqrt(0.375));
  EXPECT_NEAR(*R2(d), 0.9486081370449679, 1e-12);
  EXPECT_FALSE(MeanAbsoluteError({{1}, {}}).ok());
}

TEST(Metrics, ByName) {
  EXPECT_NEAR(*ComputeClassificationMetric("F1_micro", ThreeClass()), 4.0 / 6, 1e-12);
  EXPECT_FALSE(ComputeClassificationMetric("MAE", ThreeClass()).ok());
  EXPECT_DOUBLE_EQ(*ComputeRegressionMetric("MAE", {{1, 2}, {1, 4}}), 1.0);
}

TEST(Splits, SeededStratifiedAndExhaustive) {
  std::vector<int> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(i < 80 ? 0 : 1);
  auto a = MakeSplit(100, {0.7, 0.15, 0.15}, 42, labels);
  auto b = MakeSplit(100, {0.7, 0.15, 0.15}, 42, labels);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->train, b->train);
  EXPECT_EQ(a->test, b->test);
  EXPECT_NE(a->test, MakeSplit(100, {0.7, 0.15, 0.15}, 43, labels)->test);
  EXPECT_EQ(a->train.size() + a->validation.size() + a->test.size(), 100u);
  std::set<size_t> all(a->train.begin(), a->train.end());
  all.insert(a->validation.begin(), a->validation.end());
  all.insert(a->test.begin(), a->test.end());
  EXPECT_EQ(all.size(), 100u);
  int minority_in_test = 0;
  for (size_t i : a->test) minority_in_test += labels[i];
  EXPECT_EQ(minority_in_test, 3);  // 20 x 0.15
  EXPECT_EQ(MakeSplit(3, {0.7, 0.15, 0.15}, 1).status().message(), "the validation split is empty (3 rows x 0.15)");
  EXPECT_EQ(MakeSplit(10, {0.5, 0.5, 0.5}, 1).status().message(), "split ratios must add up to 1");
}

}  // namespace
}  // namespace loupe::training
