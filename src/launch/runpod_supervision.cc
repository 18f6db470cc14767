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
#include <random>
#include <regex>

#include <spdlog/spdlog.h>

#include "common/ascii_case.h"
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
# the last log line (marked with a value the job does not see); then it waits, since RunPod restarts a container whose command ends.
# Loupe deletes the pod once it has read that line.
nonce="$LOUPE_EXIT_NONCE"  # the exit line's mark, kept from the job's own environment
unset LOUPE_EXIT_NONCE
child=
stopping=
trap 'stopping=1; [ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null' TERM INT
finish() {
  printf '\n[loupe-job %s] exit %s\n' "$nonce" "$1"  # on a line of its own, whatever came before
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

const std::regex kExitLine(R"(^\[loupe-job ([0-9a-f]{16})\] exit ([0-9]{1,3})\s*$)");

std::string NewNonce() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

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

std::string LaunchService::InstallationId() {
  std::lock_guard<std::mutex> lock(installation_mu_);
  if (!installation_id_.empty()) return installation_id_;
  const std::string path = options_.data_dir + "/launch/installation-id";
  std::ifstream f(path);
  std::string id;
  if (std::getline(f, id) && std::regex_match(id, std::regex("^[0-9a-f]{8}$"))) return installation_id_ = id;
  id = NewNonce().substr(0, 8);
  (void)WriteFileDurably(path, id + "\n", "this Loupe's id");
  return installation_id_ = id;
}

void LaunchService::SavePodsToDelete() {
  json list = json::array();
  for (const PodToDelete& p : pods_to_delete_) list.push_back({{"pod", p.pod}, {"secret", p.secret}});
  if (Status s = WriteFileDurably(options_.data_dir + "/launch/runpod-deletes.json", list.dump(), "the pods to delete");
      !s.ok()) {
    spdlog::warn("launch: {}", s.message());
  }
}

void LaunchService::LoadPodsToDelete() {
  std::ifstream f(options_.data_dir + "/launch/runpod-deletes.json");
  const json list = json::parse(f, nullptr, false);
  if (!list.is_array()) return;
  for (const json& p : list) {
    if (p.is_object() && p.contains("pod") && p["pod"].is_string() && p.contains("secret") && p["secret"].is_string()) {
      pods_to_delete_.push_back({p["pod"].get<std::string>(), p["secret"].get<std::string>(), 0});
    }
  }
}

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
  Result<std::vector<RunPodGpuType>> gpus = RunPodCatalog(*key);
  // RunPod refusing the key is not this request's sign-in failing.
  if (!gpus.ok()) return Status::Unavailable("RunPod's GPU catalogue cannot be read: " + gpus.status().message());
  json out = json::array();
  for (const RunPodGpuType& g : *gpus) {
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
  } else if (LoopbackUrl(options_.public_url) && !LoopbackUrl(options_.runpod_url)) {
    // (A RunPod endpoint on this machine, a proxy or a stand-in, runs its pods here too.)
    problems.push_back({"executor", "--public-url " + options_.public_url + " is this machine's loopback address, "
                                    "which a pod on RunPod cannot reach: give an address pods can reach (e.g. "
                                    "https://loupe.example.com, or a tunnel's)"});
  }
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(spec.runpod.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  if (!key.ok()) {
    problems.push_back({"runpod.secret", "no RunPod API key: store it as the secret '" + spec.runpod.secret +
                                             "' (PUT /api/v1/secrets/" + spec.runpod.secret +
                                             " with {\"value\": \"<key>\"}; the Access page lists secrets)"});
    return problems;
  }
  Result<std::vector<RunPodGpuType>> gpus = RunPodCatalog(*key);
  if (!gpus.ok()) {
    const bool refused = gpus.status().code() == Code::kUnauthenticated || gpus.status().code() == Code::kForbidden;
    problems.push_back({refused ? "runpod.secret" : "executor", "RunPod's GPU catalogue cannot be read: " + gpus.status().message()});
    return problems;
  }
  if (spec.resources.gpu_type.empty()) return problems;  // said by the spec's own check
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

// A pod is made in two steps: here, under the supervisor's lock, what it is made of (key,
// token, environment); then Tick sends it to RunPod without the lock (a slow RunPod must not
// hold up the API or the other jobs: CreatePodsOutsideLock) and PodCreated takes the answer.
Status LaunchService::StartPod(Active& a, int64_t now) {
  if (a.pod_create || a.pod_creating) return Status::Ok();  // on its way
  LaunchJob& j = a.job;
  auto fail = [&](const Status& why) { return FailStart(a, now, why); };
  if (options_.public_url.empty()) return fail(Status::InvalidArgument("Loupe has no --public-url for the pod to reach it"));
  Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(a.spec.runpod.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
  if (!key.ok()) return fail(Status::InvalidArgument("the RunPod key (secret '" + a.spec.runpod.secret + "') cannot be read: " + key.status().message()));
  a.runpod_key = *key;
  RunPodCreate c;
  // Named for this Loupe (its data folder's id) as well as the job: another Loupe on the same
  // RunPod account has its own job 1, whose pod must never be taken for a left one.
  c.name = "loupe-" + InstallationId() + "-job-" + std::to_string(j.id) + "-" + std::to_string(j.segment + 1);
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
  for (const auto& [k, v] : a.mount_env) c.env[k] = v.first;
  c.env["LOUPE_JOB_ID"] = std::to_string(j.id);
  c.env["LOUPE_JOB_SEGMENT"] = std::to_string(j.segment + 1);
  c.env["LOUPE_PROJECT"] = j.project;
  c.env["LOUPE_RUN_ID"] = "job-" + std::to_string(j.id);
  c.env["LOUPE_URL"] = options_.public_url;
  c.env["LOUPE_CONTROL_URL"] = options_.public_url + "/api/v1/launch/jobs/" + std::to_string(j.id) + "/control";
  if (!token->empty()) c.env["LOUPE_API_KEY"] = *token;
  if (a.spec.checkpoint.every_steps > 0) c.env["LOUPE_CHECKPOINT_EVERY_STEPS"] = std::to_string(a.spec.checkpoint.every_steps);
  if (a.spec.checkpoint.every_epochs > 0) c.env["LOUPE_CHECKPOINT_EVERY_EPOCHS"] = std::to_string(a.spec.checkpoint.every_epochs);
  if (!j.resume_from.empty()) c.env["LOUPE_RESUME_ARTIFACT"] = j.resume_from;
  c.env["LOUPE_BOOTSTRAP"] = kBootstrap;
  a.pod_nonce = NewNonce();
  c.env["LOUPE_EXIT_NONCE"] = a.pod_nonce;
  c.args = "bash -c 'eval \"$LOUPE_BOOTSTRAP\"'";
  a.api_key = *token;  // kept out of the console like a local job's key
  const std::string msg = "asking RunPod for pod " + c.name;
  a.pod_create = std::move(c);
  if (j.message != msg) {
    j.message = msg;
    (void)store_.UpdateLaunchJob(j);
  }
  return Status::Ok();
}

void LaunchService::CreatePodOutsideLock(PodCreation& p) {
  // The listed price, until the pod says what it bills.
  if (Result<std::vector<RunPodGpuType>> gpus = RunPodCatalog(p.key); gpus.ok()) {
    for (const RunPodGpuType& g : *gpus) {
      if (g.id == p.create.gpu_id) p.rate = g.Price(p.create.cloud) * p.create.gpu_count;
    }
  }
  // A Loupe that died between creating this pod and recording it, or a create whose answer
  // was lost, left one running (and billing): deleted before the pod is made again.
  Result<std::vector<std::pair<std::string, RunPodPod>>> pods = runpod_->ListPods(p.key);
  if (!pods.ok()) {
    p.listed = pods.status();
    return;
  }
  for (const auto& [name, pod] : *pods) {
    if (name.rfind(p.prefix, 0) == 0 && pod.status != "TERMINATED") {
      p.left.push_back({pod.id, name, runpod_->Action(p.key, pod.id, "terminate")});
    }
  }
  p.pod = runpod_->CreatePod(p.key, p.create);
}

Status LaunchService::PodCreated(Active& a, int64_t now, PodCreation& p) {
  LaunchJob& j = a.job;
  auto fail = [&](const Status& why) { return FailStart(a, now, why); };
  // RunPod unreachable, failing (5xx) or rate limiting: the job waits and tries again;
  // anything else RunPod refused fails it with RunPod's words.
  auto retry_or_fail = [&](const Status& why, const std::string& what) {
    RevokeJobToken(j);
    if (why.code() != Code::kUnavailable && why.code() != Code::kRateLimited) return fail(Status::Unavailable(what + why.message()));
    a.not_before = now + 10'000'000;
    const std::string msg = what + why.message() + "; trying again in 10 s";
    if (j.message != msg) {
      j.message = msg;
      Event(a, now, "warning", msg);
    }
    return Status::Ok();
  };
  for (const PodCreation::Left& left : p.left) {
    Event(a, now, "warning", "deleted RunPod pod " + left.pod + " (" + left.name + "), left by a create whose answer was lost" +
                                 (left.deleted.ok() ? "" : " (failed: " + left.deleted.message() + ")"));
  }
  if (!p.listed.ok()) return retry_or_fail(p.listed, "RunPod's pods cannot be listed: ");
  if (!p.pod.ok()) return retry_or_fail(p.pod.status(), "RunPod did not create the pod: ");
  const RunPodPod& pod = *p.pod;
  const RunPodCreate& c = p.create;
  a.pod_rate = p.rate;
  j.external_id = pod.id;
  a.pod_created = now;
  // Written before the job records the pod, so a Loupe restarted later knows the exit mark.
  (void)WriteFileDurably(CursorFile(j),
                         json{{"id", ""}, {"lines", 0}, {"nonce", a.pod_nonce}, {"created", a.pod_created}}.dump(),
                         "the log cursor");
  j.exit_text.clear();
  a.pod_logs.reset();
  a.pod_cursor.clear();
  a.pod_lines = a.pod_skip = 0;
  a.pod_exit.reset();
  a.pod_tail.clear();
  a.pod_gone_since = 0;
  a.next_stream_at = 0;
  a.pod_error.clear();
  a.stream_error.clear();
  a.pod_uptime = -1;
  a.stream_backoff = 2'000'000;
  a.kill_at = 0;
  a.budget_wait_until = 0;
  // RunPod bills a pod from its creation (its `cost` is 0 only once it has EXITED), so the
  // segment opens now, at the listed price until the pod says what it bills; the job is
  // pending until the container runs.
  std::string msg = "RunPod pod " + pod.id + ": " + std::to_string(c.gpu_count) + " x " + c.gpu_id + ", " + c.cloud;
  if (a.pod_rate > 0) msg += ", " + FormatDollars(a.pod_rate) + "/hour listed";
  if (!j.resume_from.empty()) msg += ", from checkpoint " + j.resume_from;
  const std::string what = j.segment == 0 ? "started" : a.resuming ? "started again" : "restarted";
  a.resuming = false;
  OpenSegmentAt(a, now, now, a.pod_rate, what, msg, "pending");
  a.job.message = "RunPod pod " + pod.id + ": " + pod.status;
  if (pod.cost > 0) PodBilled(a, pod.cost);
  next_pod_poll_ = std::min(next_pod_poll_, now + 500'000);
  return store_.UpdateLaunchJob(a.job);
}

void LaunchService::PodBilled(Active& a, double cost) {
  if (a.segments.empty() || a.segments.back().end_time != 0) return;
  LaunchSegment& seg = a.segments.back();
  if (std::fabs(seg.rate_per_hour - cost) < 1e-9) return;
  if (Status s = store_.SetLaunchSegmentRate(a.job.id, seg.seq, cost); !s.ok()) {
    spdlog::warn("launch: job {}: cannot record the billed rate: {}", a.job.id, s.message());
    return;
  }
  seg.rate_per_hour = cost;
  a.pod_rate = cost;
}

void LaunchService::PodRunning(Active& a, int64_t now, const RunPodPod* pod) {
  LaunchJob& j = a.job;
  if (j.state != "pending") return;
  j.state = "running";
  j.message.clear();
  a.next_stream_at = 0;  // the container runs now: its log is worth asking for at once
  a.stream_backoff = 2'000'000;
  std::string msg = "RunPod pod " + j.external_id + " runs";
  if (pod && !pod->data_center.empty()) msg += " in " + pod->data_center;
  if (pod && pod->cost > 0) {
    PodBilled(a, pod->cost);
    msg += ", " + FormatDollars(pod->cost) + "/hour billed";
  }
  Event(a, now, "running", msg);
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
    if (cursor.contains("id") && cursor["id"].is_string()) a.pod_cursor = cursor["id"].get<std::string>();
    if (cursor.contains("lines") && cursor["lines"].is_number_integer()) counted = cursor["lines"].get<int64_t>();
    if (cursor.contains("nonce") && cursor["nonce"].is_string()) a.pod_nonce = cursor["nonce"].get<std::string>();
    if (cursor.contains("created") && cursor["created"].is_number_integer()) a.pod_created = cursor["created"].get<int64_t>();
    // The exit line was stored before Loupe stopped: the stream will not send it again.
    if (cursor.contains("exit") && cursor["exit"].is_number_integer()) a.pod_exit = cursor["exit"].get<int>();
  }
  Result<int64_t> stored = store_.ConsoleOffset(j.experiment_id, ConsoleClient(j, 0));
  a.pod_lines = stored.ok() ? *stored : counted;
  a.pod_skip = std::max<int64_t>(0, a.pod_lines - counted);
  if (j.state == "stopping") a.kill_at = now + static_cast<int64_t>(a.spec.stop_grace_seconds * 1e6);
  if (a.spec.checkpoint.every_minutes > 0) {
    a.next_checkpoint_at = now + static_cast<int64_t>(a.spec.checkpoint.every_minutes * 60e6);
  }
  Event(a, now, "found", "Loupe restarted; following RunPod pod " + j.external_id);
}

void LaunchService::OpenPodStream(Active& a, int64_t now) {
  if (a.pod_logs) {
    std::lock_guard<std::mutex> lock(a.pod_logs->mu);
    if (a.pod_logs->open) return;
  }
  if (now < a.next_stream_at) return;
  // A stream that ends at once (a pod still starting) is opened again after 2 s, then 4, 8 ...
  // 30 s, until lines come: RunPod counts every request against a per-minute limit.
  a.next_stream_at = now + a.stream_backoff;
  a.stream_backoff = std::min<int64_t>(a.stream_backoff * 2, 30'000'000);
  if (!a.pod_logs) a.pod_logs = std::make_shared<PodLogs>();
  std::shared_ptr<PodLogs> logs = a.pod_logs;
  {
    std::lock_guard<std::mutex> lock(logs->mu);
    if (!logs->lines.empty()) return;  // a stream that overflowed reopens once its lines are stored
    if (!logs->end_error.empty() && logs->end_error != a.stream_error) {
      a.stream_error = logs->end_error;
      Event(a, now, "warning", "RunPod's log stream of pod " + a.job.external_id + " failed (" + a.stream_error +
                                   "); opened again until it works");
    }
    logs->open = true;
    logs->full = false;
    logs->end_error.clear();
  }
  // A first stream starts at the pod's creation (a minute before Loupe asked for it, for
  // clocks that differ), not at the last 5,000 lines: a stream opened late loses nothing.
  std::shared_ptr<llm::OutboundCall> call = runpod_->StreamLogs(
      a.runpod_key, a.job.external_id, a.pod_cursor, a.pod_created > 0 ? a.pod_created - 60'000'000 : 0, kLogTail,
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
  a.stream_backoff = 2'000'000;
  PodRunning(a, now, nullptr);  // the container speaks: it runs, whatever the last read said
  // The bootstrap's exit line is looked for first: the end must not wait on the store.
  for (const RunPodLogLine& l : got) {
    std::smatch m;
    if (std::regex_match(l.text, m, kExitLine) && m[1].str() == a.pod_nonce) {
      a.pod_exit = std::stoi(m[2].str());
    } else if (!a.pod_exit && l.text.find_first_not_of(" \t\r") != std::string::npos &&
               l.text.rfind("loupe: ", 0) != 0 && l.text.rfind("[loupe-job", 0) != 0) {  // the SDK's and bootstrap's own notes
      std::string text(ConsolePieces(l.text).front());
      a.HideSecrets(text);
      a.pod_tail.push_back(std::move(text));
      if (a.pod_tail.size() > 20) a.pod_tail.pop_front();
    }
  }
  // Stored in batches the console takes (at most 5,000 lines, about 4 MiB; a line longer
  // than the console's limit is cut in pieces, kept in one batch), each with the stream's
  // cursor after it, so nothing is stored twice or skipped after a restart.
  size_t at = 0;
  while (at < got.size()) {
    ConsoleBatch c;
    c.experiment_id = a.job.experiment_id;
    c.from.client = ConsoleClient(a.job, 0);
    std::string cursor = a.pod_cursor;
    int64_t lines = a.pod_lines;
    int64_t skip = a.pod_skip;
    size_t bytes = 0;
    size_t next = at;
    for (; next < got.size() && c.lines.size() < 5000 && bytes < (4u << 20); ++next) {
      const RunPodLogLine& l = got[next];
      if (!l.id.empty()) cursor = l.id;
      for (std::string_view piece : ConsolePieces(l.text)) {
        if (skip > 0) {  // sent again after a restart, stored already
          --skip;
          continue;
        }
        std::string text(piece);
        a.HideSecrets(text);
        bytes += text.size();
        c.lines.push_back({0, l.source == "system" ? 1 : 0, l.ts > 0 ? l.ts : now, std::move(text)});
        ++lines;
      }
    }
    if (!c.lines.empty()) {
      c.from.seq = lines;
      Result<WriteAck> ack = tracking_.LogConsole(std::move(c));
      if (!ack.ok()) {
        const Code code = ack.status().code();
        if (code == Code::kNotFound || code == Code::kGone) {
          if (a.job.stop_requested == 0) SendStop(a, now, "user", "its run was deleted");
        } else if (code == Code::kTooLarge || code == Code::kInvalidArgument) {
          // Never taken as it is (the run's console is full): said once, then passed over.
          if (a.log_error != ack.status().message()) {
            a.log_error = ack.status().message();
            Event(a, now, "warning", "console lines not stored: " + a.log_error);
          }
        } else {
          // Not stored now: put back, to be stored next time rather than lost.
          std::lock_guard<std::mutex> lock(a.pod_logs->mu);
          for (size_t i = got.size(); i > at; --i) a.pod_logs->lines.push_front(std::move(got[i - 1]));
          if (a.log_error != ack.status().message()) {
            a.log_error = ack.status().message();
            spdlog::warn("launch: job {}: console lines not stored yet, will retry: {}", a.job.id, a.log_error);
          }
          break;
        }
      } else {
        a.log_error.clear();
      }
    }
    a.pod_lines = lines;
    a.pod_skip = skip;
    a.pod_cursor = cursor;
    at = next;
  }
  // Behind the console by at most a second: lines stored after it are skipped when resumed.
  if (final || a.pod_exit || now - a.cursor_written >= 1'000'000) {
    a.cursor_written = now;
    json c = {{"id", a.pod_cursor}, {"lines", a.pod_lines}, {"nonce", a.pod_nonce}, {"created", a.pod_created}};
    if (a.pod_exit) c["exit"] = *a.pod_exit;
    (void)WriteFileDurably(CursorFile(a.job), c.dump(), "the log cursor");
  }
}

void LaunchService::PodTelemetry(Active& a, int64_t now, const RunPodPod& pod) {
  if (now < a.next_telemetry || a.segments.empty()) return;
  a.next_telemetry = now + kTelemetryMicros;
  MetricBatch b;
  b.experiment_id = a.job.experiment_id;
  b.partial = true;
  // Seconds since the job first started, across its pods: the x axis of a system chart. Under
  // system/ (as the SDK's own machine series): not a training step, so progress and the
  // run's last step leave them out.
  const int64_t step = std::max<int64_t>(0, (now - a.job.start_time) / 1'000'000);
  for (size_t i = 0; i < pod.gpus.size(); ++i) {
    const std::string g = "system/pod.gpu." + std::to_string(i) + ".";
    b.points.push_back({g + "utilization", step, pod.gpus[i].util, now});
    b.points.push_back({g + "memory.percent", step, pod.gpus[i].memory_util, now});
  }
  if (pod.cpu_util >= 0) b.points.push_back({"system/pod.cpu.utilization", step, pod.cpu_util, now});
  if (pod.memory_util >= 0) b.points.push_back({"system/pod.memory.percent", step, pod.memory_util, now});
  b.points.push_back({"system/pod.cost_per_hour", step, pod.cost, now});
  (void)tracking_.LogMetrics(std::move(b));
}

void LaunchService::ReleasePod(Active& a) {
  if (a.pod_logs && a.pod_logs->call) a.pod_logs->call->Cancel();
  // Deleted by the supervisor without its lock, now and every 10 s until RunPod says it is.
  if (!a.job.external_id.empty()) DeletePodLater(a.job.external_id, a.spec.runpod.secret, a.job.id);
  RevokeJobToken(a.job);
}

void LaunchService::DeletePodLater(const std::string& pod, const std::string& secret, int64_t job) {
  for (const PodToDelete& p : pods_to_delete_) {
    if (p.pod == pod) return;
  }
  pods_to_delete_.push_back({pod, secret, 0, job, false});
  SavePodsToDelete();
}


void LaunchService::FollowPod(Active& a, int64_t now, const Result<RunPodPod>* read) {
  LaunchJob& j = a.job;
  OpenPodStream(a, now);  // from the pod's creation on, whatever its state or a read says
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
    status = "GONE";  // deleted (in RunPod's console, by a Loupe before this one), or not listed yet
  } else {
    if (a.pod_error != read->status().message()) {
      a.pod_error = read->status().message();
      Event(a, now, "warning", "RunPod pod " + j.external_id + " cannot be read: " + a.pod_error);
    }
    return;
  }
  const bool ended = status == "EXITED" || status == "ERROR" || status == "TERMINATED" || status == "GONE";
  if (!ended && status != "RUNNING") {  // PROVISIONING, STARTING, or a state RunPod adds later
    if ((*read)->cost > 0) PodBilled(a, (*read)->cost);
    const double limit = a.spec.runpod.start_timeout_minutes;
    if (j.state == "pending" && !a.segments.empty() && now - a.segments.back().start_time > limit * 60e6) {
      char text[128];
      std::snprintf(text, sizeof text, "the pod did not start within %g minutes (%s)", limit, status.c_str());
      return end(text, true, -1);
    }
    const std::string msg = "RunPod pod " + j.external_id + ": " + status;
    if (j.state == "pending" && j.message != msg) {
      j.message = msg;
      (void)store_.UpdateLaunchJob(j);
    }
    return;
  }
  if (status == "RUNNING") {
    const RunPodPod& pod = **read;
    PodRunning(a, now, &pod);
    // RunPod restarts a container (a host reboot, its console's Restart): the job runs again
    // from its start inside the same pod.
    if (pod.uptime >= 0 && a.pod_uptime >= 0 && pod.uptime + 5 < a.pod_uptime) {
      Event(a, now, "warning", "RunPod restarted the pod's container (uptime " + std::to_string(a.pod_uptime) + " s, now " +
                                   std::to_string(pod.uptime) + " s): the command runs again from its start");
    }
    if (pod.uptime >= 0) a.pod_uptime = pod.uptime;
    OpenPodStream(a, now);
    PodTelemetry(a, now, pod);
    return;
  }
  // EXITED, ERROR, TERMINATED or gone: the container ended. Its last lines may still be on
  // their way (a pod no longer listed may also be one not listed yet).
  if (a.pod_gone_since == 0) {
    a.pod_gone_since = now;
    a.next_stream_at = 0;
    OpenPodStream(a, now);
  }
  if (now - a.pod_gone_since < kExitLineWaitMicros && !(j.stop_requested > 0 && (status == "TERMINATED" || status == "GONE"))) {
    return;
  }
  if (j.stop_requested > 0) return end("the pod was stopped (" + status + ")", false, -1);
  if (status == "ERROR") return end("RunPod put the pod in ERROR", true, -1);
  j.message = "the pod ended (" + status + ") without the command's exit status";
  end("lost", false, -1);
}

}  // namespace loupe::launch
