#include "store/wal_checkpointer.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace loupe {

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteDb> db, int64_t passive_frames,
                                 int64_t restart_frames)
    : db_(std::move(db)),
      passive_frames_(passive_frames),
      restart_frames_(restart_frames),
      thread_([this] { Loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void WalCheckpointer::Watch(SqliteDb& writer) { sqlite3_wal_hook(writer.raw(), &OnCommit, this); }

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  c->frames_ = frames;
  if (frames >= c->passive_frames_) {
    {
      MutexLock lock(c->mu_);
      c->wake_ = true;
    }
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  for (;;) {
    {
      MutexLock lock(mu_);
      // Also look once a second: a hook call can race the previous checkpoint.
      if (!wake_ && !stopping_) cv_.wait_for(mu_, std::chrono::seconds(1));
      if (stopping_) return;
      wake_ = false;
    }
    // Past the restart threshold the writer checkpoints; a passive checkpoint running
    // then would hold the checkpoint lock and make the restart fail at once.
    const int64_t frames = frames_.load();
    if (frames < passive_frames_ || frames >= restart_frames_) continue;
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    int64_t held_back = 0;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && failures_logged_.Allow(held_back)) {
      spdlog::warn("checkpoint: passive checkpoint failed: {} ({} similar lines held back)", sqlite3_errmsg(db_->raw()),
                   held_back);
    }
    spdlog::trace("checkpoint: passive, {} of {} WAL frames copied", done, log);
    // At most 20 passive checkpoints a second: each one reads what it copies.
    MutexLock lock(mu_);
    if (!stopping_) cv_.wait_for(mu_, std::chrono::milliseconds(50));
  }
}

void WalCheckpointer::AfterCommit(SqliteDb& writer) {
  int64_t frames = frames_.load();
  if (frames < restart_frames_ + restart_backoff_) return;
  // Writes wait while a restart waits for readers: keep that short, and after a miss
  // let the WAL grow a little before the next try.
  {
    MutexLock lock(mu_);
    gate_closed_ = true;
  }
  sqlite3_busy_timeout(writer.raw(), 250);
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(writer.raw(), nullptr, SQLITE_CHECKPOINT_RESTART, &log, &done);
  sqlite3_busy_timeout(writer.raw(), kBusyTimeoutMs);
  {
    MutexLock lock(mu_);
    gate_closed_ = false;
  }
  gate_cv_.notify_all();
  if (rc == SQLITE_OK) {
    frames_ = 0;  // the next commit rewinds the WAL
    restart_backoff_ = 0;
    spdlog::debug("checkpoint: restart, {} WAL frames copied", done);
  } else {
    restart_backoff_ = frames - restart_frames_ + restart_frames_ / 4;
    spdlog::debug("checkpoint: the WAL holds {} frames and readers kept a restart from finishing: {}", frames,
                  sqlite3_errmsg(writer.raw()));
  }
}

void WalCheckpointer::WaitAtGate() {
  MutexLock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (gate_closed_ && gate_cv_.wait_until(mu_, deadline) != std::cv_status::timeout) {
  }
}

}  // namespace loupe
