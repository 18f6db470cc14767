// Named things a project keeps for its pages, as one JSON list per project and kind in
// the ui_state table: saved views of the runs table (kind "views": the page's query
// string) and custom chart panels of its experiments (kind "panels": metric keys joined
// by commas). Saves and deletes are serialised here, so two at once both land.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "tracking/tracking_service.h"

namespace loupe {

struct SavedView {
  std::string name;   // 1..100 bytes, no control characters
  std::string value;  // views: the query string without '?'; panels: "key1,key2"
};

enum class SavedKind { kViews, kPanels };

inline constexpr size_t kMaxSavedViews = 50;
inline constexpr size_t kMaxPanelKeys = 10;

Result<std::vector<SavedView>> ListSavedViews(TrackingService& t, int64_t project_id, SavedKind kind);
// Adds the item, or replaces the one with that name; at most kMaxSavedViews. A panel's
// value must name 1..kMaxPanelKeys valid metric keys.
Status SaveView(TrackingService& t, int64_t project_id, SavedKind kind, const SavedView& view);
Status DeleteView(TrackingService& t, int64_t project_id, SavedKind kind, const std::string& name);

}  // namespace loupe
