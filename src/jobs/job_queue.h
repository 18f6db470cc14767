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
#include <set>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/job_store.h"

namespace loupe::jobs {

// `stop_requested` turns true when the user cancels the job while it runs; handlers
// that can stop early ask it between steps and return whatever error they like (the
// job ends CANCELLED either way).
using JobHandler =
    std::function<Result<nlohmann::json>(const nlohmann::json& kwargs, const std::function<bool()>& stop_requested)>;

// A job type: its handler, and hooks for the records a job works on (a ModelJob's run
// follows its job: DELIVERED when queued, back to NOT_STARTED when cancelled).
struct JobType {
  JobHandler run;
  // Queues the job with its claim on what it works on, in one transaction, so a crash
  // cannot leave one without the other; an error refuses the job with that status.
  // Unset: the job is queued as it is.
  std::function<Result<int64_t>(const std::string& type, const nlohmann::json& kwargs)> enqueue;
  // The same for a retry: failed or cancelled job `job_id` queued again with its claim.
  std::function<Status(const nlohmann::json& kwargs, int64_t job_id)> requeue;
  // After a queued job is cancelled.
  std::function<void(const nlohmann::json& kwargs)> released;
  // Whether a running job of this type can be cancelled (its handler asks stop_requested).
  bool stoppable = false;
};

struct JobQueueOptions {
  int workers = 2;
  int poll_ms = 1000;  // a worker also wakes at once on Enqueue
};

class JobQueue {
 public:
  JobQueue(JobStore& store, JobQueueOptions options);
  ~JobQueue();  // finishes the running jobs, leaves queued ones queued

  void Register(const std::string& type, JobHandler handler) { Register(type, JobType{std::move(handler), {}, {}, {}, false}); }
  void Register(const std::string& type, JobType job_type);
  bool Knows(const std::string& type) const;
  std::vector<std::string> Types() const;

  // Marks jobs interrupted by an earlier crash, then starts the workers.
  Status Start();
  void Stop();

  Result<int64_t> Enqueue(const std::string& type, const nlohmann::json& kwargs);
  Result<JobRecord> Get(int64_t id) { return store_.GetJob(id); }
  Result<std::vector<JobRecord>> List(int limit) { return store_.ListJobs(limit); }
  // A queued job is cancelled at once; a running one of a stoppable type is asked to
  // stop and ends CANCELLED when its handler returns (Conflict for other types).
  Status Cancel(int64_t id);
  Status Retry(int64_t id);

 private:
  // Tells a waiting worker that a job was queued.
  void Wake();
  // Records how a job ended, retrying while the store is briefly unable to write.
  void Finish(int64_t id, WorkStatus status, const std::string& error, const std::string& result);
  void Work();

  JobStore& store_;
  JobQueueOptions options_;
  const JobType* Find(const std::string& type) const;

  std::map<std::string, JobType> handlers_;
  Mutex mu_;
  std::condition_variable_any cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  int pending_wakeups_ GUARDED_BY(mu_) = 0;
  std::set<int64_t> running_ GUARDED_BY(mu_);         // jobs this process is running
  std::set<int64_t> stop_requested_ GUARDED_BY(mu_);  // running jobs the user cancelled
  std::vector<std::thread> workers_;
};

}  // namespace loupe::jobs
