// JobQueue: runs queued jobs on a fixed number of worker threads. Jobs live in the
// store, so queued jobs survive a restart and run afterwards; a job that was running
// when the process died is marked ERROR at start-up with the reason, and can be
// retried. A handler gets the job's kwargs and returns a JSON result or an error,
// which is kept as the job's error text.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace loupe::jobs {

using JobHandler = std::function<Result<nlohmann::json>(const nlohmann::json& kwargs)>;

struct JobQueueOptions {
  int workers = 2;
  int poll_ms = 1000;  // a worker also wakes at once on Enqueue
};

class JobQueue {
 public:
  JobQueue(Store& store, JobQueueOptions options);
  ~JobQueue();  // finishes the running jobs, leaves queued ones queued

  void Register(const std::string& type, JobHandler handler);
  bool Knows(const std::string& type) const;
  std::vector<std::string> Types() const;

  // Marks jobs interrupted by an earlier crash, then starts the workers.
  Status Start();
  void Stop();

  Result<int64_t> Enqueue(const std::string& type, const nlohmann::json& kwargs);
  Result<JobRecord> Get(int64_t id) { return store_.GetJob(id); }
  Result<std::vector<JobRecord>> List(int limit) { return store_.ListJobs(limit); }
  Status Cancel(int64_t id) { return store_.CancelJob(id); }
  Status Retry(int64_t id);

 private:
  void Work();

  Store& store_;
  JobQueueOptions options_;
  std::map<std::string, JobHandler> handlers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int pending_wakeups_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace loupe::jobs
