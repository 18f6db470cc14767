// The leaderboard's ranking and a running search's progress, on records built by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "runs/leaderboard.h"
#include "runs/search_progress.h"

namespace loupe::runs {
namespace {

using nlohmann::json;

RunRecord FinishedRun(int64_t id, const std::string& model, double seconds, const json& baseline = nullptr) {
  RunRecord r;
  r.id = id;
  r.name = model + " #" + std::to_string(id);
  r.model = model;
  r.status = WorkStatus::kFinished;
  json result = {{"train_seconds", seconds}};
  if (!baseline.is_null()) result["baseline"] = baseline;
  r.result_json = result.dump();
  return r;
}

TEST(Leaderboard, RanksByValidationTiesShareARankAndTheFasterComesFirst) {
  const json baseline = {{"strategy", "always the majority class \"no\" (200 of 280 train rows)"},
                         {"metrics", {{"validation", {{"Accuracy", 0.7}}}, {"test", {{"Accuracy", 0.72}}}}}};
  std::vector<RunRecord> runs = {FinishedRun(1, "LinearSVM", 0.5, baseline), FinishedRun(2, "XGBoostClassifier", 30),
                                 FinishedRun(3, "LogisticRegression", 0.02), FinishedRun(4, "FastText", 1)};
  runs[3].status = WorkStatus::kStarted;
  std::map<int64_t, std::vector<RunMetric>> metrics;
  metrics[1] = {{"validation", "Accuracy", "LAST", 0, 0.7}, {"test", "Accuracy", "LAST", 0, 0.69}};
  metrics[2] = {{"validation", "Accuracy", "LAST", 0, 0.9}, {"test", "Accuracy", "LAST", 0, 0.88},
                {"validation", "F1", "LAST", 0, 0.99}, {"validation", "Accuracy", "TRIAL", 3, 0.95}};
  metrics[3] = {{"validation", "Accuracy", "LAST", 0, 0.9}, {"test", "Accuracy", "LAST", 0, 0.91}};
  const json board = RankRuns(runs, metrics, "Accuracy");
  EXPECT_EQ(board["metric"], "Accuracy");
  EXPECT_TRUE(board["higher_is_better"]);
  EXPECT_EQ(board["baseline"]["validation"], 0.7);
  EXPECT_EQ(board["baseline"]["test"], 0.72);
  const json& rows = board["rows"];
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["run_id"], 3);  // 0.9 in 0.02 s
  EXPECT_EQ(rows[0]["rank"], 1);
  EXPECT_EQ(rows[1]["run_id"], 2);  // 0.9 in 30 s: the same rank
  EXPECT_EQ(rows[1]["rank"], 1);
  EXPECT_EQ(rows[1]["validation"], 0.9);  // the final value, not a trial's
  EXPECT_EQ(rows[2]["run_id"], 1);
  EXPECT_EQ(rows[2]["rank"], 3);
  EXPECT_EQ(rows[2]["beats_baseline"], false);  // 0.7 is the baseline's 0.7
  EXPECT_EQ(rows[2]["beats_baseline_test"], false);  // 0.69 below the baseline's 0.72
  EXPECT_EQ(rows[0]["beats_baseline_test"], true);
  EXPECT_EQ(rows[0]["beats_baseline"], true);
  EXPECT_EQ(rows[3]["run_id"], 4);  // still training: unranked, last
  EXPECT_TRUE(rows[3]["rank"].is_null());
  EXPECT_TRUE(rows[3]["beats_baseline"].is_null());
  EXPECT_EQ(rows[3]["status"], "STARTED");
}

TEST(Leaderboard, LowerIsBetterForErrors) {
  std::vector<RunRecord> runs = {FinishedRun(1, "LinearSVR", 1), FinishedRun(2, "XGBoostRegressor", 2)};
  std::map<int64_t, std::vector<RunMetric>> metrics;
  metrics[1] = {{"validation", "RMSE", "LAST", 0, 3.5}};
  metrics[2] = {{"validation", "RMSE", "LAST", 0, 2.25}};
  const json board = RankRuns(runs, metrics, "RMSE");
  EXPECT_FALSE(board["higher_is_better"]);
  EXPECT_EQ(board["rows"][0]["run_id"], 2);
  EXPECT_TRUE(board["baseline"].is_null());
}

TEST(SearchProgress, TrialKOfNBestSoFarAndAnEstimateOfWhatIsLeft) {
  RunRecord run;
  run.optimizer = "RandomSearchOptimizer";
  run.optimizer_parameters_json = R"({"n_trials": 10})";
  run.goal_metric = "Accuracy";
  run.start_time = 1'000'000'000;
  std::vector<TrialRecord> trials = {{0, 0, "{}", 0.8, "", "{}", 2.0},
                                     {0, 1, "{}", 0.9, "", "{}", 4.0},
                                     {0, 2, "{}", 0.9, "", "{}", 1.0},
                                     {0, 3, "{}", std::nan(""), "diverged", "{}", 1.0}};
  const json p = SearchProgress(run, trials, true, run.start_time + 9'000'000);
  EXPECT_EQ(p["trials_done"], 4);
  EXPECT_EQ(p["trials_planned"], 10);
  EXPECT_EQ(p["best_trial"], 2);  // 0.9 like trial 1, in a quarter of the time
  EXPECT_EQ(p["best_value"], 0.9);
  EXPECT_DOUBLE_EQ(p["elapsed_s"].get<double>(), 9.0);
  EXPECT_DOUBLE_EQ(p["remaining_s"].get<double>(), 8.0 / 4 * 6);  // mean 2 s x 6 trials left

  run.optimizer = "GridSearchOptimizer";
  run.model = "LinearSVR";
  run.optimizer_parameters_json = R"({"n_trials": 100, "points_per_parameter": 3})";
  run.parameters_json = R"({"C": {"optimize": true}, "tol": 0.01, "epsilon": {"optimize": true}})";
  EXPECT_EQ(SearchProgress(run, {}, true, run.start_time)["trials_planned"], 9);  // the grid is 3 x 3
  // Integer axes lose the points that round alike: depth 1-2 at 6 points is 2 trials.
  run.model = "XGBoostClassifier";
  run.optimizer_parameters_json = R"({"n_trials": 10, "points_per_parameter": 6})";
  run.parameters_json = R"({"max_depth": {"optimize": true, "lower_bound": 1, "upper_bound": 2}})";
  EXPECT_EQ(SearchProgress(run, {}, true, run.start_time)["trials_planned"], 2);

  run.optimizer = "";
  EXPECT_TRUE(SearchProgress(run, trials, true, 0).is_null());
}

}  // namespace
}  // namespace loupe::runs
