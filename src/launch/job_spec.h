// JobSpec: what a user hands Loupe to launch — a command, the folder it runs in, its
// environment and config, the resources it needs, where it runs, and the budget and
// restart policy that protect it. Written as JSON or YAML (`loupe launch spec.yaml`, the
// API, the launch form); every problem is reported at once with the field it is in.
// These are the checks that need no machine: what the executor can offer is checked by
// LaunchService::Check.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace loupe::launch {

struct JobResources {
  int cpus = 1;
  double memory_gb = 0;  // 0: not stated
  int gpus = 0;
  std::string gpu_type;  // "": any
};

struct JobBudget {
  double max_minutes = 0;  // 0: no time cap (wall time summed over every segment)
  double max_cost = 0;     // 0: no money cap (US dollars, rate x elapsed over every segment)
  std::string alert_webhook;  // http(s) URL each alert (50/80/100%) is POSTed to as JSON ("": none)
};

// When the script is asked to save a checkpoint (it saves with run.save_checkpoint) and
// which checkpoints are kept.
struct CheckpointPolicy {
  bool set = false;         // the spec has a checkpoint policy
  double every_minutes = 0; // Loupe asks this often (0: never on a timer)
  int every_steps = 0;      // the SDK asks when a logged step passes a multiple (0: never)
  int every_epochs = 0;     // the SDK asks when a logged "epoch" value passes a multiple (0: never)
  int keep_latest = 3;      // the newest this many are kept, and
  std::string best_metric;  // the best by this metric (in the checkpoint's metrics), if set,
  bool best_max = false;    // highest best (else lowest)
  double grace_seconds = 60;  // before a budget stop: how long to wait for the checkpoint asked
};

// Where a Slurm job runs and for how long each submission may run (executor "slurm").
struct SlurmOptions {
  std::string partition, account, qos;  // "": the cluster's defaults
  // Each submission's wall-time limit (--time); 0: what is left of budget.max_minutes, else
  // the partition's default.
  double time_minutes = 0;
  // Seconds before that limit the batch script gets SIGUSR1, which asks the script for a
  // checkpoint (Slurm may deliver it up to a minute early).
  int signal_seconds = 120;
};

// Where a RunPod job runs (executor "runpod"): a pod of resources.gpus GPUs of
// resources.gpu_type (RunPod's GPU id, e.g. "NVIDIA GeForce RTX 4090") running `image`.
// The pod downloads the job's package from Loupe, so Loupe must be reachable from it
// (--public-url).
struct RunPodOptions {
  std::string image;             // the container image; needs bash and python3
  std::string cloud = "SECURE";  // SECURE or COMMUNITY
  int disk_gb = 50;              // the container disk
  std::vector<std::string> data_centers;  // empty: any
  std::string secret = "runpod";          // the Loupe secret that holds the RunPod API key
  // A pod not running this long after its creation (no capacity, an image that cannot be
  // pulled) is deleted and the segment fails: it bills while it waits.
  double start_timeout_minutes = 20;
};

// An S3 folder the job's command sees as a folder of its working directory: copied in before
// the command starts (and, with write_back, copied back when it ends), or mounted read-only
// with rclone over FUSE. launch/storage_mounts.h writes the script that does it.
struct StorageMount {
  std::string source;  // s3://bucket/prefix, as written (no trailing '/')
  std::string bucket, prefix;
  std::string path;    // relative to the working directory
  std::string mode = "copy";  // copy or mount
  bool write_back = false;    // copy mode: the folder goes back to `source` when the command ends
  std::string endpoint;       // an S3-compatible endpoint's URL ("": AWS)
  std::string region;         // "": the endpoint's default
  std::string secret;         // a Loupe secret "ACCESS_KEY_ID:SECRET_ACCESS_KEY" ("": the machine's own AWS credentials)
  size_t index = 0;           // its place in the spec's list (problems name it)
};

struct JobSpec {
  std::string name;  // "": the command's first words
  std::string project = "default";
  std::string command;  // run by /bin/sh -c in the snapshot of `workdir`
  std::string workdir;  // absolute; snapshotted at launch
  std::map<std::string, std::string> env;
  // Variables whose value is a Loupe secret ({"secret": name} in the spec): only the name is
  // stored and shown; the value is read when a segment starts and hidden in the console.
  std::map<std::string, std::string> env_secrets;
  nlohmann::json config = nlohmann::json::object();
  JobResources resources;
  std::string executor = "local";  // local, slurm or runpod
  SlurmOptions slurm;
  RunPodOptions runpod;
  JobBudget budget;
  CheckpointPolicy checkpoint;
  // The steps the script will run, for progress and the projected time and cost (0: the
  // run's config "total_steps", if the script records one).
  int64_t total_steps = 0;
  // The model being fine-tuned, for the GPU memory estimate (launch/gpu_memory.h); null: none.
  nlohmann::json model;
  std::vector<StorageMount> mounts;
  int max_restarts = 0;  // restarts after a failure (non-zero exit), each a new segment, from the latest checkpoint
  double stop_grace_seconds = 10;  // SIGTERM, then SIGKILL this much later
};

// A problem with a spec: the field ("resources.gpus", "" for the whole spec) and why.
struct SpecProblem {
  std::string field;
  std::string message;
};

// The spec as JSON: JSON text, or YAML (plain scalars typed as YAML 1.2's core schema:
// true/false, null/~, integers, floats; quoted scalars stay strings). At most
// kMaxSpecBytes and 32 levels deep.
inline constexpr size_t kMaxSpecBytes = 1 << 20;
Result<nlohmann::json> SpecFromText(const std::string& text);

// Every problem the spec has on its own (unknown keys, types, ranges, a relative workdir);
// empty when it has none. `spec` is filled with what could be read.
std::vector<SpecProblem> ParseJobSpec(const nlohmann::json& body, JobSpec& spec);

// The spec as stored and shown: every field, defaults filled in.
nlohmann::json SpecToJson(const JobSpec& spec);

// The problems as one message: "resources.gpus: must be ...; budget: ...".
std::string ProblemsText(const std::vector<SpecProblem>& problems);

}  // namespace loupe::launch
