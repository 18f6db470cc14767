#include "tracking/saved_views.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>

#include "common/bounded_json.h"

namespace loupe {

namespace {

std::mutex& ViewsMutex() {
  static std::mutex mu;
  return mu;
}

std::string Key(int64_t project_id) { return "project:" + std::to_string(project_id) + ":views"; }

Result<std::vector<SavedView>> Read(TrackingService& t, int64_t project_id) {
  LOUPE_RETURN_IF_ERROR(t.GetProject(project_id).status());
  Result<std::string> text = t.GetUiState(Key(project_id));
  std::vector<SavedView> out;
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return out;
    return text.status();
  }
  nlohmann::json list = ParseBoundedJson(*text);
  if (!list.is_array()) return out;  // unreadable: as if none were saved
  for (const auto& v : list) {
    if (v.is_object() && v.value("name", nlohmann::json()).is_string() && v.value("query", nlohmann::json()).is_string()) {
      out.push_back({v["name"].get<std::string>(), v["query"].get<std::string>()});
    }
  }
  return out;
}

Status Write(TrackingService& t, int64_t project_id, const std::vector<SavedView>& views) {
  nlohmann::json list = nlohmann::json::array();
  for (const SavedView& v : views) list.push_back({{"name", v.name}, {"query", v.query}});
  return t.SetUiState(Key(project_id), list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

Result<std::vector<SavedView>> ListSavedViews(TrackingService& t, int64_t project_id) {
  return Read(t, project_id);
}

Status SaveView(TrackingService& t, int64_t project_id, const SavedView& view) {
  if (view.name.empty() || view.name.size() > 100) return Status::InvalidArgument("a view's name has 1 to 100 bytes");
  for (unsigned char c : view.name) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("a view's name must not contain control characters");
  }
  if (view.query.size() > 4096) return Status::InvalidArgument("a view's query has at most 4096 bytes");
  for (unsigned char c : view.query) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("a view's query must not contain control characters");
  }
  std::lock_guard<std::mutex> lock(ViewsMutex());
  LOUPE_ASSIGN_OR_RETURN(std::vector<SavedView> views, Read(t, project_id));
  auto it = std::find_if(views.begin(), views.end(), [&](const SavedView& v) { return v.name == view.name; });
  if (it != views.end()) {
    it->query = view.query;
  } else {
    if (views.size() >= kMaxSavedViews) {
      return Status::InvalidArgument("a project keeps at most " + std::to_string(kMaxSavedViews) +
                                     " views; delete one first");
    }
    views.push_back(view);
  }
  return Write(t, project_id, views);
}

Status DeleteView(TrackingService& t, int64_t project_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(ViewsMutex());
  LOUPE_ASSIGN_OR_RETURN(std::vector<SavedView> views, Read(t, project_id));
  auto it = std::find_if(views.begin(), views.end(), [&](const SavedView& v) { return v.name == name; });
  if (it == views.end()) return Status::NotFound("no view named '" + name.substr(0, 100) + "'");
  views.erase(it);
  return Write(t, project_id, views);
}

}  // namespace loupe
