#include "jobs/job_queue.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "common/bounded_json.h"

namespace loupe::jobs {

JobQueue::JobQueue(JobStore& store, JobQueueOptions options) : store_(store), options_(options) {}

JobQueue::~JobQueue() { Stop(); }

void JobQueue::Register(const std::string& type, JobType job_type) { handlers_[type] = std::move(job_type); }

const JobType* JobQueue::Find(const std::string& type) const {
  auto it = handlers_.find(type);
  return it == handlers_.end() ? nullptr : &it->second;
}

bool JobQueue::Knows(const std::string& type) const { return handlers_.count(type) > 0; }

std::vector<std::string> JobQueue::Types() const {
  std::vector<std::string> out;
  for (const auto& [type, h] : handlers_) out.push_back(type);
  return out;
}

Status JobQueue::Start() {
  Result<int> failed = store_.FailInterruptedJobs(
      "interrupted: Loupe stopped while this job was running; retry it to run it again");
  if (!failed.ok()) return failed.status();
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
  return Status::Ok();
}

void JobQueue::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

Result<int64_t> JobQueue::Enqueue(const std::string& type, const nlohmann::json& kwargs) {
  if (!Knows(type)) {
    std::string known;
    for (const auto& t : Types()) known += (known.empty() ? "" : ", ") + t;
    return Status::InvalidArgument("unknown job_type \"" + type + "\" (known: " + known + ")");
  }
  if (!kwargs.is_object()) return Status::InvalidArgument("kwargs must be an object");
  const JobType& jt = *Find(type);
  Result<int64_t> id = jt.enqueue ? jt.enqueue(type, kwargs) : store_.EnqueueJob(type, kwargs.dump());
  if (id.ok()) Wake();
  return id;
}

void JobQueue::Wake() {
  {
    MutexLock lock(mu_);
    ++pending_wakeups_;
  }
  cv_.notify_one();
}

Status JobQueue::Cancel(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(JobRecord job, store_.GetJob(id));
  const JobType* jt = Find(job.type);
  if (job.status == WorkStatus::kNotStarted) {
    Status cancelled = store_.CancelJob(id);
    if (cancelled.ok()) {
      if (jt && jt->released) jt->released(ParseBoundedJson(job.kwargs_json));
      return Status::Ok();
    }
    // A worker claimed it between the read and the cancel: stop it as a running job.
    if (cancelled.code() != Code::kConflict) return cancelled;
    LOUPE_ASSIGN_OR_RETURN(job, store_.GetJob(id));
    if (job.status != WorkStatus::kStarted) return cancelled;
  }
  if (job.status == WorkStatus::kStarted) {
    if (!jt || !jt->stoppable) {
      return Status::Conflict("job " + std::to_string(id) + " is running and " + job.type +
                              " cannot be stopped midway");
    }
    // Also before the worker has registered it as running: it checks when it runs,
    // and job ids are never reused, so a request that comes too late stays harmless.
    MutexLock lock(mu_);
    stop_requested_.insert(id);
    return Status::Ok();
  }
  return store_.CancelJob(id);  // the store says why a finished job cannot be cancelled
}

Status JobQueue::Retry(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(JobRecord job, store_.GetJob(id));
  if (job.status != WorkStatus::kError && job.status != WorkStatus::kCancelled) {
    return Status::Conflict("job " + std::to_string(id) + " is " + WorkStatusName(job.status) +
                            "; only failed or cancelled jobs can be retried");
  }
  const JobType* jt = Find(job.type);
  const nlohmann::json kwargs = ParseBoundedJson(job.kwargs_json);
  {
    MutexLock lock(mu_);
    stop_requested_.erase(id);  // a cancel that came as the last attempt ended
  }
  LOUPE_RETURN_IF_ERROR(jt && jt->requeue ? jt->requeue(kwargs, id) : store_.RetryJob(id));
  Wake();
  return Status::Ok();
}

void JobQueue::Work() {
  while (true) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
    }
    Result<std::optional<JobRecord>> claimed = store_.ClaimJob();
    if (!claimed.ok()) spdlog::warn("job queue: cannot claim a job: {}", claimed.status().message());
    if (!claimed.ok() || !*claimed) {
      MutexLock lock(mu_);
      if (!stopping_ && pending_wakeups_ == 0) cv_.wait_for(mu_, std::chrono::milliseconds(options_.poll_ms));
      if (pending_wakeups_ > 0) --pending_wakeups_;
      continue;
    }
    const JobRecord& job = **claimed;
    spdlog::info("job {} ({}) started, attempt {}", job.id, job.type, job.attempts);
    const auto started = std::chrono::steady_clock::now();
    nlohmann::json kwargs = ParseBoundedJson(job.kwargs_json);
    const JobType* jt = Find(job.type);
    {
      MutexLock lock(mu_);
      running_.insert(job.id);
    }
    auto stop_requested = [this, id = job.id] {
      MutexLock lock(mu_);
      return stop_requested_.count(id) > 0;
    };
    Result<nlohmann::json> result = Status::Internal("no handler for job type " + job.type);
    if (jt) {
      try {
        result = jt->run(kwargs, stop_requested);
      } catch (const std::exception& e) {
        result = Status::Internal(std::string("unexpected error: ") + e.what());
      }
    }
    bool stopped = false;
    {
      MutexLock lock(mu_);
      running_.erase(job.id);
      stopped = stop_requested_.erase(job.id) > 0;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // A cancel that came after the work was done is too late: the job finished.
    if (stopped && !result.ok()) {
      spdlog::info("job {} ({}) cancelled after {:.1f} s", job.id, job.type, secs);
      Finish(job.id, WorkStatus::kCancelled, "cancelled while running", "null");
    } else if (result.ok()) {
      spdlog::info("job {} ({}) finished in {:.1f} s", job.id, job.type, secs);
      Finish(job.id, WorkStatus::kFinished, "", result->dump());
    } else {
      spdlog::warn("job {} ({}) failed after {:.1f} s: {}", job.id, job.type, secs, result.status().message());
      Finish(job.id, WorkStatus::kError, result.status().message(), "null");
    }
  }
}

void JobQueue::Finish(int64_t id, WorkStatus status, const std::string& error, const std::string& result) {
  // The writer refuses writes while it recovers from a failed disk (a full disk clears
  // when space is freed): retry for a while before leaving the job STARTED, which the
  // next start turns into ERROR "interrupted".
  for (int attempt = 0;; ++attempt) {
    Status st = store_.FinishJob(id, status, error, result);
    if (st.ok()) return;
    if (attempt == 10) {
      spdlog::error("job {}: could not be marked {} after {} tries: {}", id, WorkStatusName(status), attempt + 1,
                    st.message());
      return;
    }
    spdlog::warn("job {}: could not be marked {} ({}); retrying", id, WorkStatusName(status), st.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min(attempt, 5)));
  }
}

}  // namespace loupe::jobs
