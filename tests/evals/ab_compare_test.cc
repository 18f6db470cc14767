// The A/B comparison of two arms on the same cases, against scipy 1.10: binomtest for
// McNemar's discordant pairs, wilcoxon for latency, and Holm's adjustment by hand.
#include <gtest/gtest.h>

#include "evals/ab_compare.h"

namespace loupe::evals {
namespace {

std::vector<PairedCase> Cases() {
  std::vector<PairedCase> cases;
  auto add = [&](int n, bool a, bool b) {
    for (int i = 0; i < n; ++i) {
      PairedCase c;
      c.a_passed = a;
      c.b_passed = b;
      cases.push_back(c);
    }
  };
  add(18, true, true);
  add(2, true, false);
  add(10, false, true);
  add(10, false, false);
  // Latency on the first 12 cases: B - A = 5, -3, 12, 8, -1, 7, 15, 4, 9, -2, 6, 11 ms.
  const double diffs[] = {5, -3, 12, 8, -1, 7, 15, 4, 9, -2, 6, 11};
  for (int i = 0; i < 12; ++i) {
    cases[i].a_latency_ms = 100;
    cases[i].b_latency_ms = 100 + diffs[i];
  }
  PairedCase only_a;  // answered by A alone: counted in A's arm, in no pair
  only_a.a_passed = true;
  cases.push_back(only_a);
  return cases;
}

TEST(CompareArms, PairedTestsHolmAndVerdicts) {
  nlohmann::json out = CompareArms("base", "tuned", Cases(), 2000);
  EXPECT_EQ(out["a"]["n"], 41);
  EXPECT_EQ(out["a"]["passed"], 21);
  EXPECT_EQ(out["b"]["n"], 40);
  EXPECT_EQ(out["b"]["passed"], 28);
  EXPECT_EQ(out["paired_n"], 40);
  const nlohmann::json& pass = out["metrics"][0];
  EXPECT_EQ(pass["metric"], "pass_rate");
  EXPECT_EQ(pass["statistic"]["a_only"], 2);
  EXPECT_EQ(pass["statistic"]["b_only"], 10);
  EXPECT_NEAR(pass["p_value"].get<double>(), 0.03857421875, 1e-12);  // binomtest(2, 12)
  EXPECT_NEAR(pass["difference"].get<double>(), 0.2, 1e-12);
  EXPECT_LT(pass["ci95"][0].get<double>(), 0.2);
  EXPECT_GT(pass["ci95"][1].get<double>(), 0.2);
  const nlohmann::json& latency = out["metrics"][1];
  EXPECT_EQ(latency["metric"], "latency_ms");
  EXPECT_EQ(latency["n"], 12);
  EXPECT_NEAR(latency["statistic"]["w"].get<double>(), 6.0, 1e-12);
  EXPECT_NEAR(latency["p_value"].get<double>(), 0.0068359375, 1e-12);  // wilcoxon(diffs)
  EXPECT_NEAR(latency["difference"].get<double>(), 71.0 / 12, 1e-12);
  // Holm: the smaller p times 2, the larger no lower than that.
  EXPECT_NEAR(latency["p_holm"].get<double>(), 0.013671875, 1e-12);
  EXPECT_NEAR(pass["p_holm"].get<double>(), 0.03857421875, 1e-12);
  EXPECT_EQ(pass["verdict"], "tuned better, significant (p = 0.039)");
  EXPECT_EQ(latency["verdict"], "base better, significant (p = 0.014)");  // tuned is slower
  EXPECT_EQ(out["metrics"].size(), 2u);  // no judge scores: no such metric
}

TEST(CompareArms, AVerdictSaysWhenOnlyTheCorrectionTakesSignificanceAway) {
  // Pass/fail: B alone passed 6 cases (binomtest(0, 6): p = 0.03125); latency: no
  // difference in sign (p = 1). Holm: 0.03125 x 2 = 0.0625.
  std::vector<PairedCase> cases(20);
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].a_passed = i >= 6;
    cases[i].b_passed = true;
    cases[i].a_latency_ms = 100;
    cases[i].b_latency_ms = i % 2 ? 110 : 90;
  }
  nlohmann::json out = CompareArms("base", "tuned", cases, 500);
  const nlohmann::json& pass = out["metrics"][0];
  EXPECT_NEAR(pass["p_value"].get<double>(), 0.03125, 1e-12);
  EXPECT_NEAR(pass["p_holm"].get<double>(), 0.0625, 1e-12);
  EXPECT_EQ(pass["verdict"],
            "no detectable difference with n = 20 after Holm's correction for 2 metrics (p = 0.062; alone 0.031)");
  EXPECT_EQ(out["metrics"][1]["verdict"], "no detectable difference with n = 20");
}

TEST(CompareArms, NoDetectableDifference) {
  std::vector<PairedCase> cases(10);
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].a_passed = i % 2 == 0;
    cases[i].b_passed = i % 2 == 0;
  }
  nlohmann::json out = CompareArms("A", "B", cases, 500);
  EXPECT_EQ(out["metrics"][0]["p_value"], 1.0);
  EXPECT_EQ(out["metrics"][0]["verdict"], "no detectable difference with n = 10");
  EXPECT_TRUE(CompareArms("A", "B", {}, 100)["metrics"].empty());
}


// People's judgments of two models on 12 prompts: B preferred in 8, A in 2, 2 ties; the
// overall ratings of 10 rows. Expected values from scipy 1.10: binomtest(8, 10) and
// wilcoxon(d) (zeros dropped, normal approximation with the tie correction).
TEST(CompareRatings, PreferenceBySignTestAndRatingsByWilcoxonHolmAdjusted) {
  std::vector<PairedRating> rows(12);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].preference = i < 8 ? 1 : i < 10 ? -1 : 0;
  const std::vector<double> a = {3, 3, 2, 4, 3, 2, 3, 3, 2, 3}, b = {4, 5, 3, 4, 4, 3, 5, 4, 3, 4};
  for (size_t i = 0; i < a.size(); ++i) {
    rows[i].a["overall"] = a[i];
    rows[i].b["overall"] = b[i];
  }
  rows[11].a["clarity"] = 3;  // rated on one side only: no pair
  rows.push_back({});          // undecided, unrated
  nlohmann::json out = CompareRatings("base", "tuned", rows, {"clarity", "overall"}, 500);
  EXPECT_EQ(out["a"]["wins"], 2);
  EXPECT_EQ(out["b"]["wins"], 8);
  EXPECT_EQ(out["ties"], 2);
  EXPECT_EQ(out["decided_n"], 12);
  ASSERT_EQ(out["metrics"].size(), 2u);  // no clarity pairs
  const nlohmann::json& pref = out["metrics"][0];
  EXPECT_EQ(pref["metric"], "preference");
  EXPECT_EQ(pref["n"], 12);
  EXPECT_NEAR(pref["a_mean"].get<double>(), 2.0 / 12, 1e-12);
  EXPECT_NEAR(pref["b_mean"].get<double>(), 8.0 / 12, 1e-12);
  EXPECT_NEAR(pref["difference"].get<double>(), 6.0 / 12, 1e-12);
  EXPECT_NEAR(pref["p_value"].get<double>(), 0.109375, 1e-12);
  const nlohmann::json& overall = out["metrics"][1];
  EXPECT_EQ(overall["metric"], "overall");
  EXPECT_EQ(overall["n"], 10);
  EXPECT_NEAR(overall["difference"].get<double>(), 1.1, 1e-12);
  EXPECT_NEAR(overall["p_value"].get<double>(), 0.004957885081270752, 1e-9);
  // Holm over the two: 2 x 0.00496 for the smaller; the larger keeps its own.
  EXPECT_NEAR(overall["p_holm"].get<double>(), 2 * 0.004957885081270752, 1e-9);
  EXPECT_NEAR(pref["p_holm"].get<double>(), 0.109375, 1e-12);
  EXPECT_EQ(pref["verdict"], "no detectable difference with n = 12");
  EXPECT_EQ(overall["verdict"].get<std::string>().rfind("tuned better, significant", 0), 0u) << overall["verdict"];
}

}  // namespace
}  // namespace loupe::evals
