// What the store promises SDK clients (issue 19): replays change nothing, ids are never
// reused, writes to a deleted run are told so, resumed runs continue after their last
// step, kinds have their own sequence spaces, and racing updates all land.
#include <gtest/gtest.h>

#include <thread>

#include "common/temp_dir.h"
#include "common/time_util.h"
#include "store/store.h"

namespace loupe {
namespace {

class ClientWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.data_dir = dir_.path();
    o.sync_full = false;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  Result<CreatedExperiment> Start(const std::string& project, const std::string& run_id, const std::string& client,
                                  const std::string& config = "{}") {
    NewExperiment e;
    e.project = project;
    e.run_id = run_id;
    e.client = client;
    e.config_json = config;
    return store_->CreateOrResumeExperiment(e);
  }
  Result<WriteAck> Log(int64_t id, const std::string& client, int64_t seq, std::vector<MetricPoint> points,
                       StepOrigin origin = StepOrigin::kAbsolute) {
    MetricBatch b;
    b.experiment_id = id;
    b.from = {client, seq, origin};
    b.ts = NowMicros();
    b.points = std::move(points);
    return store_->WriteMetrics(b);
  }
  std::vector<int64_t> Steps(int64_t id, const std::string& key) {
    auto s = store_->GetSeries(id, key);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    auto r = store_->QuerySeries(s->id, {});
    std::vector<int64_t> out;
    for (const auto& p : r->points) out.push_back(p.step);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Item 4: a replayed create (sync, or a retry whose answer was lost) neither re-applies
// its config over a later update nor revives a finished run.
TEST_F(ClientWritesTest, ReplayedCreateChangesNothing) {
  auto first = Start("p", "r1", "clientA", R"({"lr":1})");
  ASSERT_TRUE(first.ok());
  int64_t id = first->experiment.id;
  ASSERT_TRUE(store_->MergeConfig(id, R"({"lr":2})").ok());
  ASSERT_TRUE(store_->SetStatus(id, RunStatus::kFinished).ok());
  auto replay = Start("p", "r1", "clientA", R"({"lr":1})");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->resumed);
  EXPECT_EQ(replay->experiment.id, id);
  EXPECT_EQ(replay->experiment.config_json, R"({"lr":2})");
  EXPECT_EQ(replay->experiment.status, RunStatus::kFinished);
}

// Item 1: two clients that happen to use the same seq are two writes, not a replay.
TEST_F(ClientWritesTest, SameSeqFromAnotherClientIsNotADuplicate) {
  int64_t id = Start("p", "r1", "clientA")->experiment.id;
  ASSERT_FALSE(Log(id, "clientA", 1, {{"loss", 0, 1.0, 0}})->duplicate);
  auto b = Log(id, "clientB", 1, {{"loss", 1, 2.0, 0}});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->duplicate);
  EXPECT_TRUE(Log(id, "clientA", 1, {{"loss", 0, 1.0, 0}})->duplicate);
  EXPECT_EQ(Steps(id, "loss"), (std::vector<int64_t>{0, 1}));
}

// Item 10: metrics and console number their writes separately.
TEST_F(ClientWritesTest, ConsoleAndMetricsHaveTheirOwnSequenceSpaces) {
  int64_t id = Start("p", "r1", "clientA")->experiment.id;
  ASSERT_FALSE(Log(id, "clientA", 5, {{"loss", 0, 1.0, 0}})->duplicate);
  ConsoleBatch c;
  c.experiment_id = id;
  c.from = {"clientA", 5, StepOrigin::kAbsolute};
  c.lines.push_back({0, 0, NowMicros(), "hello"});
  auto ack = store_->AppendConsole(c);
  ASSERT_TRUE(ack.ok());
  EXPECT_FALSE(ack->duplicate);
  EXPECT_EQ(*store_->CountConsole(id), 1);
  EXPECT_TRUE(store_->AppendConsole(c)->duplicate);
  EXPECT_EQ(*store_->CountConsole(id), 1);
}

// Item 5: a second process resuming the run without explicit steps continues after the
// last stored step instead of overwriting from 0; system metrics continue their own.
TEST_F(ClientWritesTest, ResumedClientContinuesAfterTheLastStep) {
  int64_t id = Start("p", "r1", "first")->experiment.id;
  std::vector<MetricPoint> pts;
  for (int s = 0; s < 50; ++s) pts.push_back({"loss", s, 1.0, 0});
  pts.push_back({"system/cpu", 0, 5.0, 0});
  pts.push_back({"system/cpu", 1, 5.0, 0});
  ASSERT_TRUE(Log(id, "first", 1, pts, StepOrigin::kResume).ok());
  auto resumed = Start("p", "r1", "second");
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->step_base, 50);  // one past loss's last step; system/cpu has its own base
  ASSERT_TRUE(Log(id, "second", 1, {{"loss", 0, 2.0, 0}, {"loss", 1, 2.0, 0}}, StepOrigin::kResume).ok());
  ASSERT_TRUE(Log(id, "second", 2, {{"system/cpu", 0, 6.0, 0}}, StepOrigin::kResumeSystem).ok());
  std::vector<int64_t> steps = Steps(id, "loss");
  ASSERT_EQ(steps.size(), 52u);
  EXPECT_EQ(steps[50], 50);
  EXPECT_EQ(steps[51], 51);
  EXPECT_EQ(Steps(id, "system/cpu"), (std::vector<int64_t>{0, 1, 2}));
  // Explicit steps are taken as they are.
  ASSERT_TRUE(Log(id, "second", 3, {{"loss", 7, 3.0, 0}}).ok());
  EXPECT_EQ(Steps(id, "loss").size(), 52u);
}

// Item 2: ids are never reused, and a deleted run's client is told Gone instead of
// writing into whatever came next.
TEST_F(ClientWritesTest, DeletedRunsIdIsNeverReusedAndItsWritesAreGone) {
  int64_t old_id = Start("p", "old", "clientA")->experiment.id;
  ASSERT_TRUE(store_->DeleteExperiment(old_id).ok());
  ASSERT_TRUE(store_->DeleteProject(store_->ListProjects()->at(0).id).ok());
  int64_t next = Start("q", "new", "clientB")->experiment.id;
  EXPECT_NE(next, old_id);
  EXPECT_EQ(Log(old_id, "clientA", 2, {{"loss", 0, 1.0, 0}}).status().code(), Code::kGone);
  EXPECT_EQ(store_->Heartbeat(old_id).status().code(), Code::kGone);
  EXPECT_EQ(store_->SetStatus(old_id, RunStatus::kFinished).status().code(), Code::kGone);
  EXPECT_EQ(store_->MergeConfig(old_id, "{}").code(), Code::kGone);
  // The deleted run's replayed create must not start a fresh run either.
  EXPECT_EQ(Start("p", "old", "clientA").status().code(), Code::kGone);
  EXPECT_EQ(store_->ListProjects()->size(), 1u);
  EXPECT_FALSE(store_->GetSeries(next, "loss").ok());
}

// Item 12: a resume under the project's old name finds the run in the renamed project.
TEST_F(ClientWritesTest, ResumeUnderAnOldProjectNameFindsTheRun) {
  auto first = Start("old-name", "r1", "clientA");
  ASSERT_TRUE(store_->UpdateProject(first->experiment.project_id, "new-name", "").ok());
  auto resumed = Start("old-name", "r1", "clientB");
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->experiment.id, first->experiment.id);
  EXPECT_EQ(store_->ListProjects()->size(), 1u);
  // A new run naming the old name (a script not yet updated) goes to the renamed project
  // too, rather than to a second project a single-project client cannot see...
  auto other = Start("old-name", "r2", "clientC");
  EXPECT_FALSE(other->resumed);
  EXPECT_EQ(other->experiment.project_id, first->experiment.project_id);
  EXPECT_EQ(store_->ListProjects()->size(), 1u);
  // ...until a project takes that name again.
  NewExperiment fresh;
  fresh.project = "new-name-2";
  auto taker = store_->CreateOrResumeExperiment(fresh);
  ASSERT_TRUE(taker.ok());
  ASSERT_TRUE(store_->UpdateProject(taker->experiment.project_id, "old-name", "").ok());
  EXPECT_EQ(Start("old-name", "r3", "clientD")->experiment.project_id, taker->experiment.project_id);
}

// Item 11: the dashboard's stop loses cleanly to a finish that came first, and two
// concurrent partial updates both land.
TEST_F(ClientWritesTest, StopAfterFinishIsAConflictAndPatchesDoNotLoseEachOther) {
  int64_t id = Start("p", "r1", "clientA")->experiment.id;
  ASSERT_TRUE(store_->SetStatus(id, RunStatus::kFinished).ok());
  EXPECT_EQ(store_->StopIfRunning(id).status().code(), Code::kConflict);
  EXPECT_EQ(store_->GetExperiment(id)->status, RunStatus::kFinished);

  for (int i = 0; i < 50; ++i) {
    std::string name = "name-" + std::to_string(i);
    bool show = i % 2 == 0;
    std::thread rename([&] { ASSERT_TRUE(store_->PatchExperiment(id, {name, std::nullopt, std::nullopt}).ok()); });
    std::thread toggle([&] { ASSERT_TRUE(store_->PatchExperiment(id, {std::nullopt, std::nullopt, show}).ok()); });
    rename.join();
    toggle.join();
    Experiment e = *store_->GetExperiment(id);
    ASSERT_EQ(e.name, name);
    ASSERT_EQ(e.show, show);
  }
}

}  // namespace
}  // namespace loupe
