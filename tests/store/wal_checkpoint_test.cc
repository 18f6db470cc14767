// The WAL stays bounded while overlapping readers never leave a gap (SQLite's
// "checkpoint starvation"), because checkpoints run off the writer thread and escalate.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/temp_dir.h"
#include "common/time_util.h"
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

  // Two readers through the store, back to back with no pause: each query holds a
  // snapshot, and one starts the instant the other ends.
  MetricBatch first;
  first.experiment_id = id;
  first.ts = NowMicros();
  first.points = {{"k0", 0, 0.0}};
  ASSERT_TRUE((*store)->WriteMetrics(first).ok());
  const int64_t series = (*store)->GetSeries(id, "k0")->id;
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        ASSERT_TRUE((*store)->QuerySeries(series, SeriesQuery{}).ok());
        reads++;
      }
    });
  }
  const std::string wal = dir.path() + "/loupe.db-wal";
  uintmax_t biggest = 0;
  for (int i = 0; i < 1000; ++i) {
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
  EXPECT_GT(reads.load(), 100);
  // Without the restart this WAL grows to tens of MB; with it the WAL stays near the
  // 1 MB limit (plus what commits add while a restart waits for readers).
  EXPECT_LT(biggest, uintmax_t{4} << 20) << "the WAL grew to " << biggest << " bytes";
  SeriesQuery q;
  auto s = (*store)->GetSeries(id, "k7");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*store)->QuerySeries(s->id, q)->count, 1000);
}

}  // namespace
}  // namespace loupe
