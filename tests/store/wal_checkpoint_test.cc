// The WAL stays bounded while overlapping readers never leave a gap (SQLite's
// "checkpoint starvation"), because checkpoints run off the writer thread and escalate.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/temp_dir.h"
#include "common/time_util.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace loupe {
namespace {

TEST(WalCheckpoint, WalStaysBoundedUnderReadersThatNeverStop) {
  TempDir dir;
  StoreOptions o;
  o.data_dir = dir.path();
  o.sync_full = false;
  o.wal_checkpoint_bytes = 256 << 10;
  o.wal_limit_bytes = 1 << 20;
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  NewExperiment e;
  e.project = "p";
  int64_t id = (*store)->CreateOrResumeExperiment(e)->experiment.id;

  // Two readers, each holding a snapshot 20 ms and starting 10 ms apart: at every
  // moment some reader pins an old snapshot.
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      auto db = SqliteDb::Open(dir.path() + "/loupe.db", true, false);
      ASSERT_TRUE(db.ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * r));
      while (!done) {
        ASSERT_TRUE((*db)->Exec("BEGIN; SELECT count(*) FROM chunks;").ok());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ASSERT_TRUE((*db)->Exec("COMMIT").ok());
      }
    });
  }
  const std::string wal = dir.path() + "/loupe.db-wal";
  uintmax_t biggest = 0;
  for (int i = 0; i < 1500; ++i) {
    MetricBatch b;
    b.experiment_id = id;
    b.ts = NowMicros();
    for (int k = 0; k < 8; ++k) b.points.push_back({"k" + std::to_string(k), i, i * 0.5});
    ASSERT_TRUE((*store)->WriteMetrics(b).ok());
    std::error_code ec;
    biggest = std::max(biggest, std::filesystem::file_size(wal, ec));
  }
  done = true;
  for (auto& t : readers) t.join();
  // Without escalation this WAL reaches tens of MB; a restart checkpoint holds it near
  // the limit (plus what commits add while the restart waits for readers).
  EXPECT_LT(biggest, uintmax_t{4} << 20) << "the WAL grew to " << biggest << " bytes";
  SeriesQuery q;
  auto s = (*store)->GetSeries(id, "k7");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*store)->QuerySeries(s->id, q)->count, 1500);
}

}  // namespace
}  // namespace loupe
