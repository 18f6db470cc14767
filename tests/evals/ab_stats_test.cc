// The A/B statistics against scipy 1.10 (python3-scipy; each expected value names the call
// that gave it) and against brute force where the answer can be enumerated.
#include "evals/ab_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace loupe::evals {
namespace {

TEST(McNemar, ExactTwoSidedBinomialOnTheDiscordantPairs) {
  EXPECT_NEAR(McNemarExactP(10, 2), 0.03857421875, 1e-12);  // binomtest(2, 12, 0.5)
  EXPECT_NEAR(McNemarExactP(2, 10), 0.03857421875, 1e-12);  // the same either way round
  EXPECT_NEAR(McNemarExactP(25, 15), 0.1538599441628321, 1e-12);  // binomtest(15, 40, 0.5)
  EXPECT_EQ(McNemarExactP(0, 0), 1.0);
  EXPECT_EQ(McNemarExactP(6, 6), 1.0);  // twice a tail past the middle is capped
}

TEST(Wilcoxon, ExactWithoutTiesMatchesScipyAndBruteForce) {
  const std::vector<double> d = {1.5, -0.5, 2.0, 3.1, 0.7, -1.2, 2.2, 0.9, 1.1, -0.3};
  SignedRank r = WilcoxonSignedRank(d);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.n, 10);
  EXPECT_EQ(r.statistic, 9.0);                   // wilcoxon(d, mode='exact').statistic
  EXPECT_NEAR(r.p_value, 0.064453125, 1e-12);    // wilcoxon(d, mode='exact').pvalue
  // Brute force: every one of the 2^10 sign choices of ranks 1..10.
  int at_most = 0;
  for (int mask = 0; mask < 1024; ++mask) {
    int sum = 0;
    for (int rank = 1; rank <= 10; ++rank) sum += (mask >> (rank - 1) & 1) ? rank : 0;
    at_most += sum <= 9;
  }
  EXPECT_NEAR(r.p_value, 2.0 * at_most / 1024, 1e-15);
}

TEST(Wilcoxon, TiesAndZerosUseTheNormalApproximationAsScipyDoes) {
  const std::vector<double> d = {1, 1, 2, -1, 3, 3, 0, 2, -2, 4, 1, 5, 2, -1, 3};
  SignedRank r = WilcoxonSignedRank(d);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.n, 14);  // the zero is dropped
  EXPECT_EQ(r.statistic, 13.5);                         // wilcoxon(d, mode='approx').statistic
  EXPECT_NEAR(r.p_value, 0.013547347765805486, 1e-12);  // wilcoxon(d, mode='approx').pvalue
  EXPECT_EQ(WilcoxonSignedRank({0, 0, 0}).n, 0);
  EXPECT_EQ(WilcoxonSignedRank({0, 0, 0}).p_value, 1.0);
}

TEST(Holm, StepDownAdjustmentInTheInputOrder) {
  // Sorted 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06 (kept monotone), 0.06.
  const std::vector<double> adjusted = HolmAdjust({0.04, 0.01, 0.03, 0.02});
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_NEAR(adjusted[0], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.04, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[3], 0.06, 1e-15);
  EXPECT_EQ(HolmAdjust({0.5, 0.6})[1], 1.0);  // capped at 1
  EXPECT_TRUE(HolmAdjust({}).empty());
}

TEST(Bootstrap, PercentileIntervalOfTheMeanIsReproducibleAndAboutRight) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(1.0, 2.0);
  std::vector<double> d(400);
  for (double& x : d) x = noise(rng);
  double mean = 0;
  for (double x : d) mean += x / d.size();
  const Interval a = PairedBootstrapMeanInterval(d, 4000, 0.95, 3);
  const Interval b = PairedBootstrapMeanInterval(d, 4000, 0.95, 3);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  // The normal interval is mean +- 1.96 * 2 / sqrt(400) = mean +- 0.196.
  EXPECT_NEAR(a.low, mean - 0.196, 0.03);
  EXPECT_NEAR(a.high, mean + 0.196, 0.03);
  const Interval constant = PairedBootstrapMeanInterval({0.5, 0.5, 0.5}, 100);
  EXPECT_EQ(constant.low, 0.5);
  EXPECT_EQ(constant.high, 0.5);
}

TEST(Verdict, SaysWhichIsBetterOnlyWhenItIsSignificant) {
  EXPECT_EQ(PlainVerdict("base", "tuned", 0.12, 0.004, 40), "tuned better, significant (p = 0.004)");
  EXPECT_EQ(PlainVerdict("base", "tuned", -0.3, 0.03, 40), "base better, significant (p = 0.03)");
  EXPECT_EQ(PlainVerdict("base", "tuned", 0.05, 0.2, 40), "no detectable difference with n = 40");
}

// scipy.stats.fisher_exact on 2x2 tables [[a_yes, a_no], [b_yes, b_no]].
TEST(FisherExact, MatchesScipy) {
  EXPECT_NEAR(FisherExactP(8, 10, 3, 10), 0.06977851869492736, 1e-12);
  EXPECT_NEAR(FisherExactP(30, 40, 20, 45), 0.0076425248244372836, 1e-12);
  EXPECT_NEAR(FisherExactP(0, 5, 5, 5), 0.007936507936507938, 1e-12);
  EXPECT_NEAR(FisherExactP(3, 6, 3, 6), 1.0, 1e-12);
  EXPECT_EQ(FisherExactP(0, 0, 3, 5), 1.0);
  // 20,000 thumbs: in log space, at once (Boost's pdf per table took seconds here).
  EXPECT_NEAR(FisherExactP(5200, 10000, 5000, 10000), 0.004878795768906845, 1e-9);
}

// Newcombe (1998), table II, method 10: 56/70 against 48/80 gives 0.0524 to 0.3339.
TEST(NewcombeInterval, MatchesThePaper) {
  Interval ci = NewcombeDifferenceInterval(48, 80, 56, 70);
  EXPECT_NEAR(ci.low, 0.0524, 5e-5);
  EXPECT_NEAR(ci.high, 0.3339, 5e-5);
}

}  // namespace
}  // namespace loupe::evals
