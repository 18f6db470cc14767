// Saved views of a project's runs table: a name and the table's query string (search,
// status, columns, grouping, sort). Kept as one JSON list per project in the ui_state
// table; saves and deletes are serialised here, so two at once both land.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "tracking/tracking_service.h"

namespace loupe {

struct SavedView {
  std::string name;   // 1..100 bytes, no control characters
  std::string query;  // the page's query string without '?', at most 4096 bytes
};

inline constexpr size_t kMaxSavedViews = 50;

Result<std::vector<SavedView>> ListSavedViews(TrackingService& t, int64_t project_id);
// Adds the view, or replaces the one with that name; at most kMaxSavedViews.
Status SaveView(TrackingService& t, int64_t project_id, const SavedView& view);
Status DeleteView(TrackingService& t, int64_t project_id, const std::string& name);

}  // namespace loupe
