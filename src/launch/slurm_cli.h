// Slurm through its command line tools (Debian's slurm-client, 22.05 and later): submit a
// batch job, read its state, signal and cancel it, and read its accounting from the job
// completion log (`sacct -c`, which needs no slurmdbd). The tools find the cluster as they
// always do (SLURM_CONF, /etc/slurm). Parsing is in free functions so it is tested on the
// tools' real output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "launch/program_runner.h"

namespace loupe::launch {

struct SlurmSubmit {
  std::string script;  // the batch script's path
  std::string job_name;
  std::string workdir;  // --chdir
  std::string stdout_path, stderr_path;  // appended to (--open-mode=append: a requeue keeps the first run's log)
  std::vector<std::string> env;  // the job's whole environment (sbatch --export=ALL passes it on)
  int cpus = 1;
  double memory_gb = 0;  // 0: the partition's default
  int gpus = 0;
  std::string gpu_type;  // "": any
  std::string partition, account, qos;
  double time_minutes = 0;  // --time, rounded up; 0: the partition's default
  int signal_seconds = 0;   // --signal=B:USR1@N when there is a time limit; 0: none
  std::string comment;      // --comment: the mark the submission is found by if its answer is lost
};

// sbatch's arguments (without the program): --parsable, or --test-only to ask the scheduler
// whether it could run the job without submitting it.
std::vector<std::string> SbatchArgs(const SlurmSubmit& s, bool test_only);

// The batch script every Loupe job is submitted with. It runs the command (LOUPE_COMMAND,
// by bash -c, in LOUPE_WORKDIR) in the background in a session of its own and waits for it, so a
// signal to the batch shell is handled at once: USR1 (Slurm's warning before the time
// limit, or "checkpoint now") asks the script for a checkpoint through LOUPE_CONTROL_FILE;
// TERM is passed on to the command's process group. The exit status goes to
// $LOUPE_JOB_DIR/slurm-$SLURM_JOB_ID.exit ("exit N" / "signal N", as the local executor
// writes it).
std::string SlurmBatchScript();

// A job name Slurm shows and `scontrol -o` prints safely: no spaces or '=', at most 64 bytes.
std::string SlurmJobName(const std::string& name);

struct SlurmJobInfo {
  std::string id;
  std::string state;   // PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  std::string reason;  // why it is pending ("Resources", "BeginTime"), "None"
  int restarts = 0;    // requeues so far
  int64_t start_time = 0;  // micros; 0 when Slurm does not know (yet)
  int64_t end_time = 0;
  int exit_code = 0;  // the batch script's (ExitCode=N:S)
  int exit_signal = 0;
  std::string nodes;
};

// One line of `squeue -O JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,RestartCnt:|,NodeList:`
// (`SqueueFormat()`); nullopt when it is not one.
std::optional<SlurmJobInfo> ParseSqueueLine(const std::string& line);
const char* SqueueFormat();
// One line of `scontrol show job -o`; nullopt when it is not a job.
std::optional<SlurmJobInfo> ParseScontrolJob(const std::string& line);
// A Slurm time ("2026-12-03T13:00:15", the controller's local time) in micros; 0 for
// "Unknown", "None" or anything else.
int64_t SlurmTime(const std::string& text);
// A state in which the job will not run again.
bool SlurmStateEnded(const std::string& state);

// One run of a job (a requeued job has several) from `sacct -c --parsable2`.
struct SlurmRun {
  std::string state;
  int64_t start_time = 0, end_time = 0;  // micros
  int exit_code = 0, exit_signal = 0;
};
// `sacct -c -j ID --parsable2 --noheader -o JobID,State,Start,End,ExitCode` output.
std::vector<SlurmRun> ParseSacctRuns(const std::string& text, const std::string& job_id);

// The ids as comma-separated lists of at most `max_bytes` each: one argument may hold at
// most 128 KiB (MAX_ARG_STRLEN), so many jobs are asked about in several squeue calls.
inline constexpr size_t kMaxIdListBytes = 64 * 1024;
std::vector<std::string> IdLists(const std::vector<std::string>& ids, size_t max_bytes);

class SlurmCli {
 public:
  // `bin_dir` holds sbatch & co. ("": PATH).
  explicit SlurmCli(std::string bin_dir = "") : bin_dir_(std::move(bin_dir)) {}

  // sbatch is installed and the controller answers (`scontrol ping`); the reason when not.
  Status Available() const;
  // The job id.
  Result<std::string> Submit(const SlurmSubmit& s) const;
  // OK when the scheduler could run it; InvalidArgument with Slurm's own words when not.
  Status TestOnly(const SlurmSubmit& s) const;
  // These jobs as the controller knows them, by id (one squeue call for all of Loupe's
  // jobs); a job missing from it ended more than MinJobAge ago (Runs tells how). No exit
  // codes here: Job(id) has them.
  Result<std::map<std::string, SlurmJobInfo>> Jobs(const std::vector<std::string>& ids) const;
  // One job with its exit code (`scontrol show job`); nullopt when Slurm no longer knows it.
  Result<std::optional<SlurmJobInfo>> Job(const std::string& id) const;
  // `scancel --batch --signal=SIG`: the batch shell only (its trap decides what it means).
  Status SignalBatch(const std::string& id, const std::string& signal) const;
  // `scancel`: TERM to every process, KILL after the cluster's KillWait.
  Status Cancel(const std::string& id) const;
  // This user's jobs in the queue (pending or running) whose comment is `comment`.
  Result<std::vector<std::string>> JobsWithComment(const std::string& comment) const;
  // The job's runs, oldest first, from the completion log (`sacct -c`, no slurmdbd needed),
  // else from accounting (`sacct -D`, with slurmdbd); empty when neither has it.
  Result<std::vector<SlurmRun>> Runs(const std::string& id) const;

 private:
  std::string Tool(const char* name) const { return bin_dir_.empty() ? name : bin_dir_ + "/" + name; }
  Result<ProgramOutput> Sbatch(const SlurmSubmit& s, bool test_only) const;
  Status JobsIn(const std::string& list, std::map<std::string, SlurmJobInfo>& jobs) const;
  std::string bin_dir_;
};

}  // namespace loupe::launch
