// GroupCommitWriter: the one thread that writes to the database.
//
// Callers hand it an operation and block until the transaction holding it commits.
// Whatever operations are waiting when the writer wakes run in one transaction, each
// inside its own savepoint (a failing operation rolls back alone), then a single
// COMMIT makes all of them durable. Under load batches grow by themselves, so the
// fsync cost is shared by more requests. Thread-safe; the operations themselves run
// on the writer thread only and own the connection while they run.
//
// When the transaction itself fails (BEGIN, a savepoint, COMMIT, or SQLite rolling the
// whole transaction back after an I/O error or a full disk), every operation of the
// group fails and the writer is "broken": before it runs anything again it rolls back,
// drops its caches and reopens the connection, as LevelDB refuses writes after a sync
// error until the database is reopened. Nothing is acknowledged that was not committed.
//
// The writer knows nothing of SQLite: it is a template over its connection, which
// needs `Status Exec(const std::string&)` (BEGIN IMMEDIATE, SAVEPOINT, RELEASE,
// ROLLBACK TO, COMMIT, ROLLBACK: standard SQL, PostgreSQL's too) and
// `bool InTransaction() const`. group_commit_writer.cc instantiates it for SqliteDb
// (SqliteWriter); a PostgreSQL store instantiates it for its libpq connection.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace loupe {

template <typename Connection>
class GroupCommitWriter {
 public:
  using Op = std::function<Status(Connection&)>;
  using Opener = std::function<Result<std::unique_ptr<Connection>>()>;
  using AfterCommit = std::function<void(Connection&)>;

  // `on_rollback` runs on the writer thread right after any work was rolled back
  // (one operation, or a whole transaction), so caches built from uncommitted state
  // are dropped before the next operation runs. `reopen` makes a fresh connection
  // when the writer recovers from a failed transaction; without it the old one is kept.
  // `after_commit` runs on the writer thread after each committed group has been
  // acknowledged, before the next group starts (the WAL's restart checkpoint).
  GroupCommitWriter(std::unique_ptr<Connection> db, size_t max_weight_per_commit,
                    std::function<void()> on_rollback, Opener reopen = nullptr,
                    AfterCommit after_commit = nullptr);
  ~GroupCommitWriter();

  // Runs `op` in the next group commit and returns once it is durable (or failed).
  // `weight` (e.g. the number of points) bounds how much one commit carries.
  [[nodiscard]] Status Run(Op op, size_t weight = 1);
  // Commits what is queued, then stops; later Run() calls fail with Unavailable.
  void Stop();

  // Operations waiting for the writer (for tests and logs).
  size_t Queued() const;
  // OK while healthy; after a failed transaction, the error until the writer recovers.
  Status Health() const;

 private:
  struct Pending {
    Op op;
    size_t weight;
    std::promise<Status> done;
  };
  void Loop();
  void CommitGroup(std::deque<Pending>& group);
  // Runs the group's operations inside one open transaction. Returns a non-OK status
  // when the transaction itself failed (every result is then that status).
  Status RunOps(std::deque<Pending>& group, std::vector<Status>& results);
  // Rolls back, drops caches and reopens the connection. Writer thread only.
  Status Recover();
  void RolledBack();
  void SetBroken(const Status& st);

  std::unique_ptr<Connection> db_;  // writer thread only
  size_t max_weight_;
  std::function<void()> on_rollback_;
  Opener reopen_;
  AfterCommit after_commit_;
  int failures_in_a_row_ = 0;  // writer thread only
  LogLimiter failures_logged_{1};
  LogLimiter recoveries_logged_{1};
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  Status broken_ GUARDED_BY(mu_);
  std::thread thread_;
};

class SqliteDb;
extern template class GroupCommitWriter<SqliteDb>;
using SqliteWriter = GroupCommitWriter<SqliteDb>;

}  // namespace loupe
