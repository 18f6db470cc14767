// LaunchService on a real store: jobs run, log into their run's console, restart after a
// failure, stop at their time and money caps, are killed after the grace period, get
// GPUs no other job holds, and are found again (or marked lost) by the next Loupe.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/temp_dir.h"
#include "launch/launch_service.h"
#include "store/store.h"

namespace loupe::launch {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class LaunchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    fs::create_directories(data_);
    StoreOptions so;
    so.data_dir = data_;
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    TrackingOptions to;
    to.data_dir = data_;
    to.heartbeat_timeout_seconds = 0;
    tracking_ = std::make_unique<TrackingService>(*store_, to);
    code_ = dir_.path() + "/code";
    fs::create_directories(code_);
    Restart();
  }

  void Restart(std::vector<GpuInfo> gpus = {}, int64_t max_snapshot_files = 20000) {
    if (launches_) launches_->Stop();
    launches_.reset();
    LaunchOptions o;
    o.data_dir = data_;
    o.tick_ms = 20;
    o.detect_gpus = false;
    o.gpus = std::move(gpus);
    o.cpus = 8;
    o.memory_gb = 16;
    o.max_snapshot_files = max_snapshot_files;
    launches_ = std::make_unique<LaunchService>(*store_, *store_, *tracking_, o);
    ASSERT_TRUE(launches_->Start().ok());
  }

  json Spec(const std::string& command, json extra = json::object()) {
    json s = {{"command", command}, {"workdir", code_}, {"stop_grace_seconds", 1}};
    s.update(extra);
    return s;
  }

  LaunchJob Launch(const json& spec) {
    Result<LaunchJob> j = launches_->Launch(spec, "tester");
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : LaunchJob{};
  }

  // The job once it has ended (at most 20 s).
  json WaitEnded(int64_t id) {
    json j;
    for (int i = 0; i < 2000; ++i) {
      j = *launches_->JobJson(id);
      const std::string s = j["state"];
      if (s != "queued" && s != "running" && s != "stopping") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "job " << id << " did not end: " << j.dump();
    return j;
  }

  std::vector<std::string> Console(int64_t experiment_id) {
    std::vector<std::string> out;
    Result<std::vector<ConsoleLine>> lines = tracking_->ReadConsole(experiment_id, 0, 10000);
    EXPECT_TRUE(lines.ok()) << lines.status().ToString();
    if (!lines.ok()) return out;
    for (const ConsoleLine& l : *lines) {
      out.push_back((l.stream ? "err: " : "") + l.text);
    }
    return out;
  }

  std::vector<std::string> EventKinds(const json& j) {
    std::vector<std::string> out;
    for (const json& e : j["events"]) out.push_back(e["kind"]);
    return out;
  }

  TempDir dir_;
  std::string data_;
  std::string code_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TrackingService> tracking_;
  std::unique_ptr<LaunchService> launches_;
};

TEST_F(LaunchServiceTest, AJobLogsIntoItsRunAndFinishes) {
  std::ofstream(code_ + "/train.sh") << "echo \"job $LOUPE_JOB_ID run $LOUPE_RUN_ID in $LOUPE_PROJECT\"\n"
                                        "echo \"config $LOUPE_CONFIG seed $SEED\"\necho warn >&2\n";
  LaunchJob job = Launch(Spec("sh train.sh", {{"project", "p"}, {"config", {{"lr", 0.5}}}, {"env", {{"SEED", 7}}}}));
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "finished");
  EXPECT_EQ(j["exit"], "exit code 0");
  EXPECT_EQ(EventKinds(j), (std::vector<std::string>{"launched", "started", "exited"}));
  const std::string id = std::to_string(job.id);
  std::vector<std::string> lines = Console(job.experiment_id);
  std::sort(lines.begin(), lines.end());  // the two streams are read one after the other
  EXPECT_EQ(lines, (std::vector<std::string>{"config {\"lr\":0.5} seed 7", "err: warn",
                                             "job " + id + " run job-" + id + " in p"}));
  Result<Experiment> e = tracking_->GetExperiment(job.experiment_id);
  EXPECT_EQ(e->status, RunStatus::kFinished);
  EXPECT_EQ(e->run_id, "job-" + id);
  // The run started from a copy: changing the folder afterwards changes nothing.
  EXPECT_TRUE(fs::exists(data_ + "/launch/" + id + "/workdir/train.sh"));
}

TEST_F(LaunchServiceTest, AFailureIsRestartedAsANewSegment) {
  std::ofstream(code_ + "/flaky.sh") << "if [ -f marker ]; then echo second; else touch marker; echo first; exit 2; fi\n";
  LaunchJob job = Launch(Spec("sh flaky.sh", {{"restart", {{"max_restarts", 2}}}}));
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "finished");
  EXPECT_EQ(j["restarts"], 1);
  ASSERT_EQ(j["segment_list"].size(), 2u);
  EXPECT_EQ(j["segment_list"][0]["end"], "exit code 2");
  EXPECT_EQ(j["segment_list"][1]["end"], "exit code 0");
  EXPECT_EQ(Console(job.experiment_id), (std::vector<std::string>{"first", "second"}));
  // Without restarts left, a failure ends the job and crashes its run.
  LaunchJob fails = Launch(Spec("echo bad >&2; exit 5"));
  j = WaitEnded(fails.id);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["exit"], "exit code 5");
  EXPECT_EQ(j["message"], "bad");  // the last line of its stderr says why
  EXPECT_EQ(tracking_->GetExperiment(fails.experiment_id)->status, RunStatus::kCrashed);
}

TEST_F(LaunchServiceTest, TheTimeBudgetStopsTheJob) {
  const auto t0 = std::chrono::steady_clock::now();
  LaunchJob job = Launch(Spec("echo start; exec sleep 30", {{"budget", {{"max_minutes", 1.0 / 60}}}}));
  json j = WaitEnded(job.id);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(j["state"], "stopped");
  EXPECT_EQ(j["stop_reason"], "budget_time");
  EXPECT_EQ(j["exit"], "killed by SIGTERM");
  EXPECT_GE(j["elapsed_seconds"].get<double>(), 1.0);
  EXPECT_LT(took, 4.0);  // 1 s of budget, then SIGTERM at once
  std::vector<std::string> kinds = EventKinds(j);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "alert"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "stopping"), kinds.end());
  EXPECT_EQ(tracking_->GetExperiment(job.experiment_id)->status, RunStatus::kStopped);
}

TEST_F(LaunchServiceTest, TheMoneyBudgetStopsTheJobAtItsCost) {
  ASSERT_TRUE(launches_->SetPrices({{"prices", {{"cpu", 3600.0}}}}).ok());  // $1 a second per core
  LaunchJob job = Launch(Spec("exec sleep 30", {{"budget", {{"max_cost", 1.5}}}, {"resources", {{"cpus", 1}}}}));
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "stopped");
  EXPECT_EQ(j["stop_reason"], "budget_cost");
  EXPECT_DOUBLE_EQ(j["rate_per_hour"].get<double>(), 3600.0);
  // Cost is rate x elapsed, and the stop came within a few ticks of the cap.
  EXPECT_NEAR(j["cost"].get<double>(), j["elapsed_seconds"].get<double>(), 1e-9);
  EXPECT_GE(j["cost"].get<double>(), 1.5);
  EXPECT_LT(j["cost"].get<double>(), 2.5);
}

TEST_F(LaunchServiceTest, AMoneyCapNeedsAPrice) {
  JobSpec spec;
  std::vector<SpecProblem> p = launches_->Check(Spec("true", {{"budget", {{"max_cost", 1}}}}), spec);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].field, "budget.max_cost");
  EXPECT_NE(p[0].message.find("'cpu'"), std::string::npos) << p[0].message;
}

TEST_F(LaunchServiceTest, AStopIgnoredIsFollowedBySigkill) {
  LaunchJob job = Launch(Spec("trap '' TERM; echo ready; while :; do sleep 0.1; done"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Result<LaunchJob> stopping = launches_->StopJob(job.id);
  ASSERT_TRUE(stopping.ok());
  EXPECT_EQ(stopping->state, "stopping");
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "stopped");
  EXPECT_EQ(j["stop_reason"], "user");
  EXPECT_EQ(j["exit"], "killed by SIGKILL");
  std::vector<std::string> kinds = EventKinds(j);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "killed"), kinds.end());
  EXPECT_EQ(launches_->StopJob(job.id).status().code(), Code::kConflict);
}

TEST_F(LaunchServiceTest, TheMachineLimitsWhatASpecMayAsk) {
  JobSpec spec;
  std::vector<SpecProblem> p = launches_->Check(
      {{"command", "/usr/bin/python3 missing.py"}, {"workdir", code_}, {"resources", {{"cpus", 9}, {"gpus", 1}, {"memory_gb", 17}}}},
      spec);
  std::vector<std::string> fields;
  for (const SpecProblem& x : p) fields.push_back(x.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"command", "resources.cpus", "resources.memory_gb", "resources.gpus"}))
      << ProblemsText(p);
  EXPECT_NE(ProblemsText(p).find("this machine has no GPU"), std::string::npos);
  // A folder holding the data folder would copy the copies into themselves.
  p = launches_->Check({{"command", "true"}, {"workdir", dir_.path()}}, spec);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "holds Loupe's data folder or is inside it; launch from the folder with the code");
  p = launches_->Check({{"command", "true"}, {"workdir", data_ + "/launch"}}, spec);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].message, "holds Loupe's data folder or is inside it; launch from the folder with the code");
  p = launches_->Check({{"command", "true"}, {"workdir", code_ + "/nope"}}, spec);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].field, "workdir");
  EXPECT_EQ(launches_->Launch({{"command", "true"}, {"workdir", code_ + "/nope"}}, "t").status().code(),
            Code::kInvalidArgument);
}

TEST_F(LaunchServiceTest, EachGpuBelongsToOneJobAtATime) {
  Restart({{0, "NVIDIA H100 80GB HBM3", 80}, {1, "NVIDIA H100 80GB HBM3", 80}});
  // Long enough that a and b still hold their GPUs when c launches on a loaded machine
  // (each launch also records its environment).
  std::ofstream(code_ + "/gpu.sh") << "echo \"gpus=$CUDA_VISIBLE_DEVICES\"; sleep 3\n";
  JobSpec spec;
  EXPECT_EQ(launches_->Check(Spec("sh gpu.sh", {{"resources", {{"gpus", 3}}}}), spec).size(), 1u);
  EXPECT_EQ(launches_->Check(Spec("sh gpu.sh", {{"resources", {{"gpus", 1}, {"gpu_type", "A100"}}}}), spec).size(), 1u);
  LaunchJob a = Launch(Spec("sh gpu.sh", {{"resources", {{"gpus", 1}, {"gpu_type", "h100"}}}}));
  LaunchJob b = Launch(Spec("sh gpu.sh", {{"resources", {{"gpus", 1}}}}));
  LaunchJob c = Launch(Spec("sh gpu.sh", {{"resources", {{"gpus", 2}}}}));
  EXPECT_EQ(launches_->Job(c.id)->state, "queued");  // both GPUs are held
  EXPECT_EQ(launches_->Job(c.id)->message, "waiting for 2 free GPUs");
  WaitEnded(a.id);
  WaitEnded(b.id);
  json jc = WaitEnded(c.id);
  EXPECT_EQ(jc["state"], "finished");
  EXPECT_EQ(Console(a.experiment_id), std::vector<std::string>{"gpus=0"});
  EXPECT_EQ(Console(b.experiment_id), std::vector<std::string>{"gpus=1"});
  EXPECT_EQ(Console(c.experiment_id), std::vector<std::string>{"gpus=0,1"});
  // A CPU job sees no GPU at all.
  LaunchJob d = Launch(Spec("echo \"gpus=[$CUDA_VISIBLE_DEVICES]\""));
  WaitEnded(d.id);
  EXPECT_EQ(Console(d.experiment_id), std::vector<std::string>{"gpus=[]"});
}

TEST_F(LaunchServiceTest, TheMemoryEstimateMustFitTheSmallestGpuTheJobCouldGet) {
  Restart({{0, "NVIDIA A10G", 22.0}, {1, "NVIDIA H100 80GB HBM3", 80.0}});
  json model = {{"params", 6.74e9}, {"hidden_size", 4096}, {"layers", 32}, {"heads", 32}, {"method", "full"}};
  JobSpec spec;
  std::vector<SpecProblem> p = launches_->Check(Spec("true", {{"resources", {{"gpus", 1}}}, {"model", model}}), spec);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].field, "model");
  EXPECT_NE(p[0].message.find("about 142.8 GiB per GPU"), std::string::npos) << p[0].message;
  EXPECT_NE(p[0].message.find("more than the 22.0 GiB of NVIDIA A10G"), std::string::npos) << p[0].message;
  model["method"] = "qlora";
  model["gradient_checkpointing"] = true;
  EXPECT_TRUE(launches_->Check(Spec("true", {{"resources", {{"gpus", 1}}}, {"model", model}}), spec).empty());
  Result<json> e = launches_->Estimate(model);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["total_gb"], 6.37);
  EXPECT_EQ((*e)["gpus"][0]["fits"], true);
  EXPECT_EQ(launches_->Estimate({{"params", 1}}).status().code(), Code::kInvalidArgument);
}

TEST_F(LaunchServiceTest, ARestartedLoupeFindsItsJobsAgain) {
  LaunchJob job = Launch(Spec("echo before; sleep 1.5; echo after"));
  for (int i = 0; i < 200 && Console(job.experiment_id).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(Console(job.experiment_id), std::vector<std::string>{"before"});
  // Loupe goes away while the job runs (its supervisor thread with it) and comes back.
  Restart();
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "finished");
  EXPECT_EQ(j["exit"], "exit code 0");
  std::vector<std::string> kinds = EventKinds(j);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "found"), kinds.end());
  // Each line once: the new tail went on from what the store held.
  EXPECT_EQ(Console(job.experiment_id), (std::vector<std::string>{"before", "after"}));
}

TEST_F(LaunchServiceTest, AJobWhoseProcessVanishedIsMarkedLost) {
  LaunchJob job = Launch(Spec("sleep 30"));
  Result<LaunchJob> running = launches_->Job(job.id);
  ASSERT_EQ(running->state, "running");
  launches_->Stop();
  // The process and its supervisor are killed while Loupe is away: no exit status is written.
  ASSERT_EQ(kill(static_cast<pid_t>(running->shim_pid), SIGKILL), 0);
  ASSERT_EQ(kill(-static_cast<pid_t>(running->pid), SIGKILL), 0);
  Restart();
  json j = WaitEnded(job.id);
  EXPECT_EQ(j["state"], "lost");
  EXPECT_NE(j["message"].get<std::string>().find("without an exit status"), std::string::npos);
  EXPECT_EQ(tracking_->GetExperiment(job.experiment_id)->status, RunStatus::kCrashed);
}

TEST_F(LaunchServiceTest, TheSnapshotKeepsLinksAsLinksAndHasLimits) {
  fs::create_directories(code_ + "/.git");
  std::ofstream(code_ + "/.git/HEAD") << "ref";
  std::ofstream(code_ + "/a.txt") << "A";
  fs::create_symlink("/etc/passwd", code_ + "/outside");
  LaunchJob job = Launch(Spec("cat a.txt; readlink outside; ls -a | tr '\\n' ' '"));
  WaitEnded(job.id);
  EXPECT_EQ(Console(job.experiment_id), (std::vector<std::string>{"A/etc/passwd", ". .. a.txt outside "}));
  std::ofstream(code_ + "/b.txt") << "B";
  std::ofstream(code_ + "/c.txt") << "C";
  Restart({}, 2);
  Result<LaunchJob> big = launches_->Launch(Spec("true"), "t");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kTooLarge);
  EXPECT_NE(big.status().message().find("more than 2 files"), std::string::npos) << big.status().message();
  // The job is kept, failed, with the reason: nothing launched is forgotten.
  Result<std::vector<LaunchJob>> all = store_->ListLaunchJobs(1);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].state, "failed");
  EXPECT_EQ((*all)[0].message, big.status().message());
}

}  // namespace
}  // namespace loupe::launch
