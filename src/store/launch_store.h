// LaunchStore: training jobs Loupe launches (issue 14) — the job (its spec, state and the
// process of its current segment), its segments (each start, restart or resume is one:
// cost and elapsed time are summed over them), its events (the state timeline), and the
// hourly prices local jobs are charged at. Thread-safe; writes are durable when they
// return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct LaunchJob {
  int64_t id = 0;
  std::string name;
  std::string project;
  int64_t experiment_id = 0;  // the run the job logs to
  std::string spec_json;      // the resolved spec (launch/job_spec.h)
  std::string executor;       // local, slurm
  // queued, pending (in Slurm's queue), running, stopping, finished, failed, stopped, lost
  std::string external_id;  // the scheduler's id of the current submission (Slurm job id); "" for local
  std::string state = "queued";
  std::string stop_reason;  // user, budget_time, budget_cost ("" when not stopped)
  std::string exit_text;    // "exit code 3", "killed by SIGKILL", "" while running
  std::string message;      // why it failed to start, or was lost
  std::string created_by;
  int64_t create_time = 0;  // micros
  int64_t start_time = 0;   // the first segment's start
  int64_t end_time = 0;
  int restarts = 0;
  std::string gpus;  // assigned GPU indices, "0,1"
  std::string dir;   // <data>/launch/<id>: snapshot, logs, exit files
  // The current segment's process (0 when none).
  int segment = 0;  // 1-based; 0 before the first start
  int64_t pid = 0;
  int64_t pid_start = 0;  // clock ticks since boot (launch/local_process.h)
  int64_t shim_pid = 0;
  int alerts = 0;  // budget alerts given: 1 = 50%, 2 = 80%, 4 = 100%
  int64_t stop_requested = 0;  // micros: when a stop was asked (0: none)
  int checkpoint_requests = 0; // how many times the script was asked to save a checkpoint
  std::string resume_from;     // the checkpoint the current segment started from ("name:vN"), "" for none
};

struct LaunchSegment {
  int64_t job_id = 0;
  int seq = 0;
  int64_t start_time = 0;  // micros
  int64_t end_time = 0;    // 0 while it runs
  double rate_per_hour = 0;  // US dollars
  std::string end_text;      // "exit code 0", "killed by SIGTERM", "lost"
  std::string external_id;   // the Slurm job this was a run of ("" for local)
};

struct LaunchEvent {
  int64_t job_id = 0;
  int64_t time = 0;  // micros
  std::string kind;  // launched, started, stopping, exited, restarted, budget, alert, lost, adopted
  std::string message;
};

class LaunchStore {
 public:
  virtual ~LaunchStore() = default;
  // Stores a new job (id, dir left to fill) with a "launched" event; returns its id.
  virtual Result<int64_t> CreateLaunchJob(const LaunchJob& job) = 0;
  // Replaces every field of the stored job but its id and creation (a resume may change the
  // spec's budget); with `event`,
  // adds it in the same transaction.
  virtual Status UpdateLaunchJob(const LaunchJob& job, const std::optional<LaunchEvent>& event = std::nullopt) = 0;
  virtual Result<LaunchJob> GetLaunchJob(int64_t id) = 0;
  // Newest first, at most `limit`.
  virtual Result<std::vector<LaunchJob>> ListLaunchJobs(int64_t limit) = 0;
  // Jobs queued, pending, running or stopping: what a restart of Loupe must look after.
  virtual Result<std::vector<LaunchJob>> ActiveLaunchJobs() = 0;
  // The job that logs to this run, if any.
  virtual Result<std::optional<int64_t>> LaunchJobOfExperiment(int64_t experiment_id) = 0;

  // A segment starts (with the job's new state in the same transaction) or ends.
  virtual Status StartLaunchSegment(const LaunchSegment& seg, const LaunchJob& job, const LaunchEvent& event) = 0;
  virtual Status EndLaunchSegment(int64_t job_id, int seq, int64_t end_time, const std::string& end_text) = 0;
  // Replaces a segment's times with the scheduler's own account of them (Slurm's job
  // completion log), which is what the cluster bills.
  virtual Status SetLaunchSegmentTimes(int64_t job_id, int seq, int64_t start_time, int64_t end_time) = 0;
  // Replaces a segment's hourly rate with the one the provider bills (a RunPod pod's `cost`,
  // known once it runs; the segment opened at the listed price).
  virtual Status SetLaunchSegmentRate(int64_t job_id, int seq, double rate_per_hour) = 0;
  virtual Result<std::vector<LaunchSegment>> ListLaunchSegments(int64_t job_id) = 0;
  virtual Result<std::vector<LaunchEvent>> ListLaunchEvents(int64_t job_id) = 0;

  // US dollars per hour by resource: "cpu" (per core) or a GPU type ("H100"), per unit.
  virtual Result<std::map<std::string, double>> LaunchPrices() = 0;
  virtual Status SetLaunchPrices(const std::map<std::string, double>& prices) = 0;

  // How far a job's log file is stored: the highest seq a console write of `client` to
  // the experiment was applied with (seq is the byte offset the write ended at); 0 for none.
  virtual Result<int64_t> ConsoleOffset(int64_t experiment_id, const std::string& client) = 0;
};

}  // namespace loupe
