#include "store/group_commit_writer.h"

#include <spdlog/spdlog.h>

#include <cassert>
#include <utility>

#include "store/sqlite_db.h"

namespace loupe {

template <typename Connection>
GroupCommitWriter<Connection>::GroupCommitWriter(std::unique_ptr<Connection> db, size_t max_weight_per_commit,
                                     std::function<void()> on_rollback, Opener reopen,
                                     AfterCommit after_commit)
    : db_(std::move(db)),
      max_weight_(max_weight_per_commit),
      on_rollback_(std::move(on_rollback)),
      reopen_(std::move(reopen)),
      after_commit_(std::move(after_commit)),
      thread_([this] { Loop(); }) {}

template <typename Connection>
GroupCommitWriter<Connection>::~GroupCommitWriter() { Stop(); }

template <typename Connection>
Status GroupCommitWriter<Connection>::Run(Op op, size_t weight) {
  std::future<Status> fut;
  {
    MutexLock lock(mu_);
    if (stopping_) return Status::Unavailable("the server is shutting down");
    queue_.push_back(Pending{std::move(op), weight, {}});
    fut = queue_.back().done.get_future();
  }
  cv_.notify_one();
  return fut.get();
}

template <typename Connection>
void GroupCommitWriter<Connection>::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

template <typename Connection>
size_t GroupCommitWriter<Connection>::Queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

template <typename Connection>
Status GroupCommitWriter<Connection>::Health() const {
  MutexLock lock(mu_);
  return broken_;
}

template <typename Connection>
void GroupCommitWriter<Connection>::Loop() {
  for (;;) {
    std::deque<Pending> group;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) cv_.wait(mu_);
      if (queue_.empty()) return;  // stopping and drained
      size_t weight = 0;
      while (!queue_.empty() && (group.empty() || weight + queue_.front().weight <= max_weight_)) {
        weight += queue_.front().weight;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
  }
}

template <typename Connection>
void GroupCommitWriter<Connection>::RolledBack() {
  if (on_rollback_) on_rollback_();
}

template <typename Connection>
void GroupCommitWriter<Connection>::SetBroken(const Status& st) {
  // While a fault lasts every transaction fails: one line a second at most.
  ++failures_in_a_row_;
  int64_t held_back = 0;
  if (failures_logged_.Allow(held_back)) {
    spdlog::error("writer: transaction failed ({} in a row, {} lines held back); the writer reopens the database "
                  "before the next one: {}", failures_in_a_row_, held_back, st.message());
  }
  MutexLock lock(mu_);
  broken_ = st;
}

template <typename Connection>
Status GroupCommitWriter<Connection>::Recover() {
  {
    MutexLock lock(mu_);
    if (broken_.ok()) return Status::Ok();
  }
  if (db_ && db_->InTransaction()) {
    Status rb = db_->Exec("ROLLBACK");
    if (!rb.ok()) spdlog::warn("writer: rollback before recovery failed: {}", rb.message());
  }
  RolledBack();
  if (reopen_) {
    db_.reset();  // close first: a reopen recovers the WAL from what is on disk
    Result<std::unique_ptr<Connection>> fresh = reopen_();
    if (!fresh.ok()) {
      spdlog::warn("writer: reopening the database failed: {}", fresh.status().message());
      return fresh.status();
    }
    db_ = std::move(*fresh);
  }
  return Status::Ok();  // healthy again once a transaction commits
}

template <typename Connection>
Status GroupCommitWriter<Connection>::RunOps(std::deque<Pending>& group, std::vector<Status>& results) {
  for (Pending& p : group) {
    LOUPE_RETURN_IF_ERROR(db_->Exec("SAVEPOINT op"));
    Status st;
    try {
      st = p.op(*db_);
    } catch (const std::exception& e) {
      st = Status::Internal(std::string("write failed: ") + e.what());
    }
    // SQLite rolls a whole transaction back by itself after some errors (a full disk,
    // an I/O error): the earlier operations are gone too, so none may be acknowledged.
    if (!db_->InTransaction()) {
      return st.ok() ? Status::Internal("the transaction was rolled back by the database") : st;
    }
    if (st.ok()) {
      LOUPE_RETURN_IF_ERROR(db_->Exec("RELEASE op"));
    } else {
      LOUPE_RETURN_IF_ERROR(db_->Exec("ROLLBACK TO op"));
      LOUPE_RETURN_IF_ERROR(db_->Exec("RELEASE op"));
      // Caches may describe rows this operation created and the rollback removed; the
      // next operation of the same group must not build on them.
      RolledBack();
    }
    results.push_back(std::move(st));
  }
  return db_->Exec("COMMIT");
}

template <typename Connection>
void GroupCommitWriter<Connection>::CommitGroup(std::deque<Pending>& group) {
  std::vector<Status> results;
  results.reserve(group.size());
  Status failed = Recover();
  if (failed.ok()) {
    failed = db_->Exec("BEGIN IMMEDIATE");
    if (failed.ok()) failed = RunOps(group, results);
    if (!failed.ok()) {
      if (db_->InTransaction()) {
        Status rb = db_->Exec("ROLLBACK");
        if (!rb.ok()) spdlog::warn("writer: rollback failed (recovery retries it): {}", rb.message());
      }
      RolledBack();
      SetBroken(failed);
    }
  }
  if (!failed.ok()) results.assign(group.size(), failed);
  assert(results.size() == group.size());
  for (size_t i = 0; i < group.size(); ++i) group[i].done.set_value(std::move(results[i]));
  if (!failed.ok()) return;
  if (failures_in_a_row_ > 0) {
    int64_t held_back = 0;
    if (recoveries_logged_.Allow(held_back)) {
      spdlog::info("writer: recovered; commits succeed again after {} failed transaction(s)", failures_in_a_row_);
    }
    failures_in_a_row_ = 0;
    MutexLock lock(mu_);
    broken_ = Status::Ok();
  }
  if (after_commit_) after_commit_(*db_);
}

template class GroupCommitWriter<SqliteDb>;

}  // namespace loupe
