// A local job's process: run in the working directory with exactly the environment
// given, its exit status written by the supervisor process, its whole process group
// stopped by a signal, and none of Loupe's file descriptors inherited.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"
#include "launch/local_process.h"

namespace loupe::launch {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class LocalProcessTest : public ::testing::Test {
 protected:
  SpawnRequest Request(const std::string& command) {
    SpawnRequest r;
    r.command = command;
    r.workdir = dir_.path();
    r.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
    r.stdout_path = dir_.path() + "/out";
    r.stderr_path = dir_.path() + "/err";
    r.exit_path = dir_.path() + "/exit";
    return r;
  }
  // Waits (at most 10 s) for the supervisor process to end; returns its exit status file.
  std::optional<ExitStatus> WaitExit(const Spawned& s) {
    for (int i = 0; i < 1000 && !ReapChild(s.shim); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return ReadExitFile(dir_.path() + "/exit");
  }
  TempDir dir_;
};

TEST_F(LocalProcessTest, RunsInTheFolderWithTheEnvironmentGiven) {
  Result<Spawned> s = SpawnJob(Request("pwd; echo \"$ONLY ${HOME:-nohome}\"; echo oops >&2; exit 3"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->pid, 0);
  EXPECT_NE(s->pid, s->shim);
  std::optional<ExitStatus> st = WaitExit(*s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->code, 3);
  EXPECT_EQ(st->signal, 0);
  EXPECT_EQ(st->Text(), "exit code 3");
  EXPECT_EQ(ReadAll(dir_.path() + "/out"), dir_.path() + "\nthis nohome\n");
  EXPECT_EQ(ReadAll(dir_.path() + "/err"), "oops\n");
}

TEST_F(LocalProcessTest, ACommandThatHandlesSigtermHasItsOwnExitRecorded) {
  // A single command replaces the shell, so the shell does not die of the SIGTERM first and
  // hide the clean exit the command made on it.
  Result<Spawned> s = SpawnJob(Request(
      "/usr/bin/python3 -c 'import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
      "print(\"ready\", flush=True); time.sleep(30)'"));
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 500 && ReadAll(dir_.path() + "/out").find("ready") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(SignalGroup(s->pid, SIGTERM).ok());
  std::optional<ExitStatus> st = WaitExit(*s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->Text(), "exit code 0");
}

TEST_F(LocalProcessTest, SignalReachesTheWholeGroupAndIsRecorded) {
  // The shell starts a child that would outlive it if only the shell were signalled.
  Result<Spawned> s = SpawnJob(Request("sleep 30 & echo $! > child.pid; wait"));
  ASSERT_TRUE(s.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(SameProcessAlive(s->pid, s->start_ticks));
  EXPECT_FALSE(SameProcessAlive(s->pid, s->start_ticks + 1));  // a reused pid is not the job
  const pid_t child = std::stoi(ReadAll(dir_.path() + "/child.pid"));
  ASSERT_TRUE(SignalGroup(s->pid, SIGTERM).ok());
  std::optional<ExitStatus> st = WaitExit(*s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->signal, SIGTERM);
  EXPECT_EQ(st->Text(), "killed by SIGTERM");
  for (int i = 0; i < 100 && ProcessStartTicks(child); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(ProcessStartTicks(child).has_value()) << "the sleep in the job's group outlived the stop";
  EXPECT_FALSE(SameProcessAlive(s->pid, s->start_ticks));
  EXPECT_TRUE(SignalGroup(s->pid, SIGTERM).ok());  // gone: nothing to do, no error
}

TEST_F(LocalProcessTest, WhatTheCommandLeftRunningEndsWithIt) {
  Result<Spawned> s = SpawnJob(Request("sleep 30 & echo $! > bg.pid; echo parent exits"));
  ASSERT_TRUE(s.ok());
  std::optional<ExitStatus> st = WaitExit(*s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->code, 0);
  const pid_t bg = std::stoi(ReadAll(dir_.path() + "/bg.pid"));
  EXPECT_FALSE(ProcessStartTicks(bg).has_value()) << "the background sleep outlived its job";
}

TEST_F(LocalProcessTest, LoupesDescriptorsAreNotInherited) {
  // A descriptor without close-on-exec, as a listening socket or database might have.
  const int fd = open((dir_.path() + "/held").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 3);
  Result<Spawned> s = SpawnJob(Request("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(WaitExit(*s).has_value());
  close(fd);
  // 0, 1, 2, and 3 for the ls's own reading of the folder.
  EXPECT_EQ(ReadAll(dir_.path() + "/out"), "0 1 2 3 ");
}

TEST_F(LocalProcessTest, AMissingFolderFailsTheCommandNotLoupe) {
  SpawnRequest r = Request("true");
  r.workdir = dir_.path() + "/missing";
  Result<Spawned> s = SpawnJob(r);
  ASSERT_TRUE(s.ok());
  std::optional<ExitStatus> st = WaitExit(*s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->code, 127);
  EXPECT_NE(ReadAll(dir_.path() + "/err").find("cannot enter the working directory"), std::string::npos);
}

}  // namespace
}  // namespace loupe::launch
