// What LaunchService keeps for each job it looks after, and where a job's files are; shared
// by the service's source files (launch_service.cc, slurm_supervision.cc), not a public API.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/display_text.h"
#include "launch/launch_service.h"
#include "launch/log_tail.h"
#include "launch/runpod_client.h"

namespace loupe::launch {

// A pod's log stream: lines arrive on the HTTP client's thread, the supervisor takes them.
struct PodLogs {
  std::mutex mu;
  std::deque<RunPodLogLine> lines;
  bool open = false;       // a stream is running
  bool full = false;       // lines arrived faster than they were stored: the rest is read again later
  std::string end_error;   // why the last stream ended ("" when it ended cleanly)
  std::shared_ptr<llm::OutboundCall> call;
};

struct LaunchService::Active {
  LaunchJob job;
  JobSpec spec;
  std::vector<LaunchSegment> segments;
  bool own_child = false;  // the shim is this Loupe's child (else found again after a restart)
  std::unique_ptr<LogTail> out, err;
  int64_t kill_at = 0;         // micros: SIGKILL then, if still running
  int64_t last_heartbeat = 0;
  int64_t gone_since = 0;      // a found-again job's process ended: its exit file is awaited
  bool ended = false;
  std::string log_error;  // why console lines are not being stored ("" while they are)
  std::string api_key;    // the key the job was given, kept out of its console
  std::map<std::string, std::string> secret_env;  // env_secrets' values, read at each start, kept out of the console
  // Storage mounts' credentials (LOUPE_MOUNT_<n>_*): variable -> (value, the secret's name).
  std::map<std::string, std::pair<std::string, std::string>> mount_env;

  // `text` with the job's key and secret values replaced by their names: a script printing
  // its environment must not show them to the run's readers.
  void HideSecrets(std::string& text) const {
    auto hide = [&](const std::string& value, const std::string& as) {
      if (value.size() < 4) return;  // too short to tell from ordinary text
      for (size_t at = 0; (at = text.find(value, at)) != std::string::npos; at += as.size()) text.replace(at, value.size(), as);
    };
    hide(api_key, "[LOUPE_API_KEY]");
    for (const auto& [k, v] : secret_env) hide(v, "[secret " + spec.env_secrets.at(k) + "]");
    for (const auto& [k, v] : mount_env) hide(v.first, "[secret " + v.second + "]");
  }
  // What a local or Slurm segment runs: the spec's command, or storage.sh (which runs it
  // between copying the job's S3 folders in and back).
  std::string Command() const {
    if (spec.mounts.empty()) return spec.command;
    return "exec /bin/bash " + ShellQuote(job.dir + "/storage.sh");
  }
  int64_t next_checkpoint_at = 0;  // micros: the policy's next timed request (0: none)
  int64_t budget_wait_until = 0;   // micros: a budget stop waits for its checkpoint until then
  int64_t newest_before = 0;       // the newest checkpoint's id when that checkpoint was asked
  int64_t announced_checkpoint = -1;  // the newest checkpoint's id said in the timeline (-1: not looked yet)
  int64_t next_announce = 0;          // micros: when to look for new checkpoints next
  int64_t stop_after_checkpoint = 0;  // micros: a user's "checkpoint, then stop" stops by then
  int64_t newest_before_stop = 0;     // the newest checkpoint's id when that stop was asked
  int64_t next_retention = 0;      // micros: when to apply keep_latest / keep_best next
  int64_t last_status_check = 0;   // micros: when the run's status was last read
  int64_t not_before = 0;          // micros: a restart waits for its backoff until then
  bool resuming = false;           // the next segment starts because a user resumed the job
  // Slurm: the requeues seen so far (-1: not yet read), the rate the submission is charged
  // at, and why the scheduler cannot be read ("" while it can).
  int slurm_restarts = -1;
  double slurm_rate = 0;
  int64_t submitted_at = 0;  // micros: a poll begun before this may not list the job yet
  std::string slurm_error;
  // RunPod: the account's key (revealed at each start), the rate (the catalogue's until the
  // pod bills), the log stream and where it is, the command's exit status (the pod's last
  // log line says it), and the job's own Loupe token.
  std::string runpod_key;
  std::optional<RunPodCreate> pod_create;  // made by StartPod, sent to RunPod by Tick
  bool pod_creating = false;               // Tick is asking RunPod for it now
  int64_t pod_creation = 0;                // which creation (LaunchService::PodCreation::seq)
  double pod_rate = 0;
  std::shared_ptr<PodLogs> pod_logs;
  std::string pod_cursor;   // the last log event stored (Last-Event-ID)
  int64_t pod_lines = 0;    // log lines of this pod stored (the console seq)
  int64_t pod_skip = 0;     // lines a resumed stream sends again that are stored already
  int64_t next_stream_at = 0;
  int64_t stream_backoff = 2'000'000;  // micros until a stream that brought nothing is opened again
  int64_t cursor_written = 0;  // micros: when the cursor file was last written
  std::optional<int> pod_exit;
  std::string pod_nonce;    // marks the bootstrap's exit line (the job cannot print it by chance)
  int64_t pod_gone_since = 0;
  int64_t next_telemetry = 0;
  std::string pod_error;    // why RunPod cannot be read ("" while it can)
  std::string stream_error; // why the log stream last failed (said once)
  int64_t pod_uptime = -1;
  int64_t pod_created = 0;
  std::deque<std::string> pod_tail;  // the pod's last 20 lines before its exit line (a failure's message)  // micros: when Loupe created the pod (a first log stream starts there)  // the container's uptime at the last read (a drop: RunPod restarted it)
};

// A local segment's file: <dir>/segment-N.out|err|exit.
inline std::string SegmentFile(const LaunchJob& j, int seg, const char* ext) {
  return j.dir + "/segment-" + std::to_string(seg) + "." + ext;
}

// Where the current segment's output is: the local segment's file, or the Slurm
// submission's (<dir>/slurm-ID.out|err|exit; a requeued submission appends to it).
inline std::string LogFile(const LaunchJob& j, const char* ext) {
  if (j.executor == "slurm") return j.dir + "/slurm-" + j.external_id + "." + ext;
  return SegmentFile(j, j.segment, ext);
}

// The console writer a stream of that file is stored as (its seq: the byte offset reached).
inline std::string ConsoleClient(const LaunchJob& j, int stream) {
  const std::string file = j.executor == "slurm"    ? "slurm" + j.external_id
                           : j.executor == "runpod" ? "pod" + j.external_id
                                                    : std::to_string(j.segment);
  return "launch-" + std::to_string(j.id) + "-" + file + (stream == 0 ? "-out" : "-err");
}

}  // namespace loupe::launch
