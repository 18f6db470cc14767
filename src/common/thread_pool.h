// ThreadPool: a fixed set of threads running posted tasks in order, with a bounded
// queue. Post() refuses work beyond the bound instead of queueing without limit, so a
// flood of heavy requests is answered 503 rather than growing memory. Thread-safe;
// the destructor runs what is queued, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace loupe {

class ThreadPool {
 public:
  ThreadPool(size_t threads, size_t max_queued);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`; false (and `task` is not run) when max_queued tasks are waiting.
  [[nodiscard]] bool Post(std::function<void()> task);
  size_t threads() const { return threads_.size(); }

 private:
  void Loop();

  const size_t max_queued_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace loupe
