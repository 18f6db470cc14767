// WalCheckpointer: moves WAL checkpoints off the writer thread and keeps the WAL
// bounded while readers never stop.
//
// The writer connection's autocheckpoint is replaced by a WAL hook: after each commit
// SQLite tells it how many frames the WAL holds, and past `passive_frames` this class's
// thread runs a PASSIVE checkpoint (it never blocks anyone). Overlapping readers can
// keep a passive checkpoint from ever finishing ("checkpoint starvation" in SQLite's
// WAL docs), so past `restart_frames` the writer itself runs a RESTART checkpoint
// between two groups (AfterCommit). A restart needs a moment with no reader on an old
// snapshot, which back-to-back readers never leave (each takes the lock slot again the
// instant it lets go), so while it runs the store's new reads wait at a gate
// (WaitAtGate, at most 300 ms): the readers in flight finish, the restart copies the
// WAL, the next commit rewinds it and journal_size_limit truncates the file. On the
// writer thread because a restart must hold the write lock, which a writer committing
// back to back would otherwise never let another connection take.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/log.h"
#include "common/thread_annotations.h"
#include "store/sqlite_db.h"

namespace loupe {

class WalCheckpointer {
 public:
  WalCheckpointer(std::unique_ptr<SqliteDb> db, int64_t passive_frames, int64_t restart_frames);
  ~WalCheckpointer();

  // Registers the hook on the writer's connection (again after every reopen).
  void Watch(SqliteDb& writer);
  // On the writer thread between groups: the RESTART checkpoint when the WAL is too big.
  void AfterCommit(SqliteDb& writer);
  // Every read of the store passes here first: it waits while a restart runs.
  void WaitAtGate();

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Loop();

  std::unique_ptr<SqliteDb> db_;  // checkpoint thread only
  const int64_t passive_frames_;
  const int64_t restart_frames_;
  std::atomic<int64_t> frames_{0};
  int64_t restart_backoff_ = 0;
  LogLimiter failures_logged_{1};  // writer thread only: frames to wait for after a missed restart
  Mutex mu_;
  std::condition_variable_any cv_;
  bool wake_ GUARDED_BY(mu_) = false;
  bool gate_closed_ GUARDED_BY(mu_) = false;
  std::condition_variable_any gate_cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace loupe
