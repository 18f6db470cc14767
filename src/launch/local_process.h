// A local job's process: started under a small supervisor process (the "shim", forked
// from Loupe) that leads its own session, so the job outlives a Loupe restart and its
// exit status is still known. The shim forks the command (/bin/bash -c) into a process
// group of its own — stop signals go to that group, never to the shim — waits for it,
// ends what the command left running in its group (SIGTERM, the grace period, SIGKILL),
// and writes "exit N" or "signal N" to the exit file. stdout and stderr go to files that
// Loupe tails. Between fork and exec only async-signal-safe calls are made (Loupe has
// threads). Linux only (/proc, close_range).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::launch {

struct SpawnRequest {
  std::string command;  // for /bin/bash -c
  std::string workdir;
  std::vector<std::string> env;  // "NAME=value", the whole environment
  std::string stdout_path;       // appended to
  std::string stderr_path;
  std::string exit_path;  // written (atomically) when the command ends
  // After the command ends, how long what it left in its group gets after SIGTERM before
  // SIGKILL (the job's stop grace period).
  double grace_seconds = 10;
};

struct Spawned {
  pid_t shim = 0;            // Loupe's child: reap it with ReapChild
  pid_t pid = 0;             // the command's process, leader of its process group
  int64_t start_ticks = 0;   // when it started (/proc/PID/stat), to tell it from a reused pid
};

Result<Spawned> SpawnJob(const SpawnRequest& req);

// The process's start time in clock ticks since boot; nullopt when there is none.
std::optional<int64_t> ProcessStartTicks(pid_t pid);
// `pid` is running (not a zombie) and is the process that started at `start_ticks` (never
// true for start_ticks 0: unknown).
bool SameProcessAlive(pid_t pid, int64_t start_ticks);

// Sends `sig` to the job's process group; OK when the group is already gone.
Status SignalGroup(pid_t pgid, int sig);

// Reaps a child of Loupe's without blocking: true once it has exited.
bool ReapChild(pid_t pid);

struct ExitStatus {
  int code = -1;    // the exit code, or -1 when ended by a signal
  int signal = 0;   // the signal that ended it, 0 for an exit
  std::string Text() const;  // "exit code 3", "killed by SIGKILL"
};
// The exit file the shim wrote; nullopt while there is none (or it is unreadable).
std::optional<ExitStatus> ReadExitFile(const std::string& path);

}  // namespace loupe::launch
