// Regression suites: the schedule's arithmetic, lineage, the diff against a baseline, the
// store's marks moved in the run's own transaction (so a restart never runs a version
// twice), the score a run's cells give, and where the tracking chart puts its points.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "evals/suite_service.h"
#include "store/store.h"
#include "ui/suite_chart.h"

namespace loupe {
namespace {

using evals::DiffSuiteRuns;
using evals::InLineage;
using evals::NextScheduledRun;
using evals::SuiteCase;
using nlohmann::json;

TEST(SuiteSchedule, FirstRunAtOnceThenEveryInterval) {
  EXPECT_EQ(NextScheduledRun(0, 0), 0);
  EXPECT_EQ(NextScheduledRun(0, 60), 1);  // never ran: due at once
  EXPECT_EQ(NextScheduledRun(1'000'000, 60), 1'000'000 + int64_t{60} * 60'000'000);
  EXPECT_EQ(NextScheduledRun(5, 5), 5 + int64_t{5} * 60'000'000);
}

LlmModel Model(int64_t id, std::optional<int64_t> base) {
  LlmModel m;
  m.id = id;
  m.base_model_id = base;
  return m;
}

TEST(SuiteLineage, FollowsBaseLinksAndStopsOnCycles) {
  std::vector<LlmModel> models = {Model(1, std::nullopt), Model(2, 1), Model(3, 2), Model(4, std::nullopt),
                                  Model(5, 6), Model(6, 5)};
  EXPECT_TRUE(InLineage(1, 1, models));
  EXPECT_TRUE(InLineage(2, 1, models));
  EXPECT_TRUE(InLineage(3, 1, models));  // a fine-tune of a fine-tune
  EXPECT_FALSE(InLineage(4, 1, models));
  EXPECT_FALSE(InLineage(1, 2, models));  // the base is not its own descendant's version
  EXPECT_FALSE(InLineage(5, 1, models));  // a cycle ends
  EXPECT_FALSE(InLineage(99, 1, models));
}

SuiteCase Case(const std::string& key, int64_t position, bool passed, bool answered = true) {
  SuiteCase c;
  c.key = key;
  c.position = position;
  c.prompt = "prompt " + key;
  c.answered = answered;
  c.passed = passed;
  c.why = passed ? "" : "contains: 'x' not found";
  return c;
}

TEST(SuiteDiff, NewlyFailingAndPassingAgainstTheBaseline) {
  std::vector<SuiteCase> before = {Case("a", 0, true), Case("b", 1, true), Case("c", 2, false), Case("d", 3, false)};
  std::vector<SuiteCase> now = {Case("a", 0, true), Case("b", 1, false), Case("c", 2, true), Case("d", 3, false),
                                Case("e", 4, false), Case("f", 5, true), Case("g", 6, false, false)};
  json d = DiffSuiteRuns(now, &before);
  EXPECT_EQ(d["newly_failing_count"], 1);
  EXPECT_EQ(d["newly_failing"][0]["case"], 2);  // 1-based
  EXPECT_EQ(d["newly_failing"][0]["prompt"], "prompt b");
  EXPECT_EQ(d["newly_failing"][0]["why"], "contains: 'x' not found");
  EXPECT_EQ(d["newly_passing_count"], 1);
  EXPECT_EQ(d["newly_passing"][0]["case"], 3);
  EXPECT_EQ(d["still_failing_count"], 1);
  EXPECT_EQ(d["still_failing"][0]["case"], 4);
  EXPECT_EQ(d["new_cases_count"], 2);  // e and f; g is not decided yet
  EXPECT_EQ(d["failing_new_cases_count"], 1);
  EXPECT_EQ(d["failing_new_cases"][0]["case"], 5);
}

TEST(SuiteDiff, WithoutABaselineEveryFailureIsNew) {
  std::vector<SuiteCase> now = {Case("a", 0, true), Case("b", 1, false)};
  json d = DiffSuiteRuns(now, nullptr);
  EXPECT_EQ(d["newly_failing_count"], 0);
  EXPECT_EQ(d["failing_new_cases_count"], 1);
  EXPECT_EQ(d["new_cases_count"], 2);
}

TEST(SuiteChart, PointsLandOnTheirScores) {
  ChartBox b;  // 720 x 280, plot from y 16 (100%) to y 200 (0%), x 52 to 700
  EXPECT_DOUBLE_EQ(ChartY(1.0, b), 16);
  EXPECT_DOUBLE_EQ(ChartY(0.0, b), 200);
  EXPECT_DOUBLE_EQ(ChartY(0.5, b), 108);
  EXPECT_DOUBLE_EQ(ChartX(0, 3, b), 52);
  EXPECT_DOUBLE_EQ(ChartX(2, 3, b), 700);
  EXPECT_DOUBLE_EQ(ChartX(0, 1, b), 376);  // one version: the middle
  json history = {{"suite", {{"threshold", 0.9}}},
                  {"versions", json::array({{{"model_name", "base"}, {"score", 0.5}, {"passed", 10}, {"cases", 20}},
                                            {{"model_name", "v2 <b>"}, {"score", nullptr}},
                                            {{"model_name", "v3"}, {"score", 1.0}, {"passed", 20}, {"cases", 20}}})}};
  const std::string svg = SuiteTrackingSvg(history, b);
  EXPECT_NE(svg.find("points=\"52.0,108.0 700.0,16.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>base: 50% (10 of 20 cases)</title>"), std::string::npos);
  EXPECT_NE(svg.find("class=\"point missed\""), std::string::npos);  // 50% under 90%
  EXPECT_NE(svg.find("class=\"point met\""), std::string::npos);
  EXPECT_NE(svg.find("v2 &lt;b&gt; (no run)"), std::string::npos);  // names escaped
  // The threshold line at 90%: y = 16 + 0.1 * 184 = 34.4.
  EXPECT_NE(svg.find("y1=\"34.4\" y2=\"34.4\"><title>threshold 90%"), std::string::npos);
  for (const char* tick : {">0%<", ">25%<", ">50%<", ">75%<", ">100%<"}) EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  json none = {{"suite", {{"threshold", 0.9}}}, {"versions", json::array({{{"model_name", "a"}, {"score", nullptr}}})}};
  EXPECT_EQ(SuiteTrackingSvg(none, b), "");
}

class SuiteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    base_ = AddModel("base", std::nullopt);
  }
  int64_t AddModel(const std::string& name, std::optional<int64_t> base) {
    LlmModel m;
    m.name = name;
    m.api = "openai";
    m.base_url = "http://h/v1";
    m.model = name;
    m.base_model_id = base;
    return store_->CreateLlmModel(m, 100)->id;
  }
  EvalSuite Suite(const std::string& name) {
    EvalSuite s;
    s.name = name;
    s.base_model_id = base_;
    s.threshold = 0.5;
    s.test_set_json = R"({"cases":[{"prompt":"a"}]})";
    s.create_time = s.update_time = 1;
    return *store_->CreateSuite(s);
  }
  Result<BatchRun> RunOf(const EvalSuite& s, int64_t model, const std::string& reason, int cases = 2) {
    BatchRun r;
    r.title = "t";
    r.model_ids = {model};
    r.model_names = {"m"};
    r.create_time = 777;
    r.suite_id = s.id;
    r.reason = reason;
    std::vector<BatchCase> cs;
    for (int i = 0; i < cases; ++i) {
      BatchCase c;
      c.position = i;
      c.messages_json = json::array({{{"role", "user"}, {"content", "q" + std::to_string(i)}}}).dump();
      cs.push_back(c);
    }
    return store_->CreateBatchRun(r, cs);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t base_ = 0;
};

TEST_F(SuiteStoreTest, ExistingModelsAreNotNewVersions) {
  const int64_t older = AddModel("older", base_);
  EvalSuite s = Suite("s");
  EXPECT_EQ(s.model_watermark, older);
  EXPECT_EQ(store_->CreateSuite(s).status().code(), Code::kConflict);
  EvalSuite bad = s;
  bad.name = "other";
  bad.base_model_id = 999;
  EXPECT_EQ(store_->CreateSuite(bad).status().code(), Code::kNotFound);
}

TEST_F(SuiteStoreTest, ARunMovesTheSuitesMarksInItsTransaction) {
  EvalSuite s = Suite("s");
  const int64_t v2 = AddModel("v2", base_);
  ASSERT_TRUE(RunOf(s, v2, "new_version").ok());
  EXPECT_EQ(store_->GetSuite(s.id)->model_watermark, v2);
  EXPECT_EQ(store_->GetSuite(s.id)->last_scheduled, 0);
  ASSERT_TRUE(RunOf(s, v2, "schedule").ok());
  EXPECT_EQ(store_->GetSuite(s.id)->last_scheduled, 777);
  ASSERT_TRUE(RunOf(s, base_, "manual").ok());
  EXPECT_EQ(store_->GetSuite(s.id)->model_watermark, v2);  // an older model never lowers it
  ASSERT_TRUE(store_->AdvanceSuiteWatermark(s.id, v2 + 5).ok());
  ASSERT_TRUE(store_->AdvanceSuiteWatermark(s.id, 1).ok());
  EXPECT_EQ(store_->GetSuite(s.id)->model_watermark, v2 + 5);
  std::vector<BatchRun> runs = *store_->ListSuiteRuns(s.id, 10);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].reason, "manual");  // newest first
  EXPECT_EQ(runs[2].reason, "new_version");
  EXPECT_EQ(runs[2].suite_id, s.id);
  // A run of a suite that is gone is refused, with nothing written.
  EvalSuite gone = s;
  gone.id = 999;
  EXPECT_EQ(RunOf(gone, v2, "manual").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListBatchRuns(100, 0)->size(), 3u);
}

TEST_F(SuiteStoreTest, ANewBaseStartsFromTheModelsThatExistThen) {
  EvalSuite s = Suite("s");
  s.base_model_id.reset();
  ASSERT_TRUE(store_->UpdateSuite(s).ok());
  const int64_t v2 = AddModel("v2", base_);
  const int64_t v3 = AddModel("v3", base_);
  EXPECT_LT(store_->GetSuite(s.id)->model_watermark, v2);
  s.base_model_id = base_;
  ASSERT_TRUE(store_->UpdateSuite(s).ok());
  EXPECT_EQ(store_->GetSuite(s.id)->model_watermark, v3);
  // The same base again leaves the watermark where it is.
  ASSERT_TRUE(store_->AdvanceSuiteWatermark(s.id, v3 + 10, "why").ok());
  ASSERT_TRUE(store_->UpdateSuite(s).ok());
  EXPECT_EQ(store_->GetSuite(s.id)->model_watermark, v3 + 10);
  EXPECT_EQ(store_->GetSuite(s.id)->last_error, "why");
  // Lists leave the test set out; the counts stay.
  std::vector<EvalSuite> all = *store_->ListSuites();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].test_set_json, "");
  EXPECT_FALSE(store_->GetSuite(s.id)->test_set_json.empty());
  // A run that starts by itself clears the error; finished runs are listed with their model.
  BatchRun run = *RunOf(s, v2, "new_version", 0);
  EXPECT_EQ(store_->GetSuite(s.id)->last_error, "");
  EXPECT_EQ(store_->FinishedSuiteRuns(s.id, 10)->size(), 0u);  // not done yet
  ASSERT_TRUE(store_->SetBatchRunStatus(run.id, "cancelled", 1).ok());
  ASSERT_TRUE(store_->SetBatchRunStatus(run.id, "running", 2).ok());  // nothing left: done
  std::vector<std::pair<int64_t, int64_t>> done = *store_->FinishedSuiteRuns(s.id, 10);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], std::make_pair(run.id, v2));
}

TEST_F(SuiteStoreTest, DeletingASuiteKeepsItsRunsAsBatchRuns) {
  EvalSuite s = Suite("s");
  BatchRun run = *RunOf(s, base_, "manual");
  ASSERT_TRUE(store_->DeleteSuite(s.id).ok());
  EXPECT_EQ(store_->DeleteSuite(s.id).code(), Code::kNotFound);
  BatchRun kept = *store_->GetBatchRun(run.id);
  EXPECT_FALSE(kept.suite_id.has_value());
  EXPECT_EQ(kept.cases, 2);
}

TEST_F(SuiteStoreTest, AJudgedCasePassesOnlyWhenTheJudgePassesIt) {
  EvalSuite s = Suite("s");
  BatchRun run = *RunOf(s, base_, "manual", 3);
  std::vector<PendingBatchCell> cells = *store_->PendingBatchCells(run.id, 10);
  ASSERT_EQ(cells.size(), 3u);
  std::vector<BatchWrite> writes;
  for (size_t i = 0; i < cells.size(); ++i) {
    BatchWrite w;
    w.cell_id = cells[i].cell_id;
    w.p.time = 1;
    w.p.model_id = base_;
    w.p.model_name = "base";
    w.p.api = "openai";
    w.p.messages_json = cells[i].c.messages_json;
    w.p.response = "answer";
    w.p.outcome = "ok";
    w.p.source = "batch";
    w.passed = true;
    w.judge = i < 2;  // the first two wait for the judge
    writes.push_back(w);
  }
  ASSERT_TRUE(store_->RecordBatchResults(writes, 5).ok());
  EXPECT_EQ(store_->GetBatchRun(run.id)->fully_passed, 1);  // judged cells count once judged
  ASSERT_TRUE(store_->RecordBatchJudge(cells[0].cell_id, "{}", 8.0, true, 6).ok());
  ASSERT_TRUE(store_->RecordBatchJudge(cells[1].cell_id, "{}", 4.0, false, 6).ok());
  BatchRun done = *store_->GetBatchRun(run.id);
  EXPECT_EQ(done.status, "done");
  EXPECT_EQ(done.passed, 3);        // the checks alone
  EXPECT_EQ(done.fully_passed, 2);  // checks and judge
  ASSERT_TRUE(done.judge_mean.has_value());
  EXPECT_DOUBLE_EQ(*done.judge_mean, 6.0);
}

}  // namespace
}  // namespace loupe
