#include "store/store_types.h"

namespace loupe {

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kFinished: return "finished";
    case RunStatus::kCrashed: return "crashed";
    case RunStatus::kStopped: return "stopped";
  }
  return "running";
}

std::optional<RunStatus> ParseRunStatus(const std::string& s) {
  if (s == "running") return RunStatus::kRunning;
  if (s == "finished") return RunStatus::kFinished;
  if (s == "crashed" || s == "failed") return RunStatus::kCrashed;
  if (s == "stopped") return RunStatus::kStopped;
  return std::nullopt;
}

const char* MediaSeriesType(const std::string& content_type) {
  if (content_type.rfind("audio/", 0) == 0) return "audio";
  if (content_type.rfind("text/plain", 0) == 0) return "text";
  if (content_type == kHistogramContentType) return "histogram";
  return "image";
}

int SwanlabStatusCode(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return 0;
    case RunStatus::kFinished: return 1;
    default: return -1;
  }
}

}  // namespace loupe
