#include "common/sweep_stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/json_flatten.h"

namespace loupe {
namespace {

TEST(SweepStats, TiesShareTheirAverageRank) {
  EXPECT_EQ(AverageRanks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(AverageRanks({3, 1, 2}), (std::vector<double>{3, 1, 2}));
}

TEST(SweepStats, SpearmanMatchesKnownValues) {
  // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 8 / sqrt(95)
  EXPECT_NEAR(*SpearmanRho({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 8 / std::sqrt(95.0), 1e-12);
  EXPECT_DOUBLE_EQ(*SpearmanRho({1e-4, 1e-3, 1e-2}, {0.9, 0.5, 0.1}), -1.0);  // monotone, whatever the spacing
  EXPECT_FALSE(SpearmanRho({1, 2}, {3, 4}));            // too few
  EXPECT_FALSE(SpearmanRho({1, 1, 1}, {1, 2, 3}));      // a constant parameter
  EXPECT_FALSE(SpearmanRho({1, 2, 3}, {1, 2}));         // unpaired
}

TEST(SweepStats, EtaSquaredIsTheShareOfVarianceBetweenGroups) {
  // Groups a: 1, 3 (mean 2); b: 5, 7 (mean 6); overall mean 4: between 16, total 20.
  EXPECT_DOUBLE_EQ(*EtaSquared({"a", "a", "b", "b"}, {1, 3, 5, 7}), 0.8);
  EXPECT_DOUBLE_EQ(*EtaSquared({"a", "b", "a", "b"}, {1, 1, 3, 3}), 0.0);
  EXPECT_DOUBLE_EQ(*EtaSquared({"a", "b", "c"}, {1, 2, 3}), 1.0);
  EXPECT_FALSE(EtaSquared({"a", "a", "a"}, {1, 2, 3}));  // one group
  EXPECT_FALSE(EtaSquared({"a", "b", "c"}, {2, 2, 2}));  // a constant metric
}

TEST(SweepStats, QuantileBinsHoldEqualCounts) {
  EXPECT_EQ(QuantileBins({5, 1, 3, 2, 4}, 5), (std::vector<std::string>{"4", "0", "2", "1", "3"}));
  std::vector<std::string> bins = QuantileBins({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5);
  EXPECT_EQ(bins, (std::vector<std::string>{"0", "0", "1", "1", "2", "2", "3", "3", "4", "4"}));
}

TEST(JsonFlatten, LeavesUnderDottedKeysInDocumentOrder) {
  auto leaves = FlattenJsonObject(R"({"lr": 1e-3, "opt": {"name": "adam", "betas": [0.9, 0.99], "wd": null},
                                      "deep": {"a": {"b": true}}, "empty": {}, "n": 3})");
  ASSERT_EQ(leaves.size(), 7u);
  EXPECT_EQ(leaves[0].key, "lr");
  EXPECT_EQ(leaves[0].number, 1e-3);
  EXPECT_EQ(leaves[1].key, "opt.name");
  EXPECT_EQ(leaves[1].text, "adam");
  EXPECT_FALSE(leaves[1].number);
  EXPECT_EQ(leaves[2].key, "opt.betas");
  EXPECT_EQ(leaves[2].text, "[0.9,0.99]");
  EXPECT_EQ(leaves[3].text, "null");
  EXPECT_EQ(leaves[4].key, "deep.a.b");
  EXPECT_EQ(leaves[4].text, "true");
  EXPECT_EQ(leaves[5].key, "empty");
  EXPECT_EQ(leaves[5].text, "{}");
  EXPECT_EQ(leaves[6].number, 3.0);
  EXPECT_TRUE(FlattenJsonObject("[1, 2]").empty());
  EXPECT_TRUE(FlattenJsonObject("{not json").empty());
  EXPECT_TRUE(FlattenJsonObject(std::string(100, '[') + std::string(100, ']')).empty());
}

}  // namespace
}  // namespace loupe

namespace loupe {
namespace {

// A grid's levels are groups as they are (numpy on the same values: 0.8624143384290980);
// binning 9 trials into 4 equal-count bins would split a level across two bins.
TEST(SweepStats, NumericEtaSquaredGroupsEqualValues) {
  const std::vector<double> x = {1, 1, 1, 2, 2, 2, 3, 3, 3};
  const std::vector<double> y = {0.70, 0.72, 0.69, 0.80, 0.78, 0.83, 0.81, 0.90, 0.86};
  EXPECT_NEAR(*NumericEtaSquared(x, y), 0.862414338429098, 1e-12);
  EXPECT_FALSE(NumericEtaSquared(x, std::vector<double>(9, 0.5)).has_value());  // nothing to explain
  // Many distinct values: five equal-count bins by rank, as the sweep panel says.
  std::vector<double> xs, ys;
  for (int i = 0; i < 50; ++i) {
    xs.push_back(i);
    ys.push_back(i < 10 ? 1.0 : 0.0);
  }
  EXPECT_NEAR(*NumericEtaSquared(xs, ys), 1.0, 1e-12);  // the first bin is exactly the 1s
  // Six runs, six distinct values: three bins of two (numpy on those groups: 0 and 2/3),
  // not six bins of one, which would explain everything.
  EXPECT_NEAR(*NumericEtaSquared({1, 2, 3, 4, 5, 6}, {0, 1, 0, 1, 1, 0}), 0.0, 1e-12);
  EXPECT_NEAR(*NumericEtaSquared({1, 2, 3, 4, 5, 6}, {0, 0, 1, 0, 1, 1}), 2.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace loupe
