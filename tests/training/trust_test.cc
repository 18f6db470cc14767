// What makes a no-code result trustworthy: the baseline every run is compared with
// (values worked by hand, as scikit-learn's DummyClassifier(strategy="prior") and
// DummyRegressor give them), the wizard's guess that leaves ids out, and the
// best-trial rule that breaks ties by time.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <nlohmann/json.hpp>

#include "datasets/column_types.h"
#include "datasets/table_parser.h"
#include "training/baseline.h"
#include "training/evaluation.h"
#include "training/search.h"
#include "training/table_from_csv.h"
#include "training/session_guess.h"

namespace loupe::training {
namespace {

using nlohmann::json;

TEST(Baseline, MajorityClassWithTrainFrequencies) {
  Examples none;
  const std::vector<int> train{0, 0, 1, 0, 2};
  Baseline b = FitBaseline(TaskKind::kTabularClassification, 3, {"a", "b", "c"}, {&none, &train, nullptr});
  EXPECT_EQ(b.majority_class, 0);
  EXPECT_EQ(b.priors, (std::vector<double>{0.6, 0.2, 0.2}));
  EXPECT_EQ(b.description, "always the majority class \"a\" (3 of 5 train rows)");
  const std::vector<int> test{0, 1, 1, 2};
  Examples x;
  x.rows = 4;
  SplitEvaluation ev = Evaluate(TaskKind::kTabularClassification, 3, PredictBaseline(b, TaskKind::kTabularClassification, 4),
                                {&x, &test, nullptr}, {"Accuracy", "F1", "LogLoss"});
  EXPECT_DOUBLE_EQ(ev.values["Accuracy"], 0.25);
  EXPECT_NEAR(ev.values["F1"], 0.4 / 3, 1e-12);  // class a: precision 1/4, recall 1
  EXPECT_NEAR(ev.values["LogLoss"], -(std::log(0.6) + 3 * std::log(0.2)) / 4, 1e-12);
}

TEST(Baseline, ConstantScoresGiveRocAucOneHalfAndTiesGoToTheFirstClass) {
  Examples none;
  const std::vector<int> train{1, 0, 1, 0};
  Baseline b = FitBaseline(TaskKind::kTabularClassification, 2, {"no", "yes"}, {&none, &train, nullptr});
  EXPECT_EQ(b.majority_class, 0);
  const std::vector<int> test{0, 1, 1, 0, 1};
  Examples x;
  x.rows = 5;
  SplitEvaluation ev = Evaluate(TaskKind::kTabularClassification, 2, PredictBaseline(b, TaskKind::kTabularClassification, 5),
                                {&x, &test, nullptr}, {"Accuracy", "ROCAUC"});
  EXPECT_DOUBLE_EQ(ev.values["Accuracy"], 0.4);
  EXPECT_DOUBLE_EQ(ev.values["ROCAUC"], 0.5);
}

TEST(Baseline, MeanOfTheTrainTargets) {
  Examples none;
  const std::vector<double> train{1, 2, 3, 6};
  Baseline b = FitBaseline(TaskKind::kRegression, 0, {}, {&none, nullptr, &train});
  EXPECT_EQ(b.mean, 3);
  EXPECT_EQ(b.description, "always the mean of the train targets (3)");
  const std::vector<double> test{2, 4};
  Examples x;
  x.rows = 2;
  SplitEvaluation ev = Evaluate(TaskKind::kRegression, 0, PredictBaseline(b, TaskKind::kRegression, 2), {&x, nullptr, &test},
                                {"RMSE", "MAE", "R2"});
  EXPECT_DOUBLE_EQ(ev.values["RMSE"], 1);
  EXPECT_DOUBLE_EQ(ev.values["MAE"], 1);
  EXPECT_DOUBLE_EQ(ev.values["R2"], 0);
}

TEST(Baseline, BeatingMeansStrictlyBetterInTheMetricsDirection) {
  EXPECT_FALSE(BeatsBaseline("Accuracy", 0.7167, 0.7167));  // the majority class, exactly
  EXPECT_TRUE(BeatsBaseline("Accuracy", 0.72, 0.7167));
  EXPECT_FALSE(BeatsBaseline("Accuracy", 0.70, 0.7167));
  EXPECT_TRUE(BeatsBaseline("RMSE", 0.9, 1.0));
  EXPECT_FALSE(BeatsBaseline("LogLoss", 0.7, 0.6));
  EXPECT_FALSE(BeatsBaseline("Accuracy", std::nan(""), 0.5));
  EXPECT_FALSE(BeatsBaseline("R2", 1e-17, 0.0));  // rounding, not learning
}

// The customers CSV: an id, mixed types, missing cells and a yes/no target.
std::string CustomersCsv() {
  std::string csv = "customer_id,age,city,plan,monthly_spend,notes,churn\n";
  const char* cities[] = {"Lisbon", "Porto", "Braga", "Faro"};
  const char* plans[] = {"basic", "plus", "pro"};
  for (int i = 0; i < 400; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "C%04d", i + 1);
    csv += std::string(id) + "," + (i % 37 == 0 ? "" : std::to_string(20 + i % 50)) + "," + cities[i % 4] + "," +
           plans[i % 3] + "," + std::to_string(10 + (i * 7) % 90) + ".5,ok," + (i % 7 < 2 ? "yes" : "no") + "\n";
  }
  return csv;
}

TEST(SessionGuess, LeavesTheIdOutAndPrefersTheTabularTask) {
  const json g = GuessSession(TableFromCsv(CustomersCsv()));
  EXPECT_EQ(g["task"], "TabularClassification");
  EXPECT_EQ(g["output"], "churn");
  EXPECT_EQ(g["inputs"], json::array({"age", "city", "plan", "monthly_spend"}));
  ASSERT_EQ(g["left_out"].size(), 2u);
  EXPECT_EQ(g["left_out"][0]["column"], "customer_id");
  EXPECT_EQ(g["left_out"][0]["reason"], "an id (400 of 400 values distinct)");
  EXPECT_EQ(g["left_out"][1]["column"], "notes");
  EXPECT_EQ(g["left_out"][1]["reason"], "the same value in every row");
  // 2 of every 7 rows churn: 400 = 57 * 7 + 1, so 57 * 2 + 1 = 115 "yes" (row 399 is i % 7 = 0).
  ASSERT_EQ(g["class_balance"].size(), 2u);
  EXPECT_EQ(g["class_balance"][0]["class"], "no");
  EXPECT_EQ(g["class_balance"][0]["count"], 285);
  EXPECT_EQ(g["class_balance"][1]["class"], "yes");
  EXPECT_EQ(g["class_balance"][1]["count"], 115);
  EXPECT_DOUBLE_EQ(g["class_balance"][0]["share"].get<double>(), 285.0 / 400);
}

TEST(SessionGuess, FreeTextIsATextTaskAndManyNumbersARegression) {
  std::string spam = "text,label\n";
  for (int i = 0; i < 30; ++i) spam += "\"message number " + std::to_string(i) + " about offers\"," + (i % 2 ? "spam" : "ham") + "\n";
  json g = GuessSession(TableFromCsv(spam));
  EXPECT_EQ(g["task"], "TextClassification");
  EXPECT_EQ(g["output"], "label");
  EXPECT_EQ(g["inputs"], json::array({"text"}));

  std::string houses = "rooms,area,price\n";
  for (int i = 0; i < 40; ++i) houses += std::to_string(1 + i % 5) + "," + std::to_string(50 + i) + "," + std::to_string(1000 + 37 * i) + "\n";
  g = GuessSession(TableFromCsv(houses));
  EXPECT_EQ(g["task"], "Regression");
  EXPECT_EQ(g["output"], "price");
  EXPECT_EQ(g["inputs"], json::array({"rooms", "area"}));
  EXPECT_TRUE(g["class_balance"].empty());
}

TEST(SessionGuess, IdsByNameOrShapeButNotMeasurementsOrSentences) {
  auto profile = [](const std::string& csv) { return ProfileColumn(TableFromCsv(csv).columns[0]); };
  std::string ints = "PassengerId\n", floats = "alcohol\n", words = "review\n", emails = "email\n";
  for (int i = 0; i < 20; ++i) {
    ints += std::to_string(i + 1) + "\n";
    floats += std::to_string(11.03 + i * 0.17) + "\n";
    words += "\"a review with words " + std::to_string(i) + "\"\n";
    emails += "user" + std::to_string(i) + "@example.org\n";
  }
  EXPECT_TRUE(profile(ints).id_like);
  EXPECT_FALSE(profile(floats).id_like);  // all distinct, but a measurement
  EXPECT_FALSE(profile(words).id_like);   // all distinct, but sentences
  EXPECT_TRUE(profile(emails).id_like);
  EXPECT_FALSE(profile("acid_id\n1\n2\n").id_like);  // too few rows to tell
}

TEST(Search, TiesGoToAClearlyFasterTrialElseTheEarlier) {
  EXPECT_TRUE(TrialIsBetter(true, 0.9, 30.0, std::nan(""), INFINITY));
  EXPECT_TRUE(TrialIsBetter(true, 0.95, 30.0, 0.9, 0.02));
  EXPECT_TRUE(TrialIsBetter(true, 0.9, 0.02, 0.9, 30.0));  // the 0.02 s model that scores what the 30 s one does
  EXPECT_FALSE(TrialIsBetter(true, 0.9, 30.0, 0.9, 0.02));
  EXPECT_FALSE(TrialIsBetter(false, 0.5, 0.01, 0.4, 9.0));
  // Milliseconds apart is timing noise: the earlier trial stays, run after run.
  EXPECT_FALSE(TrialIsBetter(true, 0.8333, 0.00004, 0.8333, 0.00022));
  EXPECT_FALSE(TrialIsBetter(true, 0.8333, 0.95, 0.8333, 1.0));  // 5% faster is not clearly faster
  // RunSearch picks by the same rule: equal scores, the second trial 120 ms faster.
  std::vector<SearchDimension> space = {{"x", 0, 1, false, false}};
  int calls = 0;
  auto objective = [&](const json&, json&) -> Result<double> {
    if (calls++ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(120));
    return 1.0;
  };
  SearchOptions o;
  o.trials = 3;
  auto r = RunSearch(space, json::object(), o, true, objective, {}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->best, 1);  // faster than trial 0; trial 2 ties trial 1 within noise
  EXPECT_STREQ(kBestTrialRule,
               "the best goal value; among equal values, the clearly faster trial (by 20% and 50 ms), else the earlier one");
}

}  // namespace
}  // namespace loupe::training
