// GroupCommitWriter: the one thread that writes to the database.
//
// Callers hand it an operation and block until the transaction holding it commits.
// Whatever operations are waiting when the writer wakes run in one transaction, each
// inside its own savepoint (a failing operation rolls back alone), then a single
// COMMIT makes all of them durable. Under load batches grow by themselves, so the
// fsync cost is shared by more requests. Thread-safe; the operations themselves run
// on the writer thread only and own the connection while they run.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace loupe {

class GroupCommitWriter {
 public:
  using Op = std::function<Status(SqliteDb&)>;

  // `on_rollback` runs on the writer thread whenever some work was rolled back, so
  // caches built from uncommitted state can be dropped.
  GroupCommitWriter(std::unique_ptr<SqliteDb> db, size_t max_weight_per_commit,
                    std::function<void()> on_rollback);
  ~GroupCommitWriter();

  // Runs `op` in the next group commit and returns once it is durable (or failed).
  // `weight` (e.g. the number of points) bounds how much one commit carries.
  Status Run(Op op, size_t weight = 1);
  // Commits what is queued, then stops; later Run() calls fail with Unavailable.
  void Stop();

 private:
  struct Pending {
    Op op;
    size_t weight;
    std::promise<Status> done;
  };
  void Loop();
  void CommitGroup(std::deque<Pending>& group);

  std::unique_ptr<SqliteDb> db_;
  size_t max_weight_;
  std::function<void()> on_rollback_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace loupe
