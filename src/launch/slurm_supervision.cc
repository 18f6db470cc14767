// LaunchService's Slurm executor: the spec checked by the scheduler itself, the submission,
// and the job followed through the states the scheduler reports (one `scontrol show job`
// a second for all of Loupe's jobs). A segment is a run of the submission: it opens when
// Slurm starts it (at Slurm's start time, so time waiting in the queue is not charged) and
// closes when it ends or is requeued; at the end the segments' times are replaced by the
// completion log's (`sacct -c`), which is what the cluster accounts.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <regex>

#include <spdlog/spdlog.h>

#include "common/display_text.h"
#include "common/file_util.h"
#include "common/time_util.h"
#include "launch/active_job.h"
#include "launch/budget.h"
#include "launch/local_process.h"

namespace loupe::launch {

namespace {

bool RunsNow(const std::string& state) {
  return state == "RUNNING" || state == "CONFIGURING" || state == "SIGNALING" || state == "STAGE_OUT" ||
         state == "SUSPENDED" || state == "RESIZING";
}

// Each submission's wall-time limit: the spec's, else what is left of the time budget plus
// the grace periods (Loupe stops the job at the cap itself; the limit holds if Loupe is down).
double TimeLimitMinutes(const JobSpec& spec, double used_seconds) {
  if (spec.slurm.time_minutes > 0) return spec.slurm.time_minutes;
  if (spec.budget.max_minutes <= 0) return 0;
  const double grace = (spec.checkpoint.set ? spec.checkpoint.grace_seconds : 0) + spec.stop_grace_seconds;
  return std::max(1.0, spec.budget.max_minutes - used_seconds / 60 + grace / 60 + 1);
}

SlurmSubmit SubmitFor(const JobSpec& spec, double used_seconds) {
  SlurmSubmit s;
  s.job_name = spec.name;
  s.cpus = spec.resources.cpus;
  s.memory_gb = spec.resources.memory_gb;
  s.gpus = spec.resources.gpus;
  s.gpu_type = spec.resources.gpu_type;
  s.partition = spec.slurm.partition;
  s.account = spec.slurm.account;
  s.qos = spec.slurm.qos;
  s.time_minutes = TimeLimitMinutes(spec, used_seconds);
  s.signal_seconds = spec.slurm.signal_seconds;
  return s;
}

// The runs that ran: a job cancelled while it waited has a row with no time in it.
std::vector<SlurmRun> RanRuns(const std::vector<SlurmRun>& runs) {
  std::vector<SlurmRun> ran;
  for (const SlurmRun& r : runs) {
    if (r.start_time > 0 && r.end_time >= r.start_time && !(r.state == "CANCELLED" && r.end_time == r.start_time)) {
      ran.push_back(r);
    }
  }
  return ran;
}

// sbatch reads '%' as a pattern, and a backslash turns its patterns (%j) off.
bool PathSbatchCanTake(const std::string& path) {
  return path.find('%') == std::string::npos && path.find('\\') == std::string::npos;
}

}  // namespace

// The batch script, written once where sbatch reads it (Slurm keeps its own copy of it per
// submission); checks and submissions share it.
Result<std::string> LaunchService::BatchScript() {
  const std::string path = options_.data_dir + "/launch/slurm-batch.sh";
  std::lock_guard<std::mutex> lock(script_mu_);
  if (!script_written_) {
    LOUPE_RETURN_IF_ERROR(WriteFileDurably(path, SlurmBatchScript(), "Slurm's batch script"));
    if (chmod(path.c_str(), 0755) != 0) return Status::Internal("cannot make " + path + " executable");
    script_written_ = true;
  }
  return path;
}

std::vector<SpecProblem> LaunchService::CheckSlurm(const JobSpec& spec) {
  std::vector<SpecProblem> problems;
  if (Status up = slurm_.Available(); !up.ok()) {
    problems.push_back({"executor", "Slurm cannot be used from this server: " + up.message()});
    return problems;
  }
  static const std::regex kSlurmName(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$)");
  if (!spec.resources.gpu_type.empty() && !std::regex_match(spec.resources.gpu_type, kSlurmName)) {
    problems.push_back({"resources.gpu_type", "must be a Slurm GRES type (letters, digits, _ . -)"});
    return problems;
  }
  if (!PathSbatchCanTake(options_.data_dir)) {
    problems.push_back({"executor", "Loupe's data folder has a '%' or '\\' in its path, which sbatch reads as patterns"});
    return problems;
  }
  Result<std::string> script = BatchScript();
  if (!script.ok()) {
    problems.push_back({"executor", script.status().message()});
    return problems;
  }
  // The scheduler says whether it could run this, without submitting it.
  SlurmSubmit s = SubmitFor(spec, 0);
  s.script = *script;
  s.workdir = spec.workdir;
  s.stdout_path = s.stderr_path = "/dev/null";
  if (Status ok = slurm_.TestOnly(s); !ok.ok()) {
    const std::string& why = ok.message();
    const std::string field = why.find("partition") != std::string::npos ? "slurm.partition"
                              : why.find("gres") != std::string::npos   ? "resources.gpus"
                              : why.find("account") != std::string::npos ? "slurm.account"
                              : why.find("qos") != std::string::npos || why.find("QOS") != std::string::npos
                                  ? "slurm.qos"
                                  : "resources";
    problems.push_back({field, "Slurm cannot run it: " + why});
  }
  return problems;
}

void LaunchService::CancelMarked(Active& a, int64_t now, const std::string& mark, const std::string& why) {
  Result<std::vector<std::string>> left = slurm_.JobsWithComment(mark);
  if (!left.ok()) {
    spdlog::warn("launch: job {}: cannot look for Slurm jobs marked {}: {}", a.job.id, mark, left.status().message());
    return;
  }
  for (const std::string& id : *left) {
    const Status st = slurm_.Cancel(id);
    Event(a, now, "cancelled", "Slurm job " + id + " (" + why + ")" + (st.ok() ? " cancelled" : ": " + st.message()));
  }
}

Status LaunchService::SubmitSlurm(Active& a, int64_t now) {
  LaunchJob& j = a.job;
  auto fail = [&](const Status& why) { return FailStart(a, now, why); };
  if (!PathSbatchCanTake(j.dir)) {
    return fail(Status::InvalidArgument("the job's folder has a '%' or '\\' in its path, which sbatch reads as patterns"));
  }
  Result<std::string> script = BatchScript();
  if (!script.ok()) return fail(script.status());
  Result<std::map<std::string, double>> prices = store_.LaunchPrices();
  a.slurm_rate = prices.ok() ? LocalRate(a.spec.resources, a.spec.resources.gpu_type, *prices) : 0;
  SlurmSubmit s = SubmitFor(a.spec, UseOf(a.segments, now).elapsed_seconds);
  s.script = *script;
  s.workdir = j.dir + "/workdir";
  s.stdout_path = j.dir + "/slurm-%j.out";
  s.stderr_path = j.dir + "/slurm-%j.err";
  if (Status st = ResolveEnvSecrets(a); !st.ok()) return fail(st);
  Result<std::string> token = MintJobToken(a, "Slurm");
  if (!token.ok()) return fail(token.status());
  a.api_key = *token;
  a.job.segment += 1;  // the environment names the segment its first run will be
  s.env = JobEnvironment(a);
  a.job.segment -= 1;
  s.env.push_back("LOUPE_COMMAND=" + a.Command());
  s.env.push_back("LOUPE_WORKDIR=" + s.workdir);
  s.env.push_back("LOUPE_JOB_DIR=" + j.dir);
  // Each submission carries a mark of its own: one whose answer was lost (sbatch killed at
  // its timeout, Loupe killed before it stored the id) is found in the queue and cancelled,
  // not left running unwatched beside the one that replaces it.
  s.comment = "loupe-" + InstallationId() + "-job-" + std::to_string(j.id) + "-" + std::to_string(j.segment + 1);
  CancelMarked(a, now, s.comment, "left by a submission whose answer was lost");
  Result<std::string> id = slurm_.Submit(s);
  if (!id.ok()) {
    CancelMarked(a, now, s.comment, "submitted although sbatch failed");
    return fail(id.status());
  }
  j.external_id = *id;
  a.submitted_at = NowMicros();
  j.state = j.stop_requested ? "stopping" : "pending";
  j.message = "waiting in Slurm's queue";
  j.exit_text.clear();
  a.slurm_restarts = 0;
  a.slurm_error.clear();
  a.kill_at = 0;
  a.budget_wait_until = 0;
  a.resuming = false;
  std::string what = "Slurm job " + *id;
  if (s.time_minutes > 0) {
    char limit[64];
    std::snprintf(limit, sizeof limit, ", time limit %lld min", static_cast<long long>(std::ceil(s.time_minutes)));
    what += limit;
  }
  if (!j.resume_from.empty()) what += ", from checkpoint " + j.resume_from;
  a.out = std::make_unique<LogTail>(LogFile(j, "out"), 0, 0);
  a.err = std::make_unique<LogTail>(LogFile(j, "err"), 1, 0);
  return store_.UpdateLaunchJob(j, LaunchEvent{j.id, now, "submitted", what});
}

void LaunchService::OpenSegmentAt(Active& a, int64_t now, int64_t start, double rate, const std::string& what,
                                 const std::string& message, const std::string& state) {
  LaunchJob& j = a.job;
  int64_t floor = j.create_time;
  if (!a.segments.empty()) floor = std::max(floor, a.segments.back().end_time);
  if (start <= 0 || start > now) start = now;
  start = std::max(start, floor);
  LaunchJob next = j;
  next.segment = j.segment + 1;
  next.state = j.stop_requested ? "stopping" : state;
  next.message.clear();
  if (next.start_time == 0) next.start_time = start;
  LaunchSegment seg{j.id, next.segment, start, 0, rate, "", j.external_id};
  if (Status s = store_.StartLaunchSegment(seg, next, LaunchEvent{j.id, now, what, message}); !s.ok()) {
    spdlog::warn("launch: job {}: cannot record its start: {}", j.id, s.message());
  }
  a.job = next;
  a.segments.push_back(seg);
  a.next_checkpoint_at =
      a.spec.checkpoint.every_minutes > 0 ? now + static_cast<int64_t>(a.spec.checkpoint.every_minutes * 60e6) : 0;
}

void LaunchService::OpenSlurmSegment(Active& a, int64_t now, int64_t start, const std::string& nodes) {
  const LaunchJob& j = a.job;
  // Slurm's start time is in whole seconds.
  const bool again = !a.segments.empty() && a.segments.back().external_id == j.external_id;
  std::string msg = (again ? "after a requeue: Slurm job " : "Slurm job ") + j.external_id + (nodes.empty() ? "" : " on " + nodes);
  if (a.slurm_rate > 0) msg += ", " + FormatDollars(a.slurm_rate) + "/hour";
  const std::string what = j.segment == 0 ? "started" : again ? "started again" : "restarted";
  OpenSegmentAt(a, now, start, a.slurm_rate, what, msg);
}

void LaunchService::CloseSlurmSegment(Active& a, int64_t now, int64_t end, const std::string& why) {
  LaunchJob& j = a.job;
  LaunchSegment& seg = a.segments.back();
  seg.end_time = std::max(seg.start_time, std::min(end, now));
  seg.end_text = why;
  (void)store_.EndLaunchSegment(j.id, seg.seq, seg.end_time, why);
  if (j.state == "running") j.state = "pending";
  j.message = "waiting in Slurm's queue";
  // The run Slurm requeued may have written an exit status; it is not the next run's (a
  // next run that Slurm fails to start never writes one).
  std::error_code ec;
  std::filesystem::remove(LogFile(j, "exit"), ec);
  Event(a, now, "requeued", why);
}

void LaunchService::FollowSlurm(Active& a, int64_t now, const SlurmPoll& poll) {
  LaunchJob& j = a.job;
  if (a.submitted_at >= poll.started) return;  // submitted after the poll began: not in it yet
  const Result<std::map<std::string, SlurmJobInfo>>& jobs = poll.jobs;
  if (!jobs.ok()) {  // the controller is down or slow: the job is not lost for that
    if (a.slurm_error != jobs.status().message()) {
      a.slurm_error = jobs.status().message();
      spdlog::warn("launch: job {}: cannot read Slurm's state: {}", j.id, a.slurm_error);
    }
    return;
  }
  a.slurm_error.clear();
  const auto it = jobs->find(j.external_id);
  if (it == jobs->end()) {
    // Slurm forgot it (MinJobAge after it ended, or while Loupe was down): accounting tells
    // how it ended, else the batch script's exit file.
    Result<std::vector<SlurmRun>> runs = slurm_.Runs(j.external_id);
    if (runs.ok() && !runs->empty() && SlurmStateEnded(runs->back().state)) {
      const SlurmRun& r = runs->back();
      SlurmEnded(a, now, r.state, std::make_pair(r.exit_code, r.exit_signal), r.start_time, r.end_time);
      return;
    }
    if (std::optional<ExitStatus> st = ReadExitFile(LogFile(j, "exit"))) {
      struct stat info {};
      const int64_t written = stat(LogFile(j, "exit").c_str(), &info) == 0
                                  ? int64_t{info.st_mtim.tv_sec} * 1000000 + info.st_mtim.tv_nsec / 1000
                                  : now;
      SlurmEnded(a, now, st->code == 0 ? "COMPLETED" : "FAILED", std::make_pair(st->code, st->signal), 0, written);
      return;
    }
    j.message = "Slurm no longer knows job " + j.external_id +
                (runs.ok() ? " and its completion log has no end for it" : " (" + runs.status().message() + ")");
    Ended(a, now, now, "lost", false, -1);
    return;
  }
  const SlurmJobInfo& info = it->second;
  if (SlurmStateEnded(info.state)) {
    SlurmEnded(a, now, info.state, std::nullopt, info.start_time, info.end_time);
    return;
  }
  auto open = [&] {
    return !a.segments.empty() && a.segments.back().end_time == 0 && a.segments.back().external_id == j.external_id;
  };
  const bool requeued = a.slurm_restarts >= 0 && info.restarts > a.slurm_restarts;
  a.slurm_restarts = info.restarts;
  if (requeued && open()) {
    CloseSlurmSegment(a, now, now, "requeued by Slurm (restart " + std::to_string(info.restarts) + ")");
  } else if (requeued) {
    CatchUpSlurmRuns(a, now, false);  // it ran and was requeued between two polls
  }
  if (RunsNow(info.state)) {
    if (!open()) OpenSlurmSegment(a, now, info.start_time, info.nodes);
    return;
  }
  if (info.state == "COMPLETING") return;  // its processes are ending; the next state says how
  if (open()) CloseSlurmSegment(a, now, now, "requeued by Slurm");
  const std::string waiting = "waiting in Slurm's queue (" + info.reason + ")";
  if (j.message != waiting) {
    j.message = waiting;
    (void)store_.UpdateLaunchJob(j);
  }
}

void LaunchService::CatchUpSlurmRuns(Active& a, int64_t now, bool final) {
  const std::string& id = a.job.external_id;
  Result<std::vector<SlurmRun>> runs = slurm_.Runs(id);
  if (!runs.ok()) return;
  const std::vector<SlurmRun> ran = RanRuns(*runs);
  size_t known = 0;
  for (const LaunchSegment& seg : a.segments) known += seg.external_id == id ? 1 : 0;
  for (size_t i = known; i < ran.size(); ++i) {
    OpenSlurmSegment(a, now, ran[i].start_time, "");
    if (!(final && i + 1 == ran.size())) CloseSlurmSegment(a, now, ran[i].end_time, "requeued by Slurm");
  }
}

void LaunchService::SlurmEnded(Active& a, int64_t now, const std::string& state,
                               std::optional<std::pair<int, int>> exit, int64_t start, int64_t end) {
  LaunchJob& j = a.job;
  const auto open_now = [&] {
    return !a.segments.empty() && a.segments.back().end_time == 0 && a.segments.back().external_id == j.external_id;
  };
  if (!open_now()) {
    // It started (and maybe was requeued) between two polls: its runs from the completion
    // log, else the one run scontrol knows of.
    CatchUpSlurmRuns(a, now, true);
    if (!open_now() && start > 0 && state != "CANCELLED") OpenSlurmSegment(a, now, start, "");
  }
  const std::optional<ExitStatus> st = ReadExitFile(LogFile(j, "exit"));
  std::string text;
  int code = 1;  // what the restart policy sees: not 0 is a failure it may restart after
  if (state == "COMPLETED" || state == "FAILED") {
    if (st) {
      text = st->Text();
      code = st->code;
    } else {
      if (!exit) {  // squeue has no exit codes: scontrol does
        Result<std::optional<SlurmJobInfo>> info = slurm_.Job(j.external_id);
        exit = info.ok() && *info ? std::make_pair((*info)->exit_code, (*info)->exit_signal)
                                  : std::make_pair(state == "COMPLETED" ? 0 : 1, 0);
      }
      const auto [exit_code, exit_signal] = *exit;
      ExitStatus from_slurm{exit_signal ? -1 : exit_code, exit_signal};
      text = from_slurm.Text();
      code = from_slurm.code;
    }
  } else if (state == "CANCELLED") {
    text = "cancelled in Slurm" + (st ? "; " + st->Text() : std::string());
    if (j.stop_requested == 0) {  // scancel from outside Loupe: a user's stop, not a failure
      j.stop_requested = now;
      j.stop_reason = "user";
    }
  } else if (state == "TIMEOUT") {
    text = "Slurm's time limit reached (TIMEOUT)";
  } else if (state == "OUT_OF_MEMORY") {
    text = "out of memory (Slurm: OUT_OF_MEMORY)";
  } else {
    text = "Slurm: " + state;  // NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE
  }
  const bool open = !a.segments.empty() && a.segments.back().end_time == 0;
  const int64_t floor = open ? a.segments.back().start_time : 0;
  if (end <= 0 || end > now || end < floor) end = now;
  const std::string submission = j.external_id;
  Ended(a, now, end, text, true, code);
  // Slurm writes its completion log as the job ends: a run may not be in it yet.
  if (!SlurmAccounted(j.id, submission)) unaccounted_.push_back({j.id, submission, now + 60'000'000});
  if (!a.ended) {  // restarted as a new submission: its budget counts the corrected times
    if (Result<std::vector<LaunchSegment>> segs = store_.ListLaunchSegments(j.id); segs.ok()) a.segments = *segs;
  }
}

bool LaunchService::SlurmAccounted(int64_t job_id, const std::string& submission) {
  // The completion log's times replace Loupe's when it has one run for each segment.
  Result<std::vector<SlurmRun>> runs = slurm_.Runs(submission);
  Result<std::vector<LaunchSegment>> all = store_.ListLaunchSegments(job_id);
  if (!runs.ok() || !all.ok()) return false;
  const std::vector<SlurmRun> ran = RanRuns(*runs);
  std::vector<const LaunchSegment*> segs;
  for (const LaunchSegment& seg : *all) {
    if (seg.external_id == submission) segs.push_back(&seg);
  }
  if (segs.empty()) return true;
  if (segs.size() != ran.size()) return false;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i]->start_time != ran[i].start_time || segs[i]->end_time != ran[i].end_time) {
      (void)store_.SetLaunchSegmentTimes(job_id, segs[i]->seq, ran[i].start_time, ran[i].end_time);
    }
  }
  return true;
}

void LaunchService::AccountEndedSlurmJobs(int64_t now) {
  for (auto it = unaccounted_.begin(); it != unaccounted_.end();) {
    if (SlurmAccounted(it->job_id, it->submission) || now >= it->give_up_at) {
      it = unaccounted_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace loupe::launch
