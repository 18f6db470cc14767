// Quotas (issue 9 item 4): a write past one is refused whole, what it tried to add is
// not counted, and the counts survive rollbacks, reopening and deletes.
#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "common/test_store.h"
#include "common/time_util.h"
#include "store/store.h"

namespace loupe {
namespace {

class QuotaTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    store_ = OpenTestStore(dir_.path(), [](StoreOptions& o) {
      o.quotas.max_keys_per_experiment = 3;
      o.quotas.max_queued_jobs = 2;
      o.quotas.max_console_bytes_per_experiment = 100;
    });
    ASSERT_NE(store_, nullptr);
  }
  int64_t NewRun(const std::string& run_id) { return NewTestRun(*store_, run_id); }
  Status Log(int64_t id, std::vector<std::string> keys, int64_t step = 0) {
    MetricBatch b;
    b.experiment_id = id;
    b.ts = NowMicros();
    for (const std::string& k : keys) b.points.push_back({k, step, 1.0, 0});
    return store_->WriteMetrics(b).status();
  }
  Status Console(int64_t id, size_t bytes) {
    ConsoleBatch b;
    b.experiment_id = id;
    b.lines.push_back({0, 0, NowMicros(), std::string(bytes, 'x')});
    return store_->AppendConsole(b).status();
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(QuotaTest, KeysPerExperimentAreCountedOnceAndKeptThroughRefusals) {
  int64_t a = NewRun("a");
  ASSERT_TRUE(Log(a, {"k1", "k2"}).ok());
  // The batch would add two keys where one fits: refused whole, nothing of it written.
  EXPECT_EQ(Log(a, {"k3", "k4"}).code(), Code::kTooLarge);
  auto keys = store_->ListSeries(a);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
  ASSERT_TRUE(Log(a, {"k3"}).ok());  // the rollback did not leave k3 counted
  EXPECT_EQ(Log(a, {"k4"}).code(), Code::kTooLarge);
  EXPECT_TRUE(Log(a, {"k1", "k2", "k3"}, 5).ok());
  // Another experiment has its own count; a reopened store counts again from the rows.
  int64_t b = NewRun("b");
  EXPECT_TRUE(Log(b, {"x", "y", "z"}).ok());
  Reopen();
  EXPECT_EQ(Log(a, {"k4"}).code(), Code::kTooLarge);
  EXPECT_EQ(Log(b, {"w"}).code(), Code::kTooLarge);
}

TEST_F(QuotaTest, APartialBatchLosesOnlyTheKeysPastTheQuota) {
  int64_t a = NewRun("a");
  ASSERT_TRUE(Log(a, {"k1", "k2"}).ok());
  MetricBatch b;
  b.experiment_id = a;
  b.ts = NowMicros();
  b.partial = true;
  for (const char* k : {"k1", "k3", "k4", "k5"}) b.points.push_back({k, 1, 2.0, 0});
  b.points.push_back({"k4", 2, 2.0, 0});
  auto ack = store_->WriteMetrics(b);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  ASSERT_EQ(ack->refused.size(), 2u);
  EXPECT_EQ(ack->refused[0].key, "k4");
  EXPECT_EQ(ack->refused[1].key, "k5");
  EXPECT_EQ(ack->refused[0].step, -1);
  EXPECT_NE(ack->refused[0].message.find("maximum of 3 keys"), std::string::npos);
  EXPECT_EQ(ack->refused_points, 3u);
  auto series = store_->ListSeries(a);
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(series->size(), 3u);  // k1, k2, k3
}

TEST_F(QuotaTest, ConsoleBytesAndQueuedJobs) {
  int64_t a = NewRun("a");
  ASSERT_TRUE(Console(a, 60).ok());
  EXPECT_EQ(Console(a, 41).code(), Code::kTooLarge);
  EXPECT_TRUE(Console(a, 40).ok());  // exactly at the quota
  EXPECT_EQ(Console(a, 1).code(), Code::kTooLarge);
  auto n = store_->CountConsole(a);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  ASSERT_TRUE(store_->DeleteExperiment(a).ok());
  int64_t b = NewRun("b");
  EXPECT_TRUE(Console(b, 100).ok());

  ASSERT_TRUE(store_->EnqueueJob("DatasetJob", "{}").ok());
  ASSERT_TRUE(store_->EnqueueJob("DatasetJob", "{}").ok());
  auto third = store_->EnqueueJob("DatasetJob", "{}");
  EXPECT_EQ(third.status().code(), Code::kTooLarge);
  EXPECT_NE(third.status().message().find("--max-queued-jobs"), std::string::npos);
  // A retry queues a job again: it counts too.
  auto claimed = store_->ClaimJob();
  ASSERT_TRUE(claimed.ok() && *claimed);
  ASSERT_TRUE(store_->FinishJob((*claimed)->id, WorkStatus::kError, "failed", "null").ok());
  ASSERT_TRUE(store_->EnqueueJob("DatasetJob", "{}").ok());  // two queued again
  EXPECT_EQ(store_->RetryJob((*claimed)->id).code(), Code::kTooLarge);
}

}  // namespace
}  // namespace loupe
