#include "store/group_commit_writer.h"

#include <utility>

namespace loupe {

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SqliteDb> db, size_t max_weight_per_commit,
                                     std::function<void()> on_rollback)
    : db_(std::move(db)),
      max_weight_(max_weight_per_commit),
      on_rollback_(std::move(on_rollback)),
      thread_([this] { Loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

Status GroupCommitWriter::Run(Op op, size_t weight) {
  std::future<Status> fut;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("the server is shutting down");
    queue_.push_back(Pending{std::move(op), weight, {}});
    fut = queue_.back().done.get_future();
  }
  cv_.notify_one();
  return fut.get();
}

void GroupCommitWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitWriter::Loop() {
  for (;;) {
    std::deque<Pending> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
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

void GroupCommitWriter::CommitGroup(std::deque<Pending>& group) {
  std::vector<Status> results;
  results.reserve(group.size());
  Status begin = db_->Exec("BEGIN IMMEDIATE");
  bool rolled_back = false;
  if (begin.ok()) {
    for (Pending& p : group) {
      db_->Exec("SAVEPOINT op");
      Status st;
      try {
        st = p.op(*db_);
      } catch (const std::exception& e) {
        st = Status::Internal(std::string("write failed: ") + e.what());
      }
      if (st.ok()) {
        db_->Exec("RELEASE op");
      } else {
        db_->Exec("ROLLBACK TO op; RELEASE op");
        rolled_back = true;
      }
      results.push_back(std::move(st));
    }
    Status commit = db_->Exec("COMMIT");
    if (!commit.ok()) {
      db_->Exec("ROLLBACK");
      rolled_back = true;
      for (Status& r : results) {
        if (r.ok()) r = commit;
      }
    }
  } else {
    rolled_back = true;
    results.assign(group.size(), begin);
  }
  if (rolled_back && on_rollback_) on_rollback_();
  for (size_t i = 0; i < group.size(); ++i) group[i].done.set_value(std::move(results[i]));
}

}  // namespace loupe
