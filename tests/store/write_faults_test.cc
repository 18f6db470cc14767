// What the writer acknowledges is what a reopened database holds: failing operations
// in a group, disk-full, write and fsync faults (through the fault-injecting VFS).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "common/temp_dir.h"
#include "common/test_store.h"
#include "common/time_util.h"
#include "store/fault_vfs.h"
#include "store/group_commit_writer.h"
#include "store/sqlite_db.h"
#include "store/migrations.h"
#include "store/series_writer.h"
#include "store/store.h"
#include "web/http_status.h"

namespace loupe {
namespace {

using testing::ClearFault;
using testing::Fault;
using testing::InjectFault;

// A group whose first operation fails after the series cache learned of a new series:
// the next operation of the same group must not write under the rolled-back id.
TEST(GroupCommitWriterCaches, FailedOpDropsCachesBeforeTheNextOpOfItsGroup) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.path() + "/w.db", false, false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(**db).ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO projects(id,name,description,create_time,update_time) VALUES(1,'p','',0,0);"
                          "INSERT INTO experiments(id,project_id,run_id,name,status,create_time,update_time,"
                          "last_seen) VALUES(1,1,'r','r','running',0,0,0)").ok());
  SeriesWriter series;
  SqliteWriter w(std::move(*db), 1000, [&] { series.Reset(); });
  ASSERT_TRUE(w.Run([&](SqliteDb& d) { return series.EnsureSeries(d, 1, "img", "image").status(); }).ok());

  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = std::async(std::launch::async, [&] {
    return w.Run([&](SqliteDb&) {
      started.set_value();
      released.wait();
      return Status::Ok();
    });
  });
  started.get_future().wait();  // the writer is inside the blocker's group
  auto bad = std::async(std::launch::async, [&] {
    return w.Run([&](SqliteDb& d) { return series.Write(d, 1, {{"fresh", 0, 1.0}, {"img", 0, 2.0}}, 1); });
  });
  while (w.Queued() != 1) std::this_thread::yield();
  auto good = std::async(std::launch::async, [&] {
    return w.Run([&](SqliteDb& d) { return series.Write(d, 1, {{"fresh", 1, 3.0}}, 1); });
  });
  while (w.Queued() != 2) std::this_thread::yield();
  release.set_value();  // both now run in one group: bad first, then good
  EXPECT_TRUE(blocker.get().ok());
  EXPECT_EQ(bad.get().code(), Code::kInvalidArgument);
  ASSERT_TRUE(good.get().ok());
  w.Stop();

  auto check = SqliteDb::Open(dir.path() + "/w.db", true, false);
  ASSERT_TRUE(check.ok());
  SqliteStmt& q = (*check)->Prepare(
      "SELECT count(*) FROM chunks WHERE series_id NOT IN (SELECT id FROM series)");
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Int(0), 0) << "chunks written under a rolled-back series id";
  ASSERT_TRUE(q.Done().ok());
  SqliteStmt& s = (*check)->Prepare("SELECT last_step FROM series WHERE key='fresh'");
  ASSERT_TRUE(s.Step()) << "the acknowledged series is missing";
  EXPECT_EQ(s.Int(0), 1);
  ASSERT_TRUE(s.Done().ok());
}

class WriteFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(testing::RegisterFaultVfs()); }
  void TearDown() override { ClearFault(); }
  void Open(const std::string& vfs) {
    store_.reset();
    StoreOptions o;
    o.data_dir = dir_.path();
    o.sync_full = true;  // fsync on every commit, so sync faults are reached
    o.vfs = vfs;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  int64_t NewRun(const std::string& run_id) { return NewTestRun(*store_, run_id); }
  Status Log(int64_t id, const std::string& key, int64_t step, double v) {
    MetricBatch b;
    b.experiment_id = id;
    b.ts = NowMicros();
    b.points = {{key, step, v}};
    return store_->WriteMetrics(b).status();
  }
  // Every acknowledged (key, step) is read back after a reopen without faults.
  void ExpectAllKept(int64_t id, const std::set<std::pair<std::string, int64_t>>& acked) {
    Open("");
    std::map<std::string, std::set<int64_t>> kept;
    auto series = store_->ListSeries(id);
    ASSERT_TRUE(series.ok()) << series.status().ToString();
    for (const Series& s : *series) {
      SeriesQuery q;
      q.max_points = 100000;
      auto r = store_->QuerySeries(s.id, q);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const auto& p : r->points) kept[s.key].insert(p.step);
    }
    int missing = 0;
    for (const auto& [key, step] : acked) missing += kept[key].count(step) ? 0 : 1;
    EXPECT_EQ(missing, 0) << missing << " of " << acked.size() << " acknowledged points lost";
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// The store-level reproduction from the issue: pairs racing into the same groups.
TEST_F(WriteFaultsTest, RefusedBatchBesideANewKeyLosesNothingAcknowledged) {
  Open("");
  int64_t id = NewRun("race");
  MediaItem m;
  m.experiment_id = id;
  m.key = "img";
  m.filename = "a.png";
  m.content_type = "image/png";
  m.ts = NowMicros();
  ASSERT_TRUE(store_->AddMedia(m).ok());
  std::set<std::pair<std::string, int64_t>> acked;
  std::mutex mu;
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 300; i += 10) {
        std::string key = "k" + std::to_string(i);
        auto bad = std::async(std::launch::async, [&] {
          MetricBatch b;
          b.experiment_id = id;
          b.ts = NowMicros();
          b.points = {{key, 0, 1.0}, {"img", 0, 1.0}};
          return store_->WriteMetrics(b).status();
        });
        Status good = Log(id, key, 1, 2.0);
        if (bad.get().code() == Code::kInvalidArgument) refused++;
        if (good.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert({key, 1});
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), 300);
  EXPECT_EQ(acked.size(), 300u);
  ExpectAllKept(id, acked);
}

struct FaultCase {
  Fault fault;
  Code code;
  int http;
};

class FaultMatrix : public WriteFaultsTest, public ::testing::WithParamInterface<FaultCase> {};

// Writes fail with a clear status while the fault lasts, the writer recovers once it
// clears, and a reopened database holds every acknowledged point.
TEST_P(FaultMatrix, FailsClearlyRecoversAndKeepsEverythingAcknowledged) {
  const FaultCase c = GetParam();
  int64_t id = NewRun("faults");
  std::set<std::pair<std::string, int64_t>> acked;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Log(id, "before", i, i).ok());
    acked.insert({"before", i});
  }
  InjectFault(c.fault);
  for (int i = 0; i < 5; ++i) {
    Status st = Log(id, "during", i, i);
    ASSERT_FALSE(st.ok()) << "a write was acknowledged while every " << static_cast<int>(c.fault)
                          << " fails";
    EXPECT_EQ(st.code(), c.code) << st.ToString();
    EXPECT_EQ(HttpStatus(st), c.http);
  }
  EXPECT_GT(testing::FaultsHit(), 0);
  EXPECT_EQ(store_->WriteHealth().code(), c.code) << "the store reports healthy while writes fail";
  ClearFault();
  for (int i = 0; i < 20; ++i) {
    Status st = Log(id, "after", i, i);
    ASSERT_TRUE(st.ok()) << "the writer did not recover: " << st.ToString();
    acked.insert({"after", i});
  }
  EXPECT_TRUE(store_->WriteHealth().ok()) << store_->WriteHealth().ToString();
  ExpectAllKept(id, acked);
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultMatrix,
                         ::testing::Values(FaultCase{Fault::kDiskFull, Code::kNoSpace, 507},
                                           FaultCase{Fault::kWriteError, Code::kUnavailable, 503},
                                           FaultCase{Fault::kSyncError, Code::kUnavailable, 503}),
                         [](const auto& info) {
                           switch (info.param.fault) {
                             case Fault::kDiskFull: return std::string("DiskFull");
                             case Fault::kWriteError: return std::string("WriteError");
                             default: return std::string("SyncError");
                           }
                         });

// Faults that start at arbitrary points under concurrent writers: whatever was
// acknowledged is there after a reopen, whichever I/O call failed.
TEST_F(WriteFaultsTest, FaultsAtRandomPointsUnderLoadLoseNothingAcknowledged) {
  int64_t id = NewRun("load");
  std::set<std::pair<std::string, int64_t>> acked;
  std::mutex mu;
  std::atomic<bool> done{false};
  std::atomic<int> failed{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 6; ++t) {
    writers.emplace_back([&, t] {
      std::string key = "w" + std::to_string(t);
      for (int64_t step = 0; !done; ++step) {
        Status st = Log(id, key, step, static_cast<double>(step));
        if (st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert({key, step});
        } else {
          failed++;
        }
      }
    });
  }
  const Fault faults[] = {Fault::kDiskFull, Fault::kWriteError, Fault::kSyncError};
  for (int round = 0; round < 9; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    InjectFault(faults[round % 3], round * 3);  // a different call each round
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    ClearFault();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  done = true;
  for (auto& th : writers) th.join();
  EXPECT_GT(failed.load(), 0) << "no fault was reached";
  EXPECT_GT(acked.size(), 50u);
  ExpectAllKept(id, acked);
}

}  // namespace
}  // namespace loupe
