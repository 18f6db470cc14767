#include "store/group_commit_writer.h"
#include "store/sqlite_db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/temp_dir.h"

namespace loupe {
namespace {

std::unique_ptr<SqliteDb> OpenDb(const TempDir& dir) {
  auto db = SqliteDb::Open(dir.path() + "/w.db", false, false);
  EXPECT_TRUE(db.ok());
  EXPECT_TRUE((*db)->Exec("CREATE TABLE t(x INTEGER)").ok());
  return std::move(*db);
}

int64_t Count(const TempDir& dir) {
  auto db = SqliteDb::Open(dir.path() + "/w.db", true, false);
  SqliteStmt& q = (*db)->Prepare("SELECT count(*) FROM t");
  int64_t n = q.Step() ? q.Int(0) : -1;
  EXPECT_TRUE(q.Done().ok());
  return n;
}

TEST(GroupCommitWriter, FailingOpRollsBackAloneInItsGroup) {
  TempDir dir;
  std::atomic<int> rollbacks{0};
  SqliteWriter w(OpenDb(dir), 1000, [&] { rollbacks++; });
  std::vector<std::thread> ts;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 16; ++i) {
    ts.emplace_back([&, i] {
      Status st = w.Run([i](SqliteDb& db) -> Status {
        LOUPE_RETURN_IF_ERROR(db.Exec("INSERT INTO t VALUES(" + std::to_string(i) + ")"));
        return i % 4 == 0 ? Status::InvalidArgument("no") : Status::Ok();
      });
      (st.ok() ? ok : failed)++;
    });
  }
  for (auto& t : ts) t.join();
  w.Stop();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(failed.load(), 4);
  EXPECT_GE(rollbacks.load(), 1);
  EXPECT_EQ(Count(dir), 12);
}

TEST(GroupCommitWriter, StopCommitsQueuedWorkThenRefusesMore) {
  TempDir dir;
  SqliteWriter w(OpenDb(dir), 1000, nullptr);
  ASSERT_TRUE(w.Run([](SqliteDb& db) { return db.Exec("INSERT INTO t VALUES(1)"); }).ok());
  w.Stop();
  Status st = w.Run([](SqliteDb& db) { return db.Exec("INSERT INTO t VALUES(2)"); });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(Count(dir), 1);
}

}  // namespace
}  // namespace loupe
