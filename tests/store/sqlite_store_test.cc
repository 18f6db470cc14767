#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "common/temp_dir.h"
#include "common/test_store.h"
#include "common/time_util.h"
#include "store/series_layout.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace loupe {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    StoreOptions o;
    o.data_dir = dir_.path();
    o.sync_full = false;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  int64_t NewRun(const std::string& run_id = "") { return NewTestRun(*store_, run_id); }
  Result<WriteAck> Log(int64_t id, std::vector<MetricPoint> pts, int64_t seq = -1) {
    MetricBatch b;
    b.experiment_id = id;
    b.from.seq = seq;
    b.ts = NowMicros();
    b.points = std::move(pts);
    return store_->WriteMetrics(b);
  }
  SeriesResult Query(int64_t id, const std::string& key, SeriesQuery q = {}) {
    auto s = store_->GetSeries(id, key);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    auto r = store_->QuerySeries(s->id, q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreatesProjectAndExperimentThenResumesByRunId) {
  NewExperiment e;
  e.project = "vision";
  e.run_id = "run-a";
  e.config_json = R"({"lr":0.1})";
  auto first = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->resumed);
  EXPECT_EQ(first->experiment.name, "run-a");
  ASSERT_TRUE(store_->SetStatus(first->experiment.id, RunStatus::kFinished).ok());
  e.config_json = R"({"batch":32})";
  auto again = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->resumed);
  EXPECT_EQ(again->experiment.id, first->experiment.id);
  EXPECT_EQ(again->experiment.status, RunStatus::kRunning);
  EXPECT_EQ(again->experiment.config_json, R"({"lr":0.1,"batch":32})");  // keys in the order first logged
}

// Pages over many runs read them without their system metadata and pip freeze.
TEST_F(StoreTest, BriefListsLeaveOutSystemAndRequirementsOnly) {
  NewExperiment e;
  e.project = "brief";
  e.run_id = "r";
  e.config_json = R"({"lr":0.1})";
  e.tags = {"a"};
  auto made = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(made.ok());
  ASSERT_TRUE(store_->SetSystem(made->experiment.id, R"({"gpu":"H200"})", "torch==2.1\nnumpy==1.26").ok());
  auto full = store_->ListExperiments(made->experiment.project_id);
  auto brief = store_->ListExperimentsBrief(made->experiment.project_id);
  ASSERT_TRUE(full.ok() && brief.ok());
  ASSERT_EQ(full->size(), 1u);
  ASSERT_EQ(brief->size(), 1u);
  EXPECT_EQ((*full)[0].requirements, "torch==2.1\nnumpy==1.26");
  EXPECT_EQ((*brief)[0].system_json, "{}");
  EXPECT_EQ((*brief)[0].requirements, "");
  Experiment a = (*full)[0], b = (*brief)[0];
  EXPECT_EQ(a.config_json, b.config_json);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.create_time, b.create_time);
  EXPECT_EQ(a.last_seen, b.last_seen);
}

// A project's last values leave out other projects' runs, also those whose ids lie
// between its own.
TEST_F(StoreTest, LastValuesAreTheProjectsOwnAmongInterleavedRuns) {
  std::vector<int64_t> mine, theirs;
  for (int i = 0; i < 6; ++i) {
    NewExperiment e;
    e.project = i % 2 ? "theirs" : "mine";
    e.run_id = "r" + std::to_string(i);
    auto made = store_->CreateOrResumeExperiment(e);
    ASSERT_TRUE(made.ok());
    (i % 2 ? theirs : mine).push_back(made->experiment.id);
    ASSERT_TRUE(Log(made->experiment.id, {{"loss", 0, double(i)}}).ok());
  }
  auto project = store_->GetExperiment(mine[0]);
  ASSERT_TRUE(project.ok());
  auto values = store_->LastValues(project->project_id, "loss");
  ASSERT_TRUE(values.ok());
  std::vector<std::pair<int64_t, double>> want = {{mine[0], 0.0}, {mine[1], 2.0}, {mine[2], 4.0}};
  std::sort(values->begin(), values->end());
  EXPECT_EQ(*values, want);
  EXPECT_TRUE(store_->LastValues(project->project_id, "nope")->empty());
}

// A traceback belongs to the attempt that crashed: resuming the run clears it.
TEST_F(StoreTest, ResumingACrashedRunClearsItsError) {
  NewExperiment e;
  e.project = "p";
  e.run_id = "r";
  auto first = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_->FinishFromClient(first->experiment.id, RunStatus::kCrashed, "", 0, "Traceback: boom").ok());
  EXPECT_EQ(store_->GetExperiment(first->experiment.id)->error, "Traceback: boom");
  auto again = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->resumed);
  EXPECT_EQ(again->experiment.error, "");
}

// Config keys keep the order they were first logged in, in one pass however many there
// are (an ordered map with linear lookups took 17 s to merge 40,000 keys).
TEST_F(StoreTest, ConfigKeysKeepTheirOrderAtAnySize) {
  std::string config = "{";
  for (int i = 0; i < 50000; ++i) config += (i ? ",\"k" : "\"k") + std::to_string(49999 - i) + "\":" + std::to_string(i);
  config += "}";
  NewExperiment e;
  e.project = "p";
  e.config_json = config;
  auto created = store_->CreateOrResumeExperiment(e);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(store_->MergeConfig(created->experiment.id, R"({"k0":"last","new":true,"k49999":-1})").ok());
  std::string stored = store_->GetExperiment(created->experiment.id)->config_json;
  EXPECT_EQ(stored.substr(0, 18), R"({"k49999":-1,"k499)");
  const std::string tail = R"(,"k1":49998,"k0":"last","new":true})";
  EXPECT_EQ(stored.substr(stored.size() - tail.size()), tail);
}

TEST_F(StoreTest, GeneratedRunIdsAreUnique) {
  auto a = store_->GetExperiment(NewRun());
  auto b = store_->GetExperiment(NewRun());
  EXPECT_NE(a->run_id, b->run_id);
  EXPECT_EQ(a->run_id.rfind("run-", 0), 0u);
}

TEST_F(StoreTest, MetricsCreateSeriesChartsAndNamespaces) {
  int64_t id = NewRun();
  ASSERT_TRUE(Log(id, {{"train/loss", 0, 1.0}, {"train/acc", 0, 0.5}, {"lr", 0, 0.1}}).ok());
  auto charts = store_->ListCharts(id);
  ASSERT_EQ(charts->size(), 3u);
  auto spaces = store_->ListNamespaces(id);
  ASSERT_EQ(spaces->size(), 2u);
  EXPECT_EQ((*spaces)[0].name, "train");
  EXPECT_EQ((*spaces)[1].name, "default");
  EXPECT_EQ((*charts)[0].namespace_id, (*spaces)[0].id);
}

TEST_F(StoreTest, OverwritingAStepReplacesItsValueAndCountsOnce) {
  int64_t id = NewRun();
  ASSERT_TRUE(Log(id, {{"m", 0, 1.0}, {"m", 1, 100.0}, {"m", 2, 3.0}}).ok());
  ASSERT_TRUE(Log(id, {{"m", 1, 2.0}}).ok());
  auto r = Query(id, "m");
  ASSERT_EQ(r.count, 3);
  EXPECT_EQ(r.points[1].value, 2.0);
  EXPECT_EQ(r.max, 3.0);  // the overwritten 100 is gone from the summaries too
}

TEST_F(StoreTest, OutOfOrderStepsAreStoredInOrder) {
  int64_t id = NewRun();
  ASSERT_TRUE(Log(id, {{"m", 10, 10.0}}).ok());
  ASSERT_TRUE(Log(id, {{"m", 5, 5.0}, {"m", 7, 7.0}}).ok());
  auto r = Query(id, "m");
  ASSERT_EQ(r.count, 3);
  EXPECT_EQ(r.points[0].step, 5);
  EXPECT_EQ(r.points[2].step, 10);
  auto s = store_->GetSeries(id, "m");
  EXPECT_EQ(s->first_step, 5);
  EXPECT_EQ(s->last_step, 10);
  EXPECT_EQ(s->last_value, 10.0);
}

TEST_F(StoreTest, SmallAppendsAreCompactedPerWindow) {
  int64_t id = NewRun();
  // 10 steps a write: ~410 writes per 4096-step window, far past the 64-chunk cap.
  const int64_t steps = 2 * (int64_t{1} << kWindowShift) + 500;
  for (int64_t s0 = 0; s0 < steps; s0 += 10) {
    std::vector<MetricPoint> pts;
    for (int64_t s = s0; s < s0 + 10 && s < steps; ++s) pts.push_back({"m", s, static_cast<double>(s)});
    ASSERT_TRUE(Log(id, pts).ok());
  }
  auto db = SqliteDb::Open(dir_.path() + "/loupe.db", true, false);
  ASSERT_TRUE(db.ok());
  SqliteStmt& q = (*db)->Prepare("SELECT win, count(*) FROM chunks GROUP BY win ORDER BY win");
  std::vector<std::pair<int64_t, int64_t>> per_window;
  while (q.Step()) per_window.push_back({q.Int(0), q.Int(1)});
  ASSERT_TRUE(q.Done().ok());
  ASSERT_EQ(per_window.size(), 3u);
  EXPECT_EQ(per_window[0].second, 1);  // closed windows hold one chunk
  EXPECT_EQ(per_window[1].second, 1);
  EXPECT_LT(per_window[2].second, kMaxChunksPerWindow);  // the open window stays under the cap
  auto r = Query(id, "m", {0, steps, 100000});
  ASSERT_EQ(r.count, steps);
  for (int64_t s = 0; s < steps; ++s) ASSERT_EQ(r.points[static_cast<size_t>(s)].value, static_cast<double>(s));
}

TEST_F(StoreTest, RetriedBatchWithSameSeqIsAppliedOnce) {
  int64_t id = NewRun();
  auto a = Log(id, {{"m", 0, 1.0}}, 7);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->duplicate);
  auto b = Log(id, {{"m", 1, 1.0}}, 7);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(Query(id, "m").count, 1);
}

TEST_F(StoreTest, NonFiniteValuesAreStoredAsSuch) {
  int64_t id = NewRun();
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(Log(id, {{"m", 0, nan}, {"m", 1, inf}, {"m", 2, -inf}, {"m", 3, 1.0}}).ok());
  auto r = Query(id, "m");
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_TRUE(std::isnan(r.points[0].value));
  EXPECT_EQ(r.points[1].value, inf);
  EXPECT_EQ(r.points[2].value, -inf);
  EXPECT_EQ(r.min, 1.0);
  EXPECT_EQ(r.max, 1.0);
  ASSERT_TRUE(Log(id, {{"m", 4, nan}}).ok());
  EXPECT_TRUE(std::isnan(store_->GetSeries(id, "m")->last_value));
}

TEST_F(StoreTest, UnknownExperimentIsNotFound) {
  auto r = Log(999, {{"m", 0, 1.0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(StoreTest, KeyCannotHoldBothScalarsAndImages) {
  int64_t id = NewRun();
  ASSERT_TRUE(Log(id, {{"m", 0, 1.0}}).ok());
  MediaItem item{0, id, "m", 0, "0-1.png", "image/png", NowMicros()};
  auto r = store_->AddMedia(item);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  // The failed write left the store consistent: scalars still flow.
  ASSERT_TRUE(Log(id, {{"m", 1, 2.0}}).ok());
  EXPECT_EQ(Query(id, "m").count, 2);
}

TEST_F(StoreTest, DataSurvivesReopen) {
  int64_t id = NewRun("keep");
  std::vector<MetricPoint> pts;
  for (int s = 0; s < 20000; ++s) pts.push_back({"m", s, static_cast<double>(s)});
  ASSERT_TRUE(Log(id, pts).ok());
  Reopen();
  auto r = Query(id, "m");
  EXPECT_EQ(r.count, 20000);
  EXPECT_EQ(r.max, 19999.0);
  // Appending after reopen continues the summaries from the stored tails.
  ASSERT_TRUE(Log(id, {{"m", 20000, 1e6}}).ok());
  r = Query(id, "m");
  EXPECT_EQ(r.count, 20001);
  EXPECT_EQ(r.max, 1e6);
}

TEST_F(StoreTest, CrashStaleRunsMarksOnlySilentRunningExperiments) {
  int64_t silent = NewRun();
  int64_t done = NewRun();
  ASSERT_TRUE(store_->SetStatus(done, RunStatus::kFinished).ok());
  auto n = store_->CrashStaleRuns(NowMicros() + 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->GetExperiment(silent)->status, RunStatus::kCrashed);
  EXPECT_EQ(store_->GetExperiment(done)->status, RunStatus::kFinished);
  // It ends at its last sign of life, not when the monitor noticed.
  auto crashed = store_->GetExperiment(silent);
  EXPECT_EQ(crashed->finish_time, crashed->last_seen);
  // A heartbeat from a run given up on brings it back.
  EXPECT_EQ(*store_->Heartbeat(silent), RunStatus::kRunning);
}

TEST_F(StoreTest, StopWinsOverLaterFinish) {
  int64_t id = NewRun();
  ASSERT_TRUE(store_->SetStatus(id, RunStatus::kStopped).ok());
  EXPECT_EQ(*store_->SetStatus(id, RunStatus::kFinished), RunStatus::kStopped);
  EXPECT_EQ(*store_->Heartbeat(id), RunStatus::kStopped);
}

TEST_F(StoreTest, DeleteProjectRefusedWhileRunning) {
  int64_t id = NewRun();
  auto project = store_->GetExperiment(id)->project_id;
  Status st = store_->DeleteProject(project);
  EXPECT_EQ(st.code(), Code::kConflict);
  ASSERT_TRUE(store_->SetStatus(id, RunStatus::kFinished).ok());
  EXPECT_TRUE(store_->DeleteProject(project).ok());
  EXPECT_EQ(store_->GetExperiment(id).status().code(), Code::kNotFound);
}

TEST_F(StoreTest, ConsoleAppendsInOrderAndTails) {
  int64_t id = NewRun();
  ConsoleBatch b;
  b.experiment_id = id;
  for (int i = 0; i < 5; ++i) b.lines.push_back({0, i % 2, NowMicros(), "line " + std::to_string(i)});
  ASSERT_TRUE(store_->AppendConsole(b).ok());
  auto tail = store_->TailConsole(id, 2);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].text, "line 3");
  EXPECT_EQ((*tail)[1].line_no, 5);
}

TEST_F(StoreTest, ConcurrentWritersAllLand) {
  int64_t id = NewRun();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < 20; ++b) {
        std::vector<MetricPoint> pts;
        for (int s = 0; s < 50; ++s) pts.push_back({"k" + std::to_string(t), b * 50 + s, 1.0 * s});
        EXPECT_TRUE(Log(id, pts).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(Query(id, "k" + std::to_string(t)).count, 1000);
}

TEST_F(StoreTest, RunsMoveOnlyAlongTheirLifecycle) {
  ModelSessionRecord session{0, "s", 1, "TabularClassification", "{}", 0};
  auto sid = store_->CreateModelSession(session);
  ASSERT_TRUE(sid.ok());
  RunRecord run;
  run.session_id = *sid;
  run.name = "r";
  run.model = "XGBoostClassifier";
  auto rid = store_->CreateRun(run);
  ASSERT_TRUE(rid.ok());
  run.session_id = 999;
  EXPECT_EQ(store_->CreateRun(run).status().code(), Code::kNotFound);
  // Queued once only: the second admission sees DELIVERED.
  ASSERT_TRUE(store_->TransitionRun(*rid, {WorkStatus::kNotStarted, WorkStatus::kFinished, WorkStatus::kError}, WorkStatus::kDelivered, "").ok());
  auto again = store_->TransitionRun(*rid, {WorkStatus::kNotStarted, WorkStatus::kFinished, WorkStatus::kError}, WorkStatus::kDelivered, "");
  EXPECT_EQ(again.code(), Code::kConflict);
  EXPECT_NE(again.message().find("is DELIVERED"), std::string::npos);
  ASSERT_TRUE(store_->TransitionRun(*rid, {WorkStatus::kDelivered}, WorkStatus::kStarted, "").ok());
  ASSERT_TRUE(store_->SetRunJob(*rid, 42).ok());
  // LAST metrics are replaced per split and name; trials accumulate; NaN is kept as missing.
  ASSERT_TRUE(store_->AddRunMetrics(*rid, {{"test", "F1", "LAST", 0, 0.5}, {"test", "F1", "LAST", 0, 0.75},
                                           {"validation", "F1", "TRIAL", 0, 0.1}, {"validation", "F1", "TRIAL", 1, NAN}}).ok());
  auto metrics = *store_->ListRunMetrics(*rid);
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0].value, 0.75);
  EXPECT_TRUE(std::isnan(metrics[2].value));
  auto finals = *store_->ListFinalRunMetrics(*sid);  // LAST only, keyed by run
  ASSERT_EQ(finals[*rid].size(), 1u);
  EXPECT_EQ(finals[*rid][0].value, 0.75);
  EXPECT_EQ(store_->ListFinalRunMetrics(0)->size(), 1u);
  EXPECT_TRUE(store_->ListFinalRunMetrics(*sid + 1)->empty());
  ASSERT_TRUE(store_->AddRunTrial({*rid, 0, "{}", NAN, "odd x", "{}", 0.1}).ok());
  // A crash mid-training: the run becomes ERROR with the reason, and keeps its job.
  Reopen();
  EXPECT_EQ(*store_->FailInterruptedRuns("interrupted"), 1);
  auto r = *store_->GetRun(*rid);
  EXPECT_EQ(r.status, WorkStatus::kError);
  EXPECT_EQ(r.error, "interrupted");
  EXPECT_EQ(r.job_id, 42);
  EXPECT_GT(r.end_time, 0);
  EXPECT_EQ(store_->ListRunTrials(*rid)->at(0).error, "odd x");
  ASSERT_TRUE(store_->ClearRunResults(*rid).ok());
  EXPECT_TRUE(store_->ListRunMetrics(*rid)->empty());
  EXPECT_TRUE(store_->ListRunTrials(*rid)->empty());
}

TEST_F(StoreTest, RefusesDatabaseFromNewerSchema) {
  store_->Close();
  store_.reset();
  {
    StoreOptions o;
    o.data_dir = dir_.path();
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok());
  }
  std::string cmd = "sqlite3 " + dir_.path() + "/loupe.db 'PRAGMA user_version=99'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  StoreOptions o;
  o.data_dir = dir_.path();
  auto s = OpenSqliteStore(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

}  // namespace
}  // namespace loupe
