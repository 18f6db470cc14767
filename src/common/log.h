// The server's log: spdlog's default logger, configured once at start-up. Code logs
// with spdlog::info/warn/error directly (include <spdlog/spdlog.h> in .cc files only).
#pragma once

#include <string>

#include "common/status.h"

namespace loupe {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string file;            // also append to this file; empty: stderr only
};

// Sends the log to stderr (and the file), with the level asked for.
Status ConfigureLogging(const LogOptions& options);

}  // namespace loupe
