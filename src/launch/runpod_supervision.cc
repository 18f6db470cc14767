// LaunchService's RunPod executor. Each segment is a pod: created with the job's image,
// GPUs and environment (never Loupe's own environment), it downloads the job's package
// from Loupe (--public-url) with a token minted for the job, runs the command in the
// background under a bootstrap that forwards SIGTERM, and prints the command's exit
// status as its last log line. Loupe reads the pod every runpod_poll_ms (state, billed
// rate, GPU use), streams its log into the run's console, and deletes the pod when the
// command has ended (RunPod bills a pod until it is deleted, and restarts a container
// whose command exits). A segment's rate is the pod's billed `cost`.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>

#include <spdlog/spdlog.h>

#include "common/display_text.h"
#include "common/file_util.h"
#include "common/time_util.h"
#include "launch/active_job.h"
#include "launch/budget.h"
#include "launch/gpu_memory.h"
#include "launch/local_process.h"

namespace loupe::launch {

using json = nlohmann::json;

namespace {

constexpr int64_t kCatalogSeconds = 300;
constexpr int64_t kExitLineWaitMicros = 15'000'000;  // a pod that ended: how long its last log lines may take
constexpr int64_t kTelemetryMicros = 10'000'000;
constexpr int kLogTail = 5000;  // the most a new stream sends back (RunPod's limit)
constexpr size_t kMaxQueuedLines = 100000;  // a store that cannot keep up: the stream waits

// The pod's start command runs this (from LOUPE_BOOTSTRAP: the env map needs no quoting).
const char* kBootstrap = R"SH(# Loupe's pod bootstrap: the job's package from Loupe, its command in the background (so
# that SIGTERM reaches this shell at once and is passed on), the command's exit status as
# the last log line; then it waits, since RunPod restarts a container whose command ends.
# Loupe deletes the pod once it has read that line.
child=
stopping=
trap 'stopping=1; [ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null' TERM INT
finish() {
  echo "[loupe-job] exit $1"
  [ -n "$stopping" ] && exit "$1"
  trap 'exit 0' TERM INT
  while :; do sleep 600 & wait $!; done
}
d="${HOME:-/root}/loupe-job"
mkdir -p "$d" && cd "$d" || finish 125
echo "[loupe-job] fetching job $LOUPE_JOB_ID from $LOUPE_URL"
python3 - <<'PY' || finish 125
import io, os, sys, tarfile, urllib.request
url = os.environ["LOUPE_URL"].rstrip("/") + "/api/v1/launch/jobs/" + os.environ["LOUPE_JOB_ID"] + "/package"
req = urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ.get("LOUPE_API_KEY", "")})
try:
    with urllib.request.urlopen(req, timeout=600) as r:
        data = r.read()
except Exception as e:
    sys.exit(f"[loupe-job] cannot download the job from {url}: {e}")
with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
    for m in t.getmembers():
        if m.name.startswith("/") or ".." in m.name.split("/"):
            sys.exit(f"[loupe-job] the package holds an unsafe path: {m.name}")
    t.extractall(".")
PY
[ -n "$stopping" ] && finish 143  # stopped while it downloaded
setsid /bin/bash "job-$LOUPE_JOB_ID/run.sh" &
child=$!
while :; do
  wait "$child"
  kill -0 "$child" 2>/dev/null && continue  # a trap interrupted the wait; the command still runs
  wait "$child"; rc=$?
  break
done
finish "$rc"
)SH";

const std::regex kExitLine(R"(^\[loupe-job\] exit ([0-9]{1,3})\s*$)");

ExitStatus FromShell(int rc) {
  ExitStatus st;
  if (rc > 128 && rc < 128 + 65) {
    st.signal = rc - 128;
  } else {
    st.code = rc;
  }
  return st;
}

std::string CursorFile(const LaunchJob& j) { return j.dir + "/pod-" + j.external_id + ".cursor"; }

}  // namespace

Result<std::vector<RunPodGpuType>> LaunchService::RunPodCatalog(const std::string& key) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  const int64_t now = NowMicros();
  if (catalog_.key == key && now - catalog_.read_at < kCatalogSeconds * 1'000'000) return catalog_.gpus;
  LOUPE_ASSIGN_OR_RETURN(std::vector<RunPodGpuType> gpus, runpod_->GpuTypes(key));
  catalog_ = {key, now, gpus};
  return gpus;
}

Result<json> LaunchService::RunPodGpusJson(const std::string& secret) {
  if (!options_.reveal_secret) return Status::Unavailable("this server has no secret store");
  Result<std::string> key = options_.reveal_secret(secret);
  if (!key.ok()) return Status::NotFound("no secret named '" + secret + "' holds a RunPod API key");
  LOUPE_ASSIGN_OR_RETURN(std::vector<RunPodGpuType> gpus, RunPodCatalog(*key));
  json out = json::array();
  for (const RunPodGpuType& g : gpus) {
    out.push_back({{"id", g.id},
                   {"name", g.name},
                   {"memory_gb", g.memory_gb},
                   {"secure", {{"offered", g.secure}, {"price_per_gpu_hour", g.price_secure}, {"max_gpus", g.max_secure}}},
                   {"community",
                    {{"offered", g.community}, {"price_per_gpu_hour", g.price_community}, {"max_gpus", g.max_community}}}});
  }
  return json{{"gpus", out}};
}

std::vector<SpecProblem> LaunchService::CheckRunPod(const JobSpec& spec) {
  std::vector<SpecProblem> problems;
  if (options_.public_url.empty()) {
    problems.push_back({"executor", "a RunPod pod downloads the job from this Loupe and logs to it: start Loupe with "
                                    "--public-url <an address pods can reach, e.g. https://loupe.example.com>"});
  }
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(spec.runpod.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  if (!key.ok()) {
    problems.push_back({"runpod.secret", "no RunPod API key: store it as the secret '" + spec.runpod.secret +
                                             "' (Settings, Secrets; or PUT /api/v1/secrets/" + spec.runpod.secret + ")"});
    return problems;
  }
  Result<std::vector<RunPodGpuType>> gpus = RunPodCatalog(*key);
  if (!gpus.ok()) {
    const bool refused = gpus.status().code() == Code::kUnauthenticated || gpus.status().code() == Code::kForbidden;
    problems.push_back({refused ? "runpod.secret" : "executor", "RunPod's GPU catalogue cannot be read: " + gpus.status().message()});
    return problems;
  }
  const RunPodGpuType* type = nullptr;
  for (const RunPodGpuType& g : *gpus) {
    if (g.id == spec.resources.gpu_type) type = &g;
  }
  if (!type) {
    std::string near;  // the ids whose name the user may have meant ("RTX 4090" for "NVIDIA GeForce RTX 4090")
    for (const RunPodGpuType& g : *gpus) {
      if (!spec.resources.gpu_type.empty() && (g.name == spec.resources.gpu_type ||
                                               g.id.find(spec.resources.gpu_type) != std::string::npos)) {
        near += (near.empty() ? "" : ", ") + ("'" + g.id + "'");
      }
    }
    problems.push_back({"resources.gpu_type", "RunPod does not list the GPU type '" + spec.resources.gpu_type + "'" +
                                                  (near.empty() ? " (GET /api/v1/launch/runpod/gpus lists its ids)"
                                                                : "; did you mean " + near + "?")});
    return problems;
  }
  const std::string& cloud = spec.runpod.cloud;
  if (!type->Offered(cloud)) {
    problems.push_back({"runpod.cloud", "RunPod does not offer the " + type->id + " on its " + cloud + " cloud"});
  } else if (spec.resources.gpus > type->MaxCount(cloud)) {
    problems.push_back({"resources.gpus", "RunPod puts at most " + std::to_string(type->MaxCount(cloud)) + " " +
                                              type->id + " on one pod (" + cloud + " cloud); asked for " +
                                              std::to_string(spec.resources.gpus)});
  }
  if (!spec.model.is_null() && type->memory_gb > 0) {
    ModelShape shape;
    (void)ParseModelShape(spec.model, "model.", shape);
    const double need_gb = EstimateGpuMemory(shape).total() / (1024.0 * 1024 * 1024);
    if (need_gb > type->memory_gb) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "the model needs about %.1f GiB per GPU, more than the %d GB of the %s", need_gb,
                    type->memory_gb, type->id.c_str());
      problems.push_back({"model", buf});
    }
  }
  return problems;
}

Status LaunchService::StartPod(Active& a, int64_t now) {
  LaunchJob& j = a.job;
  auto fail = [&](const Status& why) { return FailStart(a, now, why); };
  // RunPod unreachable, failing (5xx) or rate limiting: the job waits and tries again;
  // anything else RunPod refused fails it with RunPod's words.
  auto retry_or_fail = [&](const Status& why, const std::string& what) {
    if (why.code() != Code::kUnavailable && why.code() != Code::kRateLimited) return fail(Status::Unavailable(what + why.message()));
    a.not_before = now + 10'000'000;
    const std::string msg = what + why.message() + "; trying again in 10 s";
    if (j.message != msg) {
      j.message = msg;
      Event(a, now, "warning", msg);
    }
    return Status::Ok();
  };
  if (options_.public_url.empty()) return fail(Status::InvalidArgument("Loupe has no --public-url for the pod to reach it"));
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(a.spec.runpod.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  if (!key.ok()) return fail(Status::InvalidArgument("the RunPod key (secret '" + a.spec.runpod.secret + "') cannot be read: " + key.status().message()));
  a.runpod_key = *key;
  Result<std::vector<RunPodGpuType>> gpus = RunPodCatalog(a.runpod_key);
  a.pod_rate = 0;
  if (gpus.ok()) {
    for (const RunPodGpuType& g : *gpus) {
      if (g.id == a.spec.resources.gpu_type) a.pod_rate = g.Price(a.spec.runpod.cloud) * a.spec.resources.gpus;
    }
  }
  RunPodCreate c;
  c.name = "loupe-job-" + std::to_string(j.id) + "-" + std::to_string(j.segment + 1);
  // A Loupe that died between creating this pod and recording it left it running (and
  // billing): deleted, with the token it was given, before the pod is made again.
  if (Result<std::vector<std::pair<std::string, RunPodPod>>> pods = runpod_->ListPods(a.runpod_key); pods.ok()) {
    for (const auto& [name, pod] : *pods) {
      if (name == c.name && pod.status != "TERMINATED") {
        Status s = runpod_->Action(a.runpod_key, pod.id, "terminate");
        Event(a, now, "warning", "deleted RunPod pod " + pod.id + ", left by a Loupe that stopped while creating it" +
                                     (s.ok() ? "" : " (failed: " + s.message() + ")"));
      }
    }
  } else {
    return retry_or_fail(pods.status(), "RunPod's pods cannot be listed: ");
  }
  Result<std::string> token = MintJobToken(a, "RunPod pod");
  if (!token.ok()) return fail(token.status());
  c.image = a.spec.runpod.image;
  c.cloud = a.spec.runpod.cloud;
  c.gpu_id = a.spec.resources.gpu_type;
  c.gpu_count = a.spec.resources.gpus;
  c.disk_gb = a.spec.runpod.disk_gb;
  c.data_centers = a.spec.runpod.data_centers;
  // The spec's environment and Loupe's job variables only: Loupe's own environment stays here.
  if (Status st = ResolveEnvSecrets(a); !st.ok()) return fail(st);
  c.env = a.spec.env;
  for (const auto& [k, v] : a.secret_env) c.env[k] = v;
  c.env["LOUPE_JOB_ID"] = std::to_string(j.id);
  c.env["LOUPE_JOB_SEGMENT"] = std::to_string(j.segment + 1);
  c.env["LOUPE_PROJECT"] = j.project;
  c.env["LOUPE_RUN_ID"] = "job-" + std::to_string(j.id);
  c.env["LOUPE_URL"] = options_.public_url;
  c.env["LOUPE_CONTROL_URL"] = options_.public_url + "/api/v1/launch/jobs/" + std::to_string(j.id) + "/control";
  if (!token->empty()) c.env["LOUPE_API_KEY"] = *token;
  if (a.spec.checkpoint.every_steps > 0) c.env["LOUPE_CHECKPOINT_EVERY_STEPS"] = std::to_string(a.spec.checkpoint.every_steps);
  if (!j.resume_from.empty()) c.env["LOUPE_RESUME_ARTIFACT"] = j.resume_from;
  c.env["LOUPE_BOOTSTRAP"] = kBootstrap;
  c.args = "bash -c 'eval \"$LOUPE_BOOTSTRAP\"'";
  a.api_key = *token;  // kept out of the console like a local job's key
  Result<RunPodPod> pod = runpod_->CreatePod(a.runpod_key, c);
  if (!pod.ok()) {
    RevokeJobToken(j);
    return retry_or_fail(pod.status(), "RunPod did not create the pod: ");
  }
  j.external_id = pod->id;
  j.state = j.stop_requested ? "stopping" : "pending";
  j.message = "RunPod pod " + pod->id + ": " + pod->status;
  j.exit_text.clear();
  a.pod_logs.reset();
  a.pod_cursor.clear();
  a.pod_lines = a.pod_skip = 0;
  a.pod_exit.reset();
  a.pod_gone_since = 0;
  a.next_stream_at = 0;
  a.pod_error.clear();
  a.kill_at = 0;
  a.budget_wait_until = 0;
  std::string what = "RunPod pod " + pod->id + ": " + std::to_string(c.gpu_count) + " x " + c.gpu_id + ", " + c.cloud;
  if (a.pod_rate > 0) what += ", " + FormatDollars(a.pod_rate) + "/hour listed";
  if (!j.resume_from.empty()) what += ", from checkpoint " + j.resume_from;
  next_pod_poll_ = std::min(next_pod_poll_, now + 500'000);
  return store_.UpdateLaunchJob(j, LaunchEvent{j.id, now, "submitted", what});
}

void LaunchService::AdoptPod(Active& a, int64_t now) {
  LaunchJob& j = a.job;
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(a.spec.runpod.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  a.runpod_key = key.ok() ? *key : "";
  if (!key.ok()) a.pod_error = "the RunPod key cannot be read: " + key.status().message();
  for (const LaunchSegment& seg : a.segments) {
    if (seg.external_id == j.external_id) a.pod_rate = seg.rate_per_hour;
  }
  // Where the log stream was: the last event stored and how many lines that was. Lines
  // stored after the cursor was written come again and are skipped.
  std::ifstream f(CursorFile(j));
  const json cursor = json::parse(f, nullptr, false);
  int64_t counted = 0;
  if (cursor.is_object()) {
    a.pod_cursor = cursor.value("id", std::string());
    counted = cursor.value("lines", int64_t{0});
  }
  Result<int64_t> stored = store_.ConsoleOffset(j.experiment_id, ConsoleClient(j, 0));
  a.pod_lines = stored.ok() ? *stored : counted;
  a.pod_skip = std::max<int64_t>(0, a.pod_lines - counted);
  if (j.state == "stopping") a.kill_at = now + static_cast<int64_t>(a.spec.stop_grace_seconds * 1e6);
  Event(a, now, "found", "Loupe restarted; following RunPod pod " + j.external_id);
}

void LaunchService::OpenPodStream(Active& a, int64_t now) {
  if (a.pod_logs) {
    std::lock_guard<std::mutex> lock(a.pod_logs->mu);
    if (a.pod_logs->open) return;
  }
  if (now < a.next_stream_at) return;
  a.next_stream_at = now + 2'000'000;  // a stream that ends at once is not reopened in a loop
  if (!a.pod_logs) a.pod_logs = std::make_shared<PodLogs>();
  std::shared_ptr<PodLogs> logs = a.pod_logs;
  {
    std::lock_guard<std::mutex> lock(logs->mu);
    if (!logs->lines.empty()) return;  // a stream that overflowed reopens once its lines are stored
    logs->open = true;
    logs->full = false;
    logs->end_error.clear();
  }
  std::shared_ptr<llm::OutboundCall> call = runpod_->StreamLogs(
      a.runpod_key, a.job.external_id, a.pod_cursor, kLogTail,
      [logs](std::vector<RunPodLogLine> lines) {
        std::lock_guard<std::mutex> lock(logs->mu);
        if (logs->full) return;
        for (RunPodLogLine& l : lines) logs->lines.push_back(std::move(l));
        if (logs->lines.size() >= kMaxQueuedLines) {
          // Dropped from here on and read again from the cursor once these are stored.
          logs->full = true;
          if (logs->call) logs->call->Cancel();
        }
      },
      [logs](const Status& s) {
        std::lock_guard<std::mutex> lock(logs->mu);
        logs->open = false;
        if (!s.ok() && s.code() != Code::kCancelled) logs->end_error = s.message();
      });
  std::lock_guard<std::mutex> lock(logs->mu);
  logs->call = std::move(call);
}

void LaunchService::CopyPodLogs(Active& a, int64_t now, bool final) {
  if (!a.pod_logs) return;
  std::deque<RunPodLogLine> got;
  {
    std::lock_guard<std::mutex> lock(a.pod_logs->mu);
    got.swap(a.pod_logs->lines);
  }
  if (got.empty()) return;
  ConsoleBatch c;
  c.experiment_id = a.job.experiment_id;
  c.from.client = ConsoleClient(a.job, 0);
  std::string cursor = a.pod_cursor;
  int64_t lines = a.pod_lines;
  int64_t skip = a.pod_skip;
  std::optional<int> exit;
  for (const RunPodLogLine& l : got) {
    if (!l.id.empty()) cursor = l.id;
    if (skip > 0) {  // sent again after a restart, stored already
      --skip;
      continue;
    }
    std::smatch m;
    if (std::regex_match(l.text, m, kExitLine)) exit = std::stoi(m[1].str());
    std::string text = l.text;
    a.HideSecrets(text);
    c.lines.push_back({0, l.source == "system" ? 1 : 0, l.ts > 0 ? l.ts : now, std::move(text)});
    ++lines;
  }
  if (!c.lines.empty()) {
    c.from.seq = lines;
    Result<WriteAck> ack = tracking_.LogConsole(std::move(c));
    if (!ack.ok()) {
      const Code code = ack.status().code();
      if (code == Code::kNotFound || code == Code::kGone) {
        if (a.job.stop_requested == 0) SendStop(a, now, "user", "its run was deleted");
      } else {
        // Not stored: put back, to be stored next time rather than lost.
        std::lock_guard<std::mutex> lock(a.pod_logs->mu);
        for (auto it = got.rbegin(); it != got.rend(); ++it) a.pod_logs->lines.push_front(std::move(*it));
        if (a.log_error != ack.status().message()) {
          a.log_error = ack.status().message();
          spdlog::warn("launch: job {}: console lines not stored yet, will retry: {}", a.job.id, a.log_error);
        }
        return;
      }
    }
    a.log_error.clear();
  }
  a.pod_lines = lines;
  a.pod_skip = skip;
  a.pod_cursor = cursor;
  if (exit) a.pod_exit = exit;
  // Behind the console by at most a second: lines stored after it are skipped when resumed.
  if (final || now - a.cursor_written >= 1'000'000) {
    a.cursor_written = now;
    (void)WriteFileDurably(CursorFile(a.job), json{{"id", a.pod_cursor}, {"lines", a.pod_lines}}.dump(), "the log cursor");
  }
}

void LaunchService::PodTelemetry(Active& a, int64_t now, const RunPodPod& pod) {
  if (now < a.next_telemetry || a.segments.empty()) return;
  a.next_telemetry = now + kTelemetryMicros;
  MetricBatch b;
  b.experiment_id = a.job.experiment_id;
  b.partial = true;
  // Seconds since the job first started, across its pods: the x axis of a system chart.
  const int64_t step = std::max<int64_t>(0, (now - a.job.start_time) / 1'000'000);
  for (size_t i = 0; i < pod.gpus.size(); ++i) {
    const std::string g = "pod/gpu." + std::to_string(i) + ".";
    b.points.push_back({g + "utilization", step, pod.gpus[i].util, now});
    b.points.push_back({g + "memory.percent", step, pod.gpus[i].memory_util, now});
  }
  if (pod.cpu_util >= 0) b.points.push_back({"pod/cpu.utilization", step, pod.cpu_util, now});
  if (pod.memory_util >= 0) b.points.push_back({"pod/memory.percent", step, pod.memory_util, now});
  b.points.push_back({"pod/cost_per_hour", step, pod.cost, now});
  (void)tracking_.LogMetrics(std::move(b));
}

void LaunchService::ReleasePod(Active& a) {
  if (a.pod_logs && a.pod_logs->call) a.pod_logs->call->Cancel();
  if (!a.job.external_id.empty() && !a.runpod_key.empty()) {
    if (Status s = runpod_->Action(a.runpod_key, a.job.external_id, "terminate"); !s.ok()) {
      spdlog::warn("launch: job {}: RunPod pod {} not deleted: {}", a.job.id, a.job.external_id, s.message());
      Event(a, NowMicros(), "warning", "RunPod pod " + a.job.external_id + " could not be deleted (" + s.message() +
                                           "); delete it in RunPod's console, it bills until then");
    }
  }
  RevokeJobToken(a.job);
}


void LaunchService::FollowPod(Active& a, int64_t now, const Result<RunPodPod>* read) {
  LaunchJob& j = a.job;
  CopyPodLogs(a, now, false);
  auto end = [&](const std::string& text, bool known, int code) {
    CopyPodLogs(a, now, true);
    ReleasePod(a);
    Ended(a, now, now, text, known, code);
  };
  if (a.pod_exit) {  // the command ended: its status is the pod's last line
    const ExitStatus st = FromShell(*a.pod_exit);
    const int code = st.signal ? -1 : st.code;
    return end(st.Text(), true, code);
  }
  if (!read) return;
  std::string status;
  if (read->ok()) {
    status = (*read)->status;
    a.pod_error.clear();
  } else if (read->status().code() == Code::kNotFound) {
    status = "TERMINATED";  // deleted (in RunPod's console, or by a Loupe before this one)
  } else {
    if (a.pod_error != read->status().message()) {
      a.pod_error = read->status().message();
      Event(a, now, "warning", "RunPod pod " + j.external_id + " cannot be read: " + a.pod_error);
    }
    return;
  }
  if (status == "PROVISIONING" || status == "STARTING") {
    const std::string msg = "RunPod pod " + j.external_id + ": " + status;
    if (j.message != msg) {
      j.message = msg;
      (void)store_.UpdateLaunchJob(j);
    }
    return;
  }
  if (status == "RUNNING") {
    const RunPodPod& pod = **read;
    const bool open = !a.segments.empty() && a.segments.back().end_time == 0 && a.segments.back().external_id == j.external_id;
    if (!open) {
      // Billed from when the container started, as RunPod reports it.
      if (pod.cost > 0) a.pod_rate = pod.cost;
      std::string msg = "RunPod pod " + j.external_id + (pod.data_center.empty() ? "" : " in " + pod.data_center);
      if (a.pod_rate > 0) msg += ", " + FormatDollars(a.pod_rate) + "/hour billed";
      const std::string what = j.segment == 0 ? "started" : a.resuming ? "started again" : "restarted";
      a.resuming = false;
      OpenSegmentAt(a, now, pod.uptime >= 0 ? now - pod.uptime * 1'000'000 : now, a.pod_rate, what, msg);
    }
    OpenPodStream(a, now);
    PodTelemetry(a, now, pod);
    return;
  }
  // EXITED, ERROR or TERMINATED: the container ended. Its last lines may still be on their way.
  if (a.pod_gone_since == 0) {
    a.pod_gone_since = now;
    OpenPodStream(a, now);
  }
  if (now - a.pod_gone_since < kExitLineWaitMicros && status != "TERMINATED") return;
  if (j.stop_requested > 0) return end("the pod was stopped (" + status + ")", false, -1);
  if (status == "ERROR") return end("RunPod put the pod in ERROR", true, -1);
  j.message = "the pod ended (" + status + ") without the command's exit status";
  end("lost", false, -1);
}

}  // namespace loupe::launch
