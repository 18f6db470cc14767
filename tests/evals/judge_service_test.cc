// The judge's agreement statistics: quadratic-weighted kappa against scikit-learn's
// cohen_kappa_score(weights="quadratic", labels=[1..5]) (python3-sklearn), and a judge's scale mapped
// onto people's 1-5.
#include <gtest/gtest.h>

#include "evals/judge_service.h"

namespace loupe::evals {
namespace {

TEST(QuadraticWeightedKappa, MatchesScikitLearn) {
  // cohen_kappa_score([1,2,3,4,5,3,2,4], [2,2,3,5,4,3,1,4], weights="quadratic")
  EXPECT_NEAR(*QuadraticWeightedKappa({1, 2, 3, 4, 5, 3, 2, 4}, {2, 2, 3, 5, 4, 3, 1, 4}, 5), 0.8333333333333334, 1e-12);
  // With a category nobody used (3), distances stay those of the 1-5 scale: scikit-learn
  // agrees when told the labels, cohen_kappa_score(..., labels=[1,2,3,4,5]); without them it
  // would close the gap (0.8235...).
  EXPECT_NEAR(*QuadraticWeightedKappa({1, 1, 2, 5, 5, 4}, {1, 2, 2, 4, 5, 5}, 5), 0.9090909090909091, 1e-12);
  EXPECT_NEAR(*QuadraticWeightedKappa({1, 3, 5}, {1, 3, 5}, 5), 1.0, 1e-12);
}

TEST(QuadraticWeightedKappa, UndefinedWithoutChanceDisagreement) {
  EXPECT_FALSE(QuadraticWeightedKappa({3, 3, 3}, {3, 3, 3}, 5).has_value());
  EXPECT_FALSE(QuadraticWeightedKappa({}, {}, 5).has_value());
  EXPECT_FALSE(QuadraticWeightedKappa({1, 2}, {1}, 5).has_value());
  EXPECT_FALSE(QuadraticWeightedKappa({0, 2}, {1, 2}, 5).has_value());  // outside 1..k
}

TEST(ToFivePoint, SharesOfTheJudgesScale) {
  EXPECT_EQ(ToFivePoint(1, 1, 10), 1);
  EXPECT_EQ(ToFivePoint(10, 1, 10), 5);
  EXPECT_EQ(ToFivePoint(8, 1, 10), 4);    // 7/9 of the way: 1 + round(3.11)
  EXPECT_EQ(ToFivePoint(5.5, 1, 10), 3);  // the middle
  EXPECT_EQ(ToFivePoint(3, 1, 5), 3);
  EXPECT_EQ(ToFivePoint(42, 1, 10), 5);   // clamped
}

}  // namespace
}  // namespace loupe::evals
