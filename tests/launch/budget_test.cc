// Budget arithmetic over segments, worked by hand.
#include <gtest/gtest.h>

#include "launch/budget.h"

namespace loupe::launch {
namespace {

TEST(BudgetTest, TimeAndCostSumOverEverySegment) {
  // 10 min at $3/h, 5 min at $6/h (a restart on a dearer GPU), then 2 min running at $6/h.
  const int64_t m = 60'000'000;
  std::vector<LaunchSegment> segs = {{1, 1, 0, 10 * m, 3.0, "exit code 1"},
                                     {1, 2, 20 * m, 25 * m, 6.0, "exit code 1"},
                                     {1, 3, 30 * m, 0, 6.0, ""}};
  BudgetUse use = UseOf(segs, 32 * m);
  EXPECT_DOUBLE_EQ(use.elapsed_seconds, 17 * 60.0);  // the gaps between segments do not count
  EXPECT_NEAR(use.cost, 0.5 + 0.5 + 0.2, 1e-12);
  JobBudget b;
  b.max_minutes = 34;
  EXPECT_DOUBLE_EQ(BudgetFraction(b, use), 0.5);
  b.max_cost = 1.5;  // 1.2 of 1.5 = 80%: the larger share counts
  EXPECT_NEAR(BudgetFraction(b, use), 0.8, 1e-12);
  EXPECT_EQ(AlertBits(0.49), 0);
  EXPECT_EQ(AlertBits(0.5), 1);
  EXPECT_EQ(AlertBits(0.8), 3);
  EXPECT_EQ(AlertBits(1.0), 7);
}

TEST(BudgetTest, AGpuIsPricedByItsNameOrTheTypeAsked) {
  const std::map<std::string, double> prices = {{"h100", 2.5}, {"NVIDIA H100 80GB HBM3", 3.0}, {"A10", 1.0}, {"A100", 1.8}};
  EXPECT_EQ(GpuPrice(prices, "NVIDIA H100 80GB HBM3", "H100"), 3.0);   // the full name first
  EXPECT_EQ(GpuPrice(prices, "NVIDIA H100 PCIe", ""), 2.5);            // the name contains "h100"
  EXPECT_EQ(GpuPrice(prices, "NVIDIA A100-SXM4-80GB", ""), 1.8);       // the longest key it contains, not "A10"
  EXPECT_EQ(GpuPrice(prices, "", "A10"), 1.0);                         // no GPU name: the type asked
  EXPECT_EQ(GpuPrice(prices, "NVIDIA L4", "L4"), std::nullopt);
  // Words, not letters: the A10's price is not the A100's, the L4's not the L40S's.
  EXPECT_EQ(GpuPrice({{"A10", 1.0}, {"L4", 0.5}}, "NVIDIA A100-SXM4-80GB", ""), std::nullopt);
  EXPECT_EQ(GpuPrice({{"A10", 1.0}, {"L4", 0.5}}, "NVIDIA L40S", ""), std::nullopt);
  EXPECT_EQ(GpuPrice({{"RTX 4090", 0.7}}, "NVIDIA GeForce RTX 4090", ""), 0.7);
}

TEST(BudgetTest, LocalRateFromPrices) {
  JobResources r;
  r.cpus = 4;
  r.gpus = 2;
  std::vector<std::string> missing;
  EXPECT_DOUBLE_EQ(LocalRate(r, "NVIDIA H100", {{"cpu", 0.05}, {"NVIDIA H100", 2.5}}, &missing), 4 * 0.05 + 2 * 2.5);
  EXPECT_TRUE(missing.empty());
  EXPECT_DOUBLE_EQ(LocalRate(r, "A10", {{"cpu", 0.05}}, &missing), 0.2);
  EXPECT_EQ(missing, std::vector<std::string>{"A10"});
}

}  // namespace
}  // namespace loupe::launch

namespace loupe::launch {
namespace {

TEST(BudgetTest, SpendByDaySplitsASegmentAtMidnight) {
  // 2026-12-02 23:30 to 2026-12-03 01:00 UTC at $2/h: 30 min ($1) on the 2nd, 60 min ($2) on the 3rd.
  const int64_t start = int64_t{1796254200} * 1000000;  // 2026-12-02T23:30:00Z
  std::map<std::string, DaySpend> days;
  AddSpendByDay({1, 1, start, start + int64_t{5400} * 1000000, 2.0, "exit code 0"}, 0, days);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_DOUBLE_EQ(days["2026-12-02"].seconds, 1800);
  EXPECT_DOUBLE_EQ(days["2026-12-02"].cost, 1.0);
  EXPECT_DOUBLE_EQ(days["2026-12-03"].seconds, 3600);
  EXPECT_DOUBLE_EQ(days["2026-12-03"].cost, 2.0);
  // A running segment counts to now.
  AddSpendByDay({1, 2, start + int64_t{7200} * 1000000, 0, 3.6, ""}, start + int64_t{7200 + 100} * 1000000, days);
  EXPECT_DOUBLE_EQ(days["2026-12-03"].cost, 2.1);
}

}  // namespace
}  // namespace loupe::launch
