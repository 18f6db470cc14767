// Runs a program to completion and returns what it printed: for the scheduler's command
// line tools (sbatch, squeue, scontrol, scancel, sacct). posix_spawn, so it is safe from
// Loupe's threads; no shell, so no argument is ever interpreted; bounded in time and output.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::launch {

struct ProgramRun {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "NAME=value", the whole environment; empty: Loupe's own
  int timeout_ms = 30000;         // SIGKILL after this
  size_t max_output = 1 << 20;    // per stream; the rest is read and dropped
};

struct ProgramOutput {
  int exit_code = -1;  // -1: ended by a signal (or killed at the timeout)
  bool timed_out = false;
  bool truncated = false;  // more than max_output was printed on a stream
  std::string out, err;
  // "sbatch: error: ..." trimmed: the first non-empty of stderr and stdout, for messages.
  std::string Message() const;
};

// `s` without the spaces and line ends around it (a tool's one-line answer).
std::string TrimSpace(const std::string& s);

// Unavailable when the program cannot be started (not installed); otherwise the output,
// whatever its exit code.
Result<ProgramOutput> RunProgram(const ProgramRun& run);

}  // namespace loupe::launch
