// A run and what follows it (its job, its tracking experiment) stay consistent after
// a crash or a failure: the states a kill -9 leaves are prepared in the store and the
// start-up recovery is run on them; training ends are checked on the experiment.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "datasets/dataset_service.h"
#include "jobs/job_queue.h"
#include "jobs/model_job.h"
#include "runs/run_service.h"
#include "store/store.h"
#include "tracking/tracking_service.h"

namespace loupe::runs {
namespace {

using nlohmann::json;

std::string TwoClassCsv() {
  std::string csv = "x1,x2,label\n";
  for (int i = 0; i < 60; ++i) {
    csv += std::to_string(i % 7) + "," + std::to_string(i % 5 + (i % 2) * 3) + "," + (i % 2 ? "yes" : "no") + "\n";
  }
  return csv;
}

class RunRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    Result<DatasetRecord> ds = datasets_->Create("two", "two.csv", "", TwoClassCsv());
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    Result<ModelSessionRecord> session =
        runs_->CreateSession({{"dataset_id", ds->id},
                              {"task_name", "TabularClassification"},
                              {"input_columns", {"x1", "x2"}},
                              {"output_columns", {"label"}},
                              {"splits", {{"train", 0.6}, {"validation", 0.2}, {"test", 0.2}}}});
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_id_ = session->id;
    run_id_ = NewRun();
  }

  void Open() {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    TrackingOptions to;
    to.data_dir = dir_.path();
    to.heartbeat_timeout_seconds = 0;  // no monitor: an experiment stays as the executor left it
    tracking_ = std::make_unique<TrackingService>(*store_, to);
    datasets::DatasetOptions dopt;
    dopt.data_dir = dir_.path();
    datasets_ = std::make_unique<datasets::DatasetService>(*store_, dopt);
    RunServiceOptions ro;
    ro.data_dir = dir_.path();
    runs_ = std::make_unique<RunService>(*store_, *datasets_, *tracking_, ro);
  }

  // Kill -9 and start again: every service over a reopened store.
  void Restart() {
    runs_.reset();
    datasets_.reset();
    tracking_.reset();
    store_->Close();
    store_.reset();
    Open();
  }

  int64_t NewRun() {
    Result<RunRecord> run = runs_->CreateRun({{"model_session_id", session_id_}, {"model_name", "LogisticRegression"}});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->id : 0;
  }

  // The state a worker sees when it claims the run's job.
  void Deliver(int64_t run_id) {
    ASSERT_TRUE(store_->TransitionRun(run_id, {WorkStatus::kNotStarted}, WorkStatus::kDelivered, "").ok());
  }

  RunRecord Run(int64_t id) { return *store_->GetRun(id); }

  // The experiment ended with `status` and nothing touched it afterwards.
  void ExpectEndedUntouched(int64_t experiment_id, RunStatus status) {
    Result<Experiment> e = store_->GetExperiment(experiment_id);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(std::string(RunStatusName(e->status)), RunStatusName(status));
    EXPECT_GT(e->finish_time, 0);
    EXPECT_LE(e->last_seen, e->finish_time) << "a heartbeat or write reached the experiment after it ended";
    EXPECT_LE(e->update_time, e->finish_time);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TrackingService> tracking_;
  std::unique_ptr<datasets::DatasetService> datasets_;
  std::unique_ptr<RunService> runs_;
  int64_t session_id_ = 0;
  int64_t run_id_ = 0;
};

// Issue 19.13: Loupe killed after the run became DELIVERED but before its job was
// queued (or recorded) left it DELIVERED for good, and every later enqueue, retry or
// delete answered 409.
TEST_F(RunRecoveryTest, StartReleasesADeliveredRunWhoseJobIsMissing) {
  Deliver(run_id_);  // job_id 0: no job was ever queued
  const int64_t dangling = NewRun();
  Deliver(dangling);
  ASSERT_TRUE(store_->SetRunJob(dangling, 4242).ok());  // a job row that does not exist
  Restart();
  ASSERT_TRUE(runs_->RecoverInterrupted().ok());
  for (int64_t id : {run_id_, dangling}) {
    EXPECT_EQ(Run(id).status, WorkStatus::kNotStarted) << "run " << id;
    EXPECT_EQ(Run(id).delivered_time, 0);
  }
  EXPECT_TRUE(runs_->DeleteRun(dangling).ok());
}

TEST_F(RunRecoveryTest, StartReleasesADeliveredRunWhoseJobNoLongerWaits) {
  // Killed after the worker claimed the job and before the run became STARTED: the
  // job turns ERROR (interrupted) at start, so it will never move the run on.
  Result<int64_t> job = store_->EnqueueJob("ModelJob", json{{"run_id", run_id_}}.dump());
  ASSERT_TRUE(job.ok());
  Deliver(run_id_);
  ASSERT_TRUE(store_->SetRunJob(run_id_, *job).ok());
  ASSERT_TRUE(store_->ClaimJob().ok());
  Restart();
  ASSERT_TRUE(runs_->RecoverInterrupted().ok());
  ASSERT_TRUE(store_->FailInterruptedJobs("interrupted").ok());
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kNotStarted);
}

TEST_F(RunRecoveryTest, StartKeepsADeliveredRunWhoseJobIsQueued) {
  Result<int64_t> job = store_->EnqueueJob("ModelJob", json{{"run_id", run_id_}}.dump());
  ASSERT_TRUE(job.ok());
  Deliver(run_id_);
  ASSERT_TRUE(store_->SetRunJob(run_id_, *job).ok());
  Restart();
  ASSERT_TRUE(runs_->RecoverInterrupted().ok());
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kDelivered);
  EXPECT_EQ(Run(run_id_).job_id, *job);
}

// Queueing and retrying write the run and its job together: a refused one writes
// neither (no workers run here, so the job stays queued).
TEST_F(RunRecoveryTest, QueueingARunRecordsItsJobInTheSameWrite) {
  jobs::JobQueue queue(*store_, {1, 1000});
  queue.Register("ModelJob", jobs::ModelJob(*runs_));
  Result<int64_t> job = queue.Enqueue("ModelJob", {{"run_id", run_id_}});
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kDelivered);
  EXPECT_EQ(Run(run_id_).job_id, *job);
  EXPECT_EQ(store_->GetJob(*job)->status, WorkStatus::kNotStarted);
  EXPECT_EQ(queue.Enqueue("ModelJob", {{"run_id", run_id_}}).status().code(), Code::kConflict);
  EXPECT_EQ(queue.Enqueue("ModelJob", {{"run_id", 999}}).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListJobs(10)->size(), 1u);
}

TEST_F(RunRecoveryTest, RetryingARunsJobQueuesBothAgain) {
  jobs::JobQueue queue(*store_, {1, 1000});
  queue.Register("ModelJob", jobs::ModelJob(*runs_));
  const int64_t job = *queue.Enqueue("ModelJob", {{"run_id", run_id_}});
  ASSERT_TRUE(store_->ClaimJob().ok());
  ASSERT_TRUE(store_->TransitionRun(run_id_, {WorkStatus::kDelivered}, WorkStatus::kStarted, "").ok());
  ASSERT_TRUE(store_->FinishJob(job, WorkStatus::kError, "boom", "null").ok());
  // The run still trains (its job's end came first): the retry is refused, nothing changes.
  EXPECT_EQ(queue.Retry(job).code(), Code::kConflict);
  EXPECT_EQ(store_->GetJob(job)->status, WorkStatus::kError);
  ASSERT_TRUE(store_->TransitionRun(run_id_, {WorkStatus::kStarted}, WorkStatus::kError, "boom").ok());
  ASSERT_TRUE(queue.Retry(job).ok());
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kDelivered);
  EXPECT_EQ(Run(run_id_).job_id, job);
  EXPECT_EQ(store_->GetJob(job)->status, WorkStatus::kNotStarted);
}

// Issue 19.14: the executor's curve writer and keepalive outlived the experiment's
// final status, and their last heartbeat revived a failed run's experiment.
TEST_F(RunRecoveryTest, CancelledRunLeavesItsExperimentEnded) {
  Deliver(run_id_);
  // The cancel comes once training has begun (its experiment exists).
  Result<json> out = runs_->Execute(run_id_, [this] { return Run(run_id_).experiment_id > 0; });
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "cancelled while running");
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kError);
  ASSERT_GT(Run(run_id_).experiment_id, 0);
  ExpectEndedUntouched(Run(run_id_).experiment_id, RunStatus::kCrashed);
}

TEST_F(RunRecoveryTest, CancelledWhileLoadingItsDataStartsNoExperiment) {
  Deliver(run_id_);
  int asked = 0;
  Result<json> out = runs_->Execute(run_id_, [&asked] { return ++asked > 0; });
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "cancelled while running");
  EXPECT_EQ(asked, 1);  // asked right after the data loaded, and nothing ran after that
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kError);
  EXPECT_EQ(Run(run_id_).error, "cancelled while running");
  EXPECT_EQ(Run(run_id_).experiment_id, 0);
}

TEST_F(RunRecoveryTest, FailedRunLeavesItsExperimentEnded) {
  // The run's folder cannot be made: a file is in its place.
  std::filesystem::create_directories(dir_.path() + "/runs");
  std::ofstream(dir_.path() + "/runs/" + std::to_string(run_id_)) << "in the way";
  Deliver(run_id_);
  Result<json> out = runs_->Execute(run_id_);
  ASSERT_FALSE(out.ok());
  ASSERT_GT(Run(run_id_).experiment_id, 0);
  ExpectEndedUntouched(Run(run_id_).experiment_id, RunStatus::kCrashed);
}

TEST_F(RunRecoveryTest, FinishedRunLeavesItsExperimentEnded) {
  Deliver(run_id_);
  Result<json> out = runs_->Execute(run_id_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Run(run_id_).status, WorkStatus::kFinished);
  ExpectEndedUntouched(Run(run_id_).experiment_id, RunStatus::kFinished);
}

}  // namespace
}  // namespace loupe::runs
