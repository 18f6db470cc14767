// The server's log: spdlog's default logger, configured once at start-up. Code logs
// with spdlog::info/warn/error directly (include <spdlog/spdlog.h> in .cc files only).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace loupe {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string file;            // also append to this file; empty: stderr only
};

// Sends the log to stderr (and the file), with the level asked for.
Status ConfigureLogging(const LogOptions& options);

// Lets at most `per_second` lines through each second, for messages a failing disk
// repeats on every request; the next line allowed says how many were held back.
// Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(int per_second) : per_second_(per_second) {}
  // True when a line may be written; `held_back` is then how many were not since.
  bool Allow(int64_t& held_back);

 private:
  const int per_second_;
  std::atomic<int64_t> window_{0};
  std::atomic<int> in_window_{0};
  std::atomic<int64_t> held_back_{0};
};

}  // namespace loupe
