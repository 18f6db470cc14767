// JobStore: the persistent job queue.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/work_status.h"

namespace loupe {

// A job in the persistent queue. Status: NOT_STARTED (queued), STARTED, FINISHED,
// ERROR (with the error text) or CANCELLED.
struct JobRecord {
  int64_t id = 0;
  std::string type;
  std::string kwargs_json = "{}";
  WorkStatus status = WorkStatus::kNotStarted;
  std::string error;
  std::string result_json = "null";
  int64_t attempts = 0;
  int64_t create_time = 0;
  int64_t start_time = 0;
  int64_t finish_time = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // The job queue. Claim takes the oldest queued job and marks it STARTED in the same
  // transaction, so two workers never get the same job.
  virtual Result<int64_t> EnqueueJob(const std::string& type, const std::string& kwargs_json) = 0;
  virtual Result<std::optional<JobRecord>> ClaimJob() = 0;
  virtual Status FinishJob(int64_t id, WorkStatus status, const std::string& error,
                           const std::string& result_json) = 0;
  virtual Result<JobRecord> GetJob(int64_t id) = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(int limit) = 0;
  // NOT_STARTED -> CANCELLED; Conflict for a job already started or done.
  virtual Status CancelJob(int64_t id) = 0;
  // ERROR or CANCELLED -> NOT_STARTED; Conflict otherwise.
  virtual Status RetryJob(int64_t id) = 0;
  // At start-up: jobs left STARTED by a process that died become ERROR with `reason`.
  virtual Result<int> FailInterruptedJobs(const std::string& reason) = 0;
};

}  // namespace loupe
