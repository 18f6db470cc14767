// WorkStatus: the life of a job, a run or an explorer, with DashAI's names.
//   NOT_STARTED -> DELIVERED (a run or explorer whose job is queued) -> STARTED ->
//   FINISHED | ERROR (with the error text), or CANCELLED (a job).
// Stored and served as the name; code compares the enum, never the text.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string_view>

namespace loupe {

enum class WorkStatus { kNotStarted, kDelivered, kStarted, kFinished, kError, kCancelled };

constexpr const char* WorkStatusName(WorkStatus s) {
  switch (s) {
    case WorkStatus::kNotStarted: return "NOT_STARTED";
    case WorkStatus::kDelivered: return "DELIVERED";
    case WorkStatus::kStarted: return "STARTED";
    case WorkStatus::kFinished: return "FINISHED";
    case WorkStatus::kError: return "ERROR";
    case WorkStatus::kCancelled: return "CANCELLED";
  }
  return "ERROR";
}

constexpr std::optional<WorkStatus> ParseWorkStatus(std::string_view s) {
  for (WorkStatus w : {WorkStatus::kNotStarted, WorkStatus::kDelivered, WorkStatus::kStarted, WorkStatus::kFinished,
                       WorkStatus::kError, WorkStatus::kCancelled}) {
    if (s == WorkStatusName(w)) return w;
  }
  return std::nullopt;
}

// JSON holds the name ("FINISHED"), never the enum's number.
void to_json(nlohmann::json& j, WorkStatus s);

}  // namespace loupe
