#include "launch/slurm_cli.h"

#include <cmath>
#include <ctime>
#include <map>
#include <sstream>

#include "launch/program_runner.h"

namespace loupe::launch {

namespace {

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "3:0" -> {3, 0}; "0:9" -> {0, 9}.
void ParseExitCode(const std::string& text, int& code, int& signal) {
  const size_t colon = text.find(':');
  try {
    code = std::stoi(text.substr(0, colon));
    signal = colon == std::string::npos ? 0 : std::stoi(text.substr(colon + 1));
  } catch (...) {
    code = signal = 0;
  }
}

}  // namespace

std::string SlurmJobName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (u <= ' ' || c == '=' || u >= 0x7f) ? '_' : c;
    if (out.size() >= 64) break;
  }
  return out.empty() ? "loupe-job" : out;
}

std::vector<std::string> SbatchArgs(const SlurmSubmit& s, bool test_only) {
  std::vector<std::string> a = {test_only ? "--test-only" : "--parsable",
                                "--job-name=" + SlurmJobName(s.job_name),
                                "--chdir=" + s.workdir,
                                "--output=" + s.stdout_path,
                                "--error=" + s.stderr_path,
                                "--open-mode=append",
                                "--requeue",
                                "--export=ALL",
                                "--nodes=1",
                                "--ntasks=1",
                                "--cpus-per-task=" + std::to_string(s.cpus)};
  if (!s.comment.empty()) a.push_back("--comment=" + s.comment);
  if (s.memory_gb > 0) a.push_back("--mem=" + std::to_string(static_cast<int64_t>(std::ceil(s.memory_gb * 1024))) + "M");
  if (s.gpus > 0) a.push_back("--gres=gpu:" + (s.gpu_type.empty() ? "" : s.gpu_type + ":") + std::to_string(s.gpus));
  if (!s.partition.empty()) a.push_back("--partition=" + s.partition);
  if (!s.account.empty()) a.push_back("--account=" + s.account);
  if (!s.qos.empty()) a.push_back("--qos=" + s.qos);
  if (s.time_minutes > 0) a.push_back("--time=" + std::to_string(static_cast<int64_t>(std::ceil(s.time_minutes))));
  // Also without --time: the partition's default limit gets the warning too.
  if (s.signal_seconds > 0) a.push_back("--signal=B:USR1@" + std::to_string(s.signal_seconds));
  a.push_back(s.script);
  return a;
}

std::string SlurmBatchScript() {
  return R"SH(#!/bin/bash
# Loupe's batch script: the job's command runs in the background so that signals reach
# this shell at once (a foreground child would hold them until it ends).
ask_checkpoint() {
  local ctl="$LOUPE_CONTROL_FILE" n
  n=$(sed -n 's/.*"checkpoint_request": *\([0-9]*\).*/\1/p' "$ctl" 2>/dev/null)
  n=$(( ${n:-0} + 1 ))
  # The segment it was asked in: a script still starting in it answers it (see the SDK).
  printf '{"checkpoint_request": %d, "reason": "%s", "segment": %d}\n' "$n" "$1" "${LOUPE_JOB_SEGMENT:-0}" > "$ctl.tmp" &&
    mv -f "$ctl.tmp" "$ctl"
}
trap 'ask_checkpoint "Slurm signal (time limit near, or checkpoint now)"' USR1
trap '[ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null' TERM
exitf="$LOUPE_JOB_DIR/slurm-$SLURM_JOB_ID.exit"
rm -f "$exitf"  # a requeued run starts again; only the last run's status counts
cd "$LOUPE_WORKDIR" || { echo "loupe: cannot enter $LOUPE_WORKDIR" >&2; echo "exit 1" > "$exitf"; exit 1; }
# bash -c runs a single command in its own place (dash would stay as its parent, and die of
# the TERM meant for the command, hiding the command's own exit status).
setsid /bin/bash -c "$LOUPE_COMMAND" &
child=$!
while :; do
  wait "$child"
  kill -0 "$child" 2>/dev/null && continue  # a trap interrupted the wait; the command still runs
  wait "$child"; rc=$?  # its own status (bash keeps it), not that of a wait a trap interrupted
  break
done
if [ "$rc" -gt 128 ]; then echo "signal $((rc - 128))" > "$exitf.tmp"; else echo "exit $rc" > "$exitf.tmp"; fi
mv -f "$exitf.tmp" "$exitf"
exit "$rc"
)SH";
}

int64_t SlurmTime(const std::string& text) {
  std::tm tm{};
  int y, mo, d, h, mi, s;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  tm.tm_isdst = -1;
  const time_t t = mktime(&tm);
  return t < 0 ? 0 : int64_t{t} * 1000000;
}

bool SlurmStateEnded(const std::string& state) {
  static const char* kEnded[] = {"COMPLETED", "FAILED",    "CANCELLED", "TIMEOUT",  "NODE_FAIL",
                                 "PREEMPTED", "BOOT_FAIL", "DEADLINE",  "OUT_OF_MEMORY"};
  for (const char* e : kEnded) {
    if (state == e) return true;
  }
  return false;
}

std::optional<SlurmJobInfo> ParseScontrolJob(const std::string& line) {
  // Key=Value pairs separated by spaces; a word without '=' belongs to the value before it.
  std::map<std::string, std::string> kv;
  std::string last;
  std::istringstream in(line);
  for (std::string word; in >> word;) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      if (!last.empty()) kv[last] += " " + word;
      continue;
    }
    last = word.substr(0, eq);
    if (!kv.count(last)) kv[last] = word.substr(eq + 1);
  }
  if (!kv.count("JobId") || !kv.count("JobState")) return std::nullopt;
  SlurmJobInfo info;
  info.id = kv["JobId"];
  info.state = kv["JobState"];
  info.reason = kv["Reason"];
  try {
    info.restarts = kv.count("Restarts") ? std::stoi(kv["Restarts"]) : 0;
  } catch (...) {
    info.restarts = 0;
  }
  info.start_time = SlurmTime(kv["StartTime"]);
  info.end_time = SlurmTime(kv["EndTime"]);
  ParseExitCode(kv["ExitCode"], info.exit_code, info.exit_signal);
  info.nodes = kv["NodeList"] == "(null)" ? "" : kv["NodeList"];
  return info;
}

std::vector<SlurmRun> ParseSacctRuns(const std::string& text, const std::string& job_id) {
  std::vector<SlurmRun> runs;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream cols(TrimSpace(line));
    for (std::string c; std::getline(cols, c, '|');) f.push_back(c);
    if (f.size() < 5 || f[0] != job_id) continue;  // the header, steps (ID.batch), other jobs
    SlurmRun r;
    r.state = f[1];
    if (const size_t sp = r.state.find(' '); sp != std::string::npos) r.state.resize(sp);  // "CANCELLED by 0"
    r.start_time = SlurmTime(f[2]);
    r.end_time = SlurmTime(f[3]);
    ParseExitCode(f[4], r.exit_code, r.exit_signal);
    runs.push_back(r);
  }
  return runs;
}

Status SlurmCli::Available() const {
  ProgramRun run;
  run.argv = {Tool("scontrol"), "ping"};
  run.timeout_ms = 10000;
  Result<ProgramOutput> out = RunProgram(run);
  if (!out.ok()) return Status::Unavailable("Slurm's tools are not installed on this server (" + out.status().message() + ")");
  if (out->exit_code != 0 || out->out.find("UP") == std::string::npos) {
    return Status::Unavailable("Slurm's controller does not answer: " + out->Message());
  }
  return Status::Ok();
}

Result<ProgramOutput> SlurmCli::Sbatch(const SlurmSubmit& s, bool test_only) const {
  ProgramRun run;
  run.argv = {Tool("sbatch")};
  for (std::string& a : SbatchArgs(s, test_only)) run.argv.push_back(std::move(a));
  run.env = s.env;
  run.timeout_ms = 15000;
  return RunProgram(run);
}

Result<std::string> SlurmCli::Submit(const SlurmSubmit& s) const {
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, Sbatch(s, false));
  // --parsable prints "ID" or "ID;cluster".
  std::string id = TrimSpace(out.out);
  if (const size_t semi = id.find(';'); semi != std::string::npos) id.resize(semi);
  if (out.exit_code != 0 || !AllDigits(id)) {
    return Status::Unavailable("sbatch refused the job: " + (out.timed_out ? std::string("it did not answer") : out.Message()));
  }
  return id;
}

Status SlurmCli::TestOnly(const SlurmSubmit& s) const {
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, Sbatch(s, true));
  if (out.exit_code == 0) return Status::Ok();
  std::string why = out.timed_out ? "sbatch did not answer" : out.Message();
  for (const char* prefix : {"sbatch: error: ", "allocation failure: "}) {
    for (size_t at; (at = why.find(prefix)) != std::string::npos;) why.erase(at, std::char_traits<char>::length(prefix));
  }
  // Its first line says it ("invalid partition specified: gpuz"); the next ones repeat it.
  if (const size_t nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
  return Status::InvalidArgument(why);
}

const char* SqueueFormat() { return "JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,RestartCnt:|,NodeList:"; }

std::optional<SlurmJobInfo> ParseSqueueLine(const std::string& line) {
  std::vector<std::string> f;
  std::istringstream cols(TrimSpace(line));
  for (std::string c; std::getline(cols, c, '|');) f.push_back(TrimSpace(c));
  if (f.size() < 6 || !AllDigits(f[0]) || f[1].empty()) return std::nullopt;
  SlurmJobInfo info;
  info.id = f[0];
  info.state = f[1];
  info.reason = f[2];
  info.start_time = SlurmTime(f[3]);
  info.end_time = SlurmTime(f[4]);
  try {
    info.restarts = std::stoi(f[5]);
  } catch (...) {
    info.restarts = 0;
  }
  info.nodes = f.size() > 6 ? f[6] : "";
  return info;
}

Result<std::map<std::string, SlurmJobInfo>> SlurmCli::Jobs(const std::vector<std::string>& ids) const {
  std::map<std::string, SlurmJobInfo> jobs;
  for (const std::string& id : ids) {
    if (!AllDigits(id)) return Status::InvalidArgument("not a Slurm job id: " + id);
  }
  for (const std::string& list : IdLists(ids, kMaxIdListBytes)) {
    LOUPE_RETURN_IF_ERROR(JobsIn(list, jobs));
  }
  return jobs;
}

Status SlurmCli::JobsIn(const std::string& list, std::map<std::string, SlurmJobInfo>& jobs) const {
  ProgramRun run;
  run.argv = {Tool("squeue"), "-h", "-t", "all", "-j", list, "-O", SqueueFormat()};
  run.timeout_ms = 5000;
  run.max_output = 16 << 20;
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
  if (out.exit_code != 0) {
    // Every id unknown (all ended long ago) is an error to squeue; to us it is an answer.
    if (out.Message().find("Invalid job id") != std::string::npos) return Status::Ok();
    return Status::Unavailable("squeue: " + (out.timed_out ? std::string("no answer") : out.Message()));
  }
  if (out.truncated) return Status::Unavailable("squeue printed more than Loupe reads");
  std::istringstream in(out.out);
  for (std::string line; std::getline(in, line);) {
    if (std::optional<SlurmJobInfo> info = ParseSqueueLine(line)) jobs[info->id] = *info;
  }
  return Status::Ok();
}

std::vector<std::string> IdLists(const std::vector<std::string>& ids, size_t max_bytes) {
  std::vector<std::string> lists;
  for (const std::string& id : ids) {
    if (lists.empty() || lists.back().size() + 1 + id.size() > max_bytes) {
      lists.push_back(id);
    } else {
      lists.back() += "," + id;
    }
  }
  return lists;
}

Result<std::optional<SlurmJobInfo>> SlurmCli::Job(const std::string& id) const {
  if (!AllDigits(id)) return Status::InvalidArgument("not a Slurm job id: " + id);
  ProgramRun run;
  run.argv = {Tool("scontrol"), "show", "job", "-o", id};
  run.timeout_ms = 5000;
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
  if (out.exit_code != 0) {
    if (out.Message().find("Invalid job id") != std::string::npos) return std::optional<SlurmJobInfo>();
    return Status::Unavailable("scontrol: " + (out.timed_out ? std::string("no answer") : out.Message()));
  }
  return ParseScontrolJob(TrimSpace(out.out));
}

Status SlurmCli::SignalBatch(const std::string& id, const std::string& signal) const {
  if (!AllDigits(id)) return Status::InvalidArgument("not a Slurm job id: " + id);
  ProgramRun run;
  run.argv = {Tool("scancel"), "--batch", "--signal=" + signal, id};
  run.timeout_ms = 5000;
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
  if (out.exit_code != 0) return Status::Unavailable("scancel: " + out.Message());
  return Status::Ok();
}

Status SlurmCli::Cancel(const std::string& id) const {
  if (!AllDigits(id)) return Status::InvalidArgument("not a Slurm job id: " + id);
  ProgramRun run;
  run.argv = {Tool("scancel"), id};
  run.timeout_ms = 5000;
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
  if (out.exit_code != 0) return Status::Unavailable("scancel: " + out.Message());
  return Status::Ok();
}

Result<std::vector<std::string>> SlurmCli::JobsWithComment(const std::string& comment) const {
  ProgramRun run;
  run.argv = {Tool("squeue"), "--me", "--noheader", "--format=%i|%k"};
  run.timeout_ms = 10000;
  LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
  if (out.exit_code != 0) return Status::Unavailable("squeue: " + (out.timed_out ? std::string("no answer") : out.Message()));
  std::vector<std::string> ids;
  std::istringstream lines(out.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    const std::string id = TrimSpace(line.substr(0, bar));
    if (AllDigits(id) && TrimSpace(line.substr(bar + 1)) == comment) ids.push_back(id);
  }
  return ids;
}

Result<std::vector<SlurmRun>> SlurmCli::Runs(const std::string& id) const {
  if (!AllDigits(id)) return Status::InvalidArgument("not a Slurm job id: " + id);
  // -S: from long ago (sacct's default window is today only); -D: every run of a requeued job.
  std::string why;
  for (const char* source : {"-c", "-D"}) {
    ProgramRun run;
    run.argv = {Tool("sacct"), source, "-j", id, "-S", "2000-01-01", "--parsable2", "--noheader", "-o",
                "JobID,State,Start,End,ExitCode"};
    run.timeout_ms = 10000;
    LOUPE_ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(run));
    if (out.exit_code == 0) {
      std::vector<SlurmRun> runs = ParseSacctRuns(out.out, id);
      if (!runs.empty()) return runs;
    } else {
      why += (why.empty() ? "" : "; ") + std::string("sacct ") + source + ": " + out.Message();
    }
  }
  if (why.find("sacct -c") != std::string::npos && why.find("sacct -D") != std::string::npos) {
    return Status::Unavailable(why);
  }
  return std::vector<SlurmRun>();
}

}  // namespace loupe::launch
