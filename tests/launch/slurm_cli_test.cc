// Slurm's tools' output as Loupe reads it: lines captured from Debian's slurm-wlm 22.05.8
// (scontrol show job -o, sacct -c --parsable2), and the sbatch arguments Loupe passes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "launch/slurm_cli.h"

namespace loupe::launch {
namespace {

// Slurm prints the controller's local time; these tests read it as UTC.
class SlurmCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    old_tz_ = tz ? tz : "";
    had_tz_ = tz != nullptr;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_) {
      setenv("TZ", old_tz_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::string old_tz_;
  bool had_tz_ = false;
};

constexpr int64_t kSecond = 1000000;

TEST_F(SlurmCliTest, ReadsAJobFromScontrol) {
  const std::string line =
      "JobId=9 JobName=bash_run.sh UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901751 Nice=0 "
      "Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 "
      "Reboot=0 ExitCode=0:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-12-03T13:31:18 "
      "EligibleTime=2026-12-03T13:31:18 AccrueTime=2026-12-03T13:33:19 StartTime=2026-12-03T13:33:20 "
      "EndTime=Unknown Deadline=N/A Partition=debug NodeList=localhost BatchHost=localhost "
      "Command=/tmp/my data/launch/slurm-batch.sh WorkDir=/tmp/loupe/launch/1/workdir";
  std::optional<SlurmJobInfo> info = ParseScontrolJob(line);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, "9");
  EXPECT_EQ(info->state, "RUNNING");
  EXPECT_EQ(info->reason, "None");
  EXPECT_EQ(info->restarts, 1);
  EXPECT_EQ(info->start_time, int64_t{1796304800} * kSecond);  // 2026-12-03T13:33:20Z
  EXPECT_EQ(info->end_time, 0);                                // Unknown
  EXPECT_EQ(info->nodes, "localhost");
  EXPECT_FALSE(SlurmStateEnded(info->state));

  info = ParseScontrolJob("JobId=3 JobName=t1 JobState=FAILED Reason=NonZeroExitCode Restarts=0 ExitCode=3:0 "
                          "StartTime=2026-12-03T13:00:15 EndTime=2026-12-03T13:00:23 NodeList=(null)");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->exit_code, 3);
  EXPECT_EQ(info->exit_signal, 0);
  EXPECT_EQ(info->end_time - info->start_time, 8 * kSecond);
  EXPECT_EQ(info->nodes, "");
  EXPECT_TRUE(SlurmStateEnded("FAILED"));
  info = ParseScontrolJob("JobId=4 JobState=CANCELLED Reason=None ExitCode=0:15");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->exit_signal, 15);
  EXPECT_FALSE(ParseScontrolJob("No jobs in the system"));
  EXPECT_FALSE(ParseScontrolJob(""));
  // A value with spaces (a name, a path) stays with its key and cannot pose as another key.
  info = ParseScontrolJob("JobId=5 JobName=my job JobState=PENDING Reason=Resources");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, "PENDING");
  EXPECT_EQ(info->reason, "Resources");
}

TEST_F(SlurmCliTest, ReadsJobsFromSqueue) {
  // squeue -h -t all -j 1,2 -O "JobID:|,State:|,Reason:|,StartTime:|,EndTime:|,RestartCnt:|,NodeList:"
  std::optional<SlurmJobInfo> info = ParseSqueueLine("1|RUNNING|None|2026-12-03T13:56:06|NONE|0|localhost");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->id, "1");
  EXPECT_EQ(info->state, "RUNNING");
  EXPECT_EQ(info->start_time, SlurmTime("2026-12-03T13:56:06"));
  EXPECT_EQ(info->end_time, 0);
  EXPECT_EQ(info->restarts, 0);
  EXPECT_EQ(info->nodes, "localhost");
  info = ParseSqueueLine("12|PENDING|BeginTime|N/A|N/A|2|");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->reason, "BeginTime");
  EXPECT_EQ(info->restarts, 2);
  EXPECT_EQ(info->nodes, "");
  EXPECT_FALSE(ParseSqueueLine(""));
  EXPECT_FALSE(ParseSqueueLine("squeue: error: Invalid job format specification: ExitCode"));
  EXPECT_FALSE(ParseSqueueLine("x|RUNNING|None|||0|"));
}

TEST_F(SlurmCliTest, ReadsEveryRunOfARequeuedJobFromTheCompletionLog) {
  const std::string out =
      "4|PENDING|2026-12-03T13:00:32|2026-12-03T13:00:34|0:0\n"
      "4.batch|COMPLETED|2026-12-03T13:00:32|2026-12-03T13:00:34|0:0\n"
      "40|COMPLETED|2026-12-03T13:00:32|2026-12-03T13:00:34|0:0\n"
      "4|CANCELLED by 0|2026-12-03T13:02:24|2026-12-03T13:02:31|0:15\n";
  std::vector<SlurmRun> runs = ParseSacctRuns(out, "4");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, "PENDING");
  EXPECT_EQ(runs[0].end_time - runs[0].start_time, 2 * kSecond);
  EXPECT_EQ(runs[1].state, "CANCELLED");
  EXPECT_EQ(runs[1].end_time - runs[1].start_time, 7 * kSecond);
  EXPECT_EQ(runs[1].exit_signal, 15);
  EXPECT_TRUE(ParseSacctRuns("", "4").empty());
}

TEST_F(SlurmCliTest, ManyIdsAreAskedAboutInListsThatFitOneArgument) {
  EXPECT_TRUE(IdLists({}, 10).empty());
  EXPECT_EQ(IdLists({"1", "22", "333", "4"}, 6), (std::vector<std::string>{"1,22", "333,4"}));
  std::vector<std::string> ids;
  for (int i = 0; i < 30000; ++i) ids.push_back(std::to_string(1000000 + i));
  const std::vector<std::string> lists = IdLists(ids, kMaxIdListBytes);
  size_t count = 0;
  for (const std::string& l : lists) {
    EXPECT_LE(l.size(), kMaxIdListBytes);
    count += std::count(l.begin(), l.end(), ',') + 1;
  }
  EXPECT_EQ(count, ids.size());
  EXPECT_EQ(lists.size(), 4u);  // 30,000 x 8 bytes in 64 KiB lists
}

TEST_F(SlurmCliTest, TimesAreReadOrZero) {
  EXPECT_EQ(SlurmTime("2026-12-03T00:00:00"), int64_t{1796256000} * kSecond);
  EXPECT_EQ(SlurmTime("Unknown"), 0);
  EXPECT_EQ(SlurmTime("None"), 0);
  EXPECT_EQ(SlurmTime(""), 0);
}

TEST_F(SlurmCliTest, SbatchGetsEveryResourceAsOneArgumentEach) {
  SlurmSubmit s;
  s.script = "/data/launch/slurm-batch.sh";
  s.job_name = "my job=1";
  s.workdir = "/data/launch/7/workdir";
  s.stdout_path = "/data/launch/7/slurm-%j.out";
  s.stderr_path = "/data/launch/7/slurm-%j.err";
  s.cpus = 4;
  s.memory_gb = 1.5;
  s.gpus = 2;
  s.gpu_type = "a100";
  s.partition = "gpu";
  s.time_minutes = 30.2;
  s.signal_seconds = 120;
  EXPECT_EQ(SbatchArgs(s, false),
            (std::vector<std::string>{"--parsable", "--job-name=my_job_1", "--chdir=/data/launch/7/workdir",
                                      "--output=/data/launch/7/slurm-%j.out", "--error=/data/launch/7/slurm-%j.err",
                                      "--open-mode=append", "--requeue", "--export=ALL", "--nodes=1", "--ntasks=1",
                                      "--cpus-per-task=4", "--mem=1536M", "--gres=gpu:a100:2", "--partition=gpu",
                                      "--time=31", "--signal=B:USR1@120", "/data/launch/slurm-batch.sh"}));
  s = SlurmSubmit{};
  s.script = "x.sh";
  s.gpus = 1;
  s.signal_seconds = 120;  // no time limit of its own: the partition's default gets the warning
  const std::vector<std::string> args = SbatchArgs(s, true);
  EXPECT_EQ(args.front(), "--test-only");
  EXPECT_EQ(std::count(args.begin(), args.end(), "--gres=gpu:1"), 1);
  EXPECT_EQ(std::count(args.begin(), args.end(), "--signal=B:USR1@120"), 1);
  for (const std::string& a : args) EXPECT_EQ(a.rfind("--time", 0), std::string::npos);
  EXPECT_EQ(SlurmJobName(""), "loupe-job");
  EXPECT_EQ(SlurmJobName(std::string(100, 'x')).size(), 64u);
}

TEST_F(SlurmCliTest, TheBatchScriptRunsTheCommandInTheBackground) {
  const std::string script = SlurmBatchScript();
  EXPECT_EQ(script.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(script.find("setsid /bin/bash -c \"$LOUPE_COMMAND\" &"), std::string::npos);
  EXPECT_NE(script.find("trap 'ask_checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace loupe::launch
