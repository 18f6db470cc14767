#include "tracking/tracking_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "store/store.h"
#include "common/time_util.h"

namespace loupe {
namespace {

class TrackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    TrackingOptions to;
    to.data_dir = dir_.path();
    to.heartbeat_timeout_seconds = 0;  // the monitor thread is driven by hand here
    tracking_ = std::make_unique<TrackingService>(*store_, to);
    NewExperiment e;
    e.project = "p";
    id_ = tracking_->StartRun(e)->experiment.id;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TrackingService> tracking_;
  int64_t id_ = 0;
};

TEST_F(TrackingTest, RejectedBatchWritesNothing) {
  MetricBatch b;
  b.experiment_id = id_;
  b.points = {{"good", 0, 1.0}, {"bad key!", 0, 1.0}};
  auto r = tracking_->LogMetrics(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ListSeries(id_)->empty());
}

TEST_F(TrackingTest, EnforcesPointAndKeyLimits) {
  MetricBatch b;
  b.experiment_id = id_;
  Limits l;
  for (size_t i = 0; i <= l.max_keys_per_request; ++i) b.points.push_back({"k" + std::to_string(i), 0, 1.0});
  auto r = tracking_->LogMetrics(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTooLarge);
  EXPECT_NE(r.status().message().find("distinct keys"), std::string::npos);
}

TEST_F(TrackingTest, RejectsStepBeyondTwoToThe53) {
  MetricBatch b;
  b.experiment_id = id_;
  b.points = {{"m", (int64_t{1} << 53) + 1, 1.0}};
  EXPECT_EQ(tracking_->LogMetrics(b).status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingTest, MediaIsStoredUnderGeneratedNameInsideMediaRoot) {
  auto ack = tracking_->LogMedia(id_, "samples/img", 3, "../../evil.png", "\x89PNG....");
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  auto items = store_->ListMedia(id_, "samples/img", 10);
  ASSERT_EQ(items->size(), 1u);
  const std::string& name = (*items)[0].filename;
  EXPECT_EQ(name.find('/'), std::string::npos);
  auto path = tracking_->MediaPath(id_, name);
  ASSERT_TRUE(path.ok());
  EXPECT_NE(path->find("/media/" + std::to_string(id_) + "/"), std::string::npos);
  EXPECT_FALSE(tracking_->MediaPath(id_, "../loupe.db").ok());
  EXPECT_FALSE(tracking_->MediaPath(id_, ".hidden").ok());
}

TEST_F(TrackingTest, MediaRejectsUnknownTypesAndEmptyFiles) {
  EXPECT_EQ(tracking_->LogMedia(id_, "x", 0, "a.exe", "data").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(tracking_->LogMedia(id_, "x", 0, "a.png", "").status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingTest, SilentRunsBecomeCrashedAndASignOfLifeRevivesThem) {
  ManualClock clock(NowMicros());
  TrackingOptions to;
  to.data_dir = dir_.path();
  to.heartbeat_timeout_seconds = 120;
  to.heartbeat_check_seconds = 3600;  // the check is driven below, not by the thread
  to.clock = &clock;
  TrackingService t(*store_, to);
  clock.Advance(119'000'000);
  EXPECT_EQ(*t.CrashSilentRuns(), 0);
  EXPECT_EQ(store_->GetExperiment(id_)->status, RunStatus::kRunning);
  clock.Advance(2'000'000);
  EXPECT_EQ(*t.CrashSilentRuns(), 1);
  EXPECT_EQ(store_->GetExperiment(id_)->status, RunStatus::kCrashed);
  ASSERT_TRUE(t.Heartbeat(id_).ok());
  EXPECT_EQ(store_->GetExperiment(id_)->status, RunStatus::kRunning);
}

TEST_F(TrackingTest, StopMarksRunningExperimentStopped) {
  auto e = tracking_->Stop(id_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, RunStatus::kStopped);
  EXPECT_NE(e->finish_time, 0);
}

}  // namespace
}  // namespace loupe
