// LaunchService: training jobs Loupe starts and looks after (issue 14). A launch checks
// the spec against this machine, snapshots the working directory, creates the run the
// job logs to and starts the command (launch/local_process.h). One supervisor thread
// then, for every active job: copies new log lines into the run's console, keeps the run
// alive, reaps the process and records how it ended, restarts it after a failure when the
// policy allows, gives budget alerts at 50/80/100% and stops the job at its cap (SIGTERM,
// then SIGKILL after the grace period), and starts queued jobs when their GPUs are free.
// Jobs keep running when Loupe stops; at the next start each is found again (same pid
// and start time) or marked lost, never forgotten. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launch/gpu_inventory.h"
#include "launch/job_spec.h"
#include "launch/runpod_client.h"
#include "launch/slurm_cli.h"
#include "launch/webhook_sender.h"
#include "store/artifact_store.h"
#include "store/launch_store.h"
#include "tracking/tracking_service.h"

namespace loupe::launch {

struct LaunchOptions {
  std::string data_dir = "./data";  // jobs live in <data_dir>/launch/<id>
  // What a job's SDK talks to (LOUPE_URL) and with which key (LOUPE_API_KEY; "": none).
  std::string server_url;
  std::function<std::string()> api_key;
  // Whom that key signs in as ("local": the local token); a checkpoint is the job's only when
  // this user stored it, so nobody else can plant files a resume would load. "": any (no
  // sign-in, where everyone is the same anonymous user).
  std::string job_user;
  // Whom the token of a job on another machine (Slurm, RunPod) signs in as: an editor of its
  // own, not job_user (the local admin), since the token leaves this machine. "": job_user.
  std::string remote_job_user;
  int tick_ms = 200;
  int heartbeat_seconds = 20;  // keeps a job's run from being marked crashed while it runs
  int64_t max_snapshot_bytes = int64_t{256} << 20;
  int64_t max_snapshot_files = 20000;
  int64_t max_jobs = 100000;
  // This machine (tests set them); cpus 0: detected.
  int cpus = 0;
  double memory_gb = 0;
  std::vector<GpuInfo> gpus;
  bool detect_gpus = true;  // add nvidia-smi's GPUs to `gpus` when it is empty
  // Slurm: the folder with sbatch & co. ("": PATH; the cluster from SLURM_CONF as usual), and
  // how often the scheduler is asked about Loupe's jobs (one call for all of them).
  std::string slurm_bin;
  int slurm_poll_ms = 1000;
  // RunPod: its API (tests: a stand-in), the address pods reach this Loupe at (they download
  // the job's package and log there; "": RunPod jobs cannot launch), the secret store's
  // clear values, and a token of the job's own for the pod (revoked when the job ends; none
  // without sign-in).
  std::string runpod_url = "https://api.runpod.io";
  // Azure's Retail Prices API, read when a user asks for a region's GPU prices (tests: a stand-in).
  std::string azure_prices_url = "https://prices.azure.com";
  std::string public_url;
  int runpod_poll_ms = 2000;
  std::function<Result<std::string>(const std::string& name)> reveal_secret;
  std::function<Result<std::pair<int64_t, std::string>>(const std::string& user, const std::string& label)> mint_token;
  std::function<void(int64_t token_id)> revoke_token;
};

class LaunchService {
 public:
  LaunchService(LaunchStore& store, ArtifactStore& artifacts, TrackingService& tracking, LaunchOptions options);
  ~LaunchService();

  // Finds the jobs a previous Loupe left running (or marks them lost), then supervises.
  Status Start();
  // The supervisor stops; the jobs' processes keep running, to be found at the next start.
  void Stop();

  // Every problem the spec has, on this machine too (CPUs, memory, GPUs, prices, the
  // working directory and the script in it); empty when it can launch.
  std::vector<SpecProblem> Check(const nlohmann::json& body, JobSpec& spec);
  // Checks, snapshots the working directory, creates the job and its run, and starts it
  // (or queues it until its GPUs are free). InvalidArgument lists every problem.
  Result<LaunchJob> Launch(const nlohmann::json& body, const std::string& user);
  // Stops a job: SIGTERM now, SIGKILL after its grace period; a queued job just ends.
  // Conflict when it has ended.
  // checkpoint_first: a running job is asked for a checkpoint and stopped once it is stored
  // (or the checkpoint policy's grace period, 60 s without one, is over).
  Result<LaunchJob> StopJob(int64_t id, const std::string& reason = "user", bool checkpoint_first = false);
  // Asks a running job's script to save a checkpoint now (the SDK's checkpoint_requested).
  Result<LaunchJob> RequestCheckpoint(int64_t id);
  // Starts an ended job again as a new segment of the same run: from the checkpoint
  // {"checkpoint": version id} (a checkpoint of this job's run), else from its latest, else
  // from the beginning; {"budget": {...}} replaces the caps it names first. InvalidArgument when the
  // budget is spent; Conflict while the job is active.
  Result<LaunchJob> Resume(int64_t id, const nlohmann::json& body, const std::string& user);
  // The checkpoints the job's run saved (artifact versions of type "checkpoint"), newest first.
  Result<std::vector<ArtifactVersion>> Checkpoints(const LaunchJob& job);
  // {step, total_steps, fraction, projected_seconds, projected_cost}: how far the run is
  // (its highest metric step) against the steps the spec or the run's config declares.
  Result<nlohmann::json> ProgressJson(const LaunchJob& job, const JobSpec& spec, double elapsed, double cost);

  // Where jobs' SDKs reach this server (LOUPE_URL); set once it listens, before Start().
  void SetServerUrl(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.server_url = url;
  }
  Result<LaunchJob> Job(int64_t id) { return store_.GetLaunchJob(id); }
  Result<nlohmann::json> JobJson(int64_t id);
  Result<nlohmann::json> ListJson(int64_t limit);
  // Spend over every job that ran: {total, by_project, by_executor, by_gpu_type: [{..., cost,
  // seconds, jobs}], by_day: [{day, cost, seconds}]} (a segment over midnight split at it).
  Result<nlohmann::json> SpendJson();
  Result<std::optional<int64_t>> JobOfExperiment(int64_t experiment_id) { return store_.LaunchJobOfExperiment(experiment_id); }
  Result<std::map<std::string, double>> Prices() { return store_.LaunchPrices(); }
  Status SetPrices(const nlohmann::json& body);
  nlohmann::json MachineJson() const;
  // Builds the job's training package (launch/job_package.h) and returns its path, a file
  // that stays as it is for at least 10 minutes.
  Result<std::string> Package(int64_t id);
  // The GPU memory a fine-tuning config needs (launch/gpu_memory.h), and whether each of this
  // machine's GPUs holds it.
  Result<nlohmann::json> Estimate(const nlohmann::json& model) const;
  // The GPU picker (gpu_picker.cc): every GPU type Loupe knows (launch/gpu_catalog.h), RunPod
  // lists or this machine has, with where it can be had and at what hourly price (RunPod's
  // catalogue, read with the key in `secret`; the configured prices; this machine), at least
  // `min_memory_gb`, sorted by "price", "price_per_tflop" or "memory"; with `need_gb` > 0
  // (a memory estimate), whether each holds it.
  struct GpuPickerQuery {
    double min_memory_gb = 0;
    std::string sort = "price";
    double need_gb = 0;
    std::string secret = "runpod";  // fixed: a reader must not send another secret to RunPod
  };
  Result<nlohmann::json> GpuPickerJson(const GpuPickerQuery& q);

  // RunPod's GPU types (id, name, memory, prices per cloud, most per pod), read with the key
  // in the secret `secret`.
  Result<nlohmann::json> RunPodGpusJson(const std::string& secret);

  // Reads a cloud's public GPU prices for one region (provider "azure") and keeps them in
  // <data>/launch/cloud-prices.json, where the picker finds them (cloud_prices.h). The
  // prices read before stay when reading fails. Returns {provider, region, fetched_at, offers}.
  Result<nlohmann::json> RefreshCloudPrices(const std::string& provider, const std::string& region);

  // One pass of the supervisor now (the thread runs it every tick_ms).
  void Tick();

 private:
  struct Active;
  Status StartSegment(Active& a, int64_t now);
  // A segment that could not start: the job fails with `why`, and so does its run.
  Status FailStart(Active& a, int64_t now, const Status& why);
  // `slurm_jobs`: the scheduler's jobs when it was asked this tick (null: not asked).
  struct SlurmPoll {
    int64_t started = 0;  // micros: jobs submitted after this may be missing from it
    Result<std::map<std::string, SlurmJobInfo>> jobs;
  };
  using PodReads = std::map<int64_t, Result<RunPodPod>>;  // by job id: this tick's reads of pods
  void Supervise(Active& a, int64_t now, std::chrono::steady_clock::time_point copy_until, const SlurmPoll* poll,
                 const PodReads& pods);
  // What every started job gets each tick: checkpoint timer, budget, retention, run-page
  // stop, heartbeat, log copy.
  void SuperviseRunning(Active& a, int64_t now, std::chrono::steady_clock::time_point copy_until);
  // Slurm (slurm_supervision.cc): the spec against the scheduler (sbatch --test-only), a
  // submission, and following the job's state as the scheduler reports it.
  std::vector<SpecProblem> CheckSlurm(const JobSpec& spec);
  Status SubmitSlurm(Active& a, int64_t now);
  // Cancels this user's queued or running Slurm jobs marked `mark` (their --comment).
  void CancelMarked(Active& a, int64_t now, const std::string& mark, const std::string& why);
  void FollowSlurm(Active& a, int64_t now, const SlurmPoll& poll);
  // `exit`: Slurm's exit code and signal when the caller has them (else asked when needed).
  void SlurmEnded(Active& a, int64_t now, const std::string& state, std::optional<std::pair<int, int>> exit,
                  int64_t start, int64_t end);
  Result<std::string> BatchScript();
  // Replaces a submission's segment times with Slurm's accounting; false while Slurm has not
  // accounted every run yet (tried again each poll, for a minute).
  bool SlurmAccounted(int64_t job_id, const std::string& submission);
  void AccountEndedSlurmJobs(int64_t now);
  // Segments for the runs the completion log has and Loupe missed (each started and ended
  // between two polls); with `final`, the last is left open for the end to close.
  void CatchUpSlurmRuns(Active& a, int64_t now, bool final);
  void OpenSlurmSegment(Active& a, int64_t now, int64_t start, const std::string& nodes);
  // A segment of a job a scheduler or cloud runs opens at `start` (its own start time, never
  // before the last segment's end): the job is running, event `what` says `message`.
  void OpenSegmentAt(Active& a, int64_t now, int64_t start, double rate, const std::string& what,
                     const std::string& message, const std::string& state = "running");
  void CloseSlurmSegment(Active& a, int64_t now, int64_t end, const std::string& why);
  // RunPod (runpod_supervision.cc): the spec against RunPod's catalogue, a pod per segment,
  // its state, billed rate and GPU use read every runpod_poll_ms, its log stream.
  std::vector<SpecProblem> CheckRunPod(const JobSpec& spec);
  Status StartPod(Active& a, int64_t now);
  void FollowPod(Active& a, int64_t now, const Result<RunPodPod>* pod);
  void OpenPodStream(Active& a, int64_t now);
  void CopyPodLogs(Active& a, int64_t now, bool final);
  void PodTelemetry(Active& a, int64_t now, const RunPodPod& pod);
  // The pod bills `cost` (USD/hour, > 0): its segment's rate becomes that.
  void PodBilled(Active& a, double cost);
  // A pod on its way: what StartPod made under the lock, and what RunPod answered to
  // CreatePodOutsideLock (which first deletes the pods of this job RunPod has that the job
  // does not know: a create whose answer was lost, a Loupe that died mid-create).
  struct PodCreation {
    int64_t job = 0;
    int64_t seq = 0;  // this creation's number: an answer applies only to the creation the job waits for
    std::string key, secret, prefix, job_dir;
    RunPodCreate create;
    double rate = 0;  // listed: the catalogue's price x GPUs
    struct Left {
      std::string pod, name;
      Status deleted;
    };
    std::vector<Left> left;
    Status listed = Status::Ok();
    Result<RunPodPod> pod = Status::Unavailable("not asked");
  };
  void CreatePodOutsideLock(PodCreation& p);
  Status PodCreated(Active& a, int64_t now, PodCreation& p);
  // Deletes the pod from the supervisor, without its lock (now, then every 10 s until done).
  void DeletePodLater(const std::string& pod, const std::string& secret, int64_t job = 0);
  // RunPod calls a stop or a stopped queued job asks for, made by Tick without the lock.
  struct PodStop {
    int64_t job = 0;
    std::string pod, secret;
  };
  std::vector<PodStop> pods_to_stop_;
  int64_t pod_creations_ = 0;
  int64_t next_reconcile_ = 0;        // micros: when the account's pods are next checked against the jobs
  int64_t last_runpod_activity_ = 0;  // micros: the last tick with a RunPod job (or the first tick)
  struct LeftSweep {
    std::string prefix, secret;
  };
  std::vector<LeftSweep> left_sweeps_;
  // The pod's container runs (RunPod says so, or its log speaks): pending -> running.
  void PodRunning(Active& a, int64_t now, const RunPodPod* pod);
  // Deletes the pod (it bills for its disk while it exists) and revokes the job's token.
  void ReleasePod(Active& a);
  // A job on another machine (Slurm, RunPod) logs with a token of its own, minted when a
  // segment starts (the last one's revoked first) and revoked when the job ends; its id and
  // value are in <dir>/job-token.json (0600). "" without sign-in.
  Result<std::string> MintJobToken(Active& a, const std::string& where);
  void RevokeJobToken(const LaunchJob& j);
  void AdoptPod(Active& a, int64_t now);
  Result<std::vector<RunPodGpuType>> RunPodCatalog(const std::string& key);
  void CopyLogs(Active& a, int64_t now, bool final, std::chrono::steady_clock::time_point until);
  // The segment ended at `end` (when Loupe saw it, or for one that ended while Loupe was
  // down, when its exit file or last output was written).
  void Ended(Active& a, int64_t now, int64_t end, const std::string& end_text, bool known_exit, int exit_code);
  void SendStop(Active& a, int64_t now, const std::string& reason, const std::string& why);
  void CheckBudget(Active& a, int64_t now);
  void StopAfterCheckpoint(Active& a, int64_t now);
  bool CheckpointWaitOver(Active& a, int64_t now, const Result<std::vector<ArtifactVersion>>& saved,
                          int64_t newest_before, int64_t until, const std::string& what);
  void AnnounceCheckpoints(Active& a, int64_t now, bool at_end);
  void MarkRequestsAnswered(Active& a);
  void ForgetStopAfterCheckpoint(Active& a);
  void AskCheckpoint(Active& a, int64_t now, const std::string& reason);
  void KeepCheckpoints(Active& a, int64_t now);
  Status Adopt(const LaunchJob& job);
  void Event(Active& a, int64_t now, const std::string& kind, const std::string& message);
  std::vector<std::string> JobEnvironment(const Active& a) const;
  // Reads the values of the spec's env_secrets into a.secret_env, and the storage mounts'
  // credentials into a.mount_env (a segment starts with them).
  Status ResolveEnvSecrets(Active& a);
  void UnmountLeftovers(Active& a);
  std::set<int> BusyGpus() const;
  Status Snapshot(const std::string& from, const std::string& to);
  void Loop();

  LaunchStore& store_;
  ArtifactStore& artifacts_;
  TrackingService& tracking_;
  LaunchOptions options_;
  mutable std::mutex mu_;
  std::map<int64_t, std::unique_ptr<Active>> active_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  WebhookSender webhooks_;
  SlurmCli slurm_;
  int64_t next_slurm_poll_ = 0;
  struct Unaccounted {
    int64_t job_id;
    std::string submission;
    int64_t give_up_at;  // micros
  };
  std::vector<Unaccounted> unaccounted_;
  std::unique_ptr<llm::HttpClient> http_;  // RunPod's API, Azure's prices
  std::mutex cloud_prices_mu_;   // cloud-prices.json
  std::mutex cloud_refresh_mu_;  // held by the one read of a cloud's prices at a time
  std::unique_ptr<RunPodClient> runpod_;
  int64_t next_pod_poll_ = 0;
  std::mutex catalog_mu_;
  struct Catalog {
    std::string key;
    int64_t read_at = 0;
    std::vector<RunPodGpuType> gpus;
  };
  Catalog catalog_;  // RunPod's GPU types, read at most every 5 minutes
  // Pods whose delete failed (RunPod unreachable, rate limited): tried again every 10 s, kept
  // in <data>/launch/runpod-deletes.json so a restart goes on trying. A pod bills until deleted.
  struct PodToDelete {
    std::string pod, secret;
    int64_t next_try = 0;  // micros
    int64_t job = 0;       // whose pod it was (0: none known), told when a delete fails
    bool told = false;
  };
  std::vector<PodToDelete> pods_to_delete_;
  // 8 hex digits kept in <data>/launch/installation-id: in the names of this Loupe's pods.
  std::string InstallationId();
  std::mutex installation_mu_;
  std::string installation_id_;
  void SavePodsToDelete();
  void LoadPodsToDelete();
  std::mutex script_mu_;  // the batch script file is written by checks and submissions alike
  bool script_written_ = false;
};

}  // namespace loupe::launch
