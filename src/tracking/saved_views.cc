#include "tracking/saved_views.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>

#include "common/bounded_json.h"
#include "tracking/validation.h"

namespace loupe {

namespace {

std::mutex& ViewsMutex() {
  static std::mutex mu;
  return mu;
}

std::string Key(int64_t project_id, SavedKind kind) {
  return "project:" + std::to_string(project_id) + (kind == SavedKind::kViews ? ":views" : ":panels");
}

Result<std::vector<SavedView>> Read(TrackingService& t, int64_t project_id, SavedKind kind) {
  LOUPE_RETURN_IF_ERROR(t.GetProject(project_id).status());
  Result<std::string> text = t.GetUiState(Key(project_id, kind));
  std::vector<SavedView> out;
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return out;
    return text.status();
  }
  nlohmann::json list = ParseBoundedJson(*text);
  if (!list.is_array()) return out;  // unreadable: as if none were saved
  for (const auto& v : list) {
    if (v.is_object() && v.value("name", nlohmann::json()).is_string() && v.value("value", nlohmann::json()).is_string()) {
      out.push_back({v["name"].get<std::string>(), v["value"].get<std::string>()});
    }
  }
  return out;
}

Status Write(TrackingService& t, int64_t project_id, SavedKind kind, const std::vector<SavedView>& views) {
  nlohmann::json list = nlohmann::json::array();
  for (const SavedView& v : views) list.push_back({{"name", v.name}, {"value", v.value}});
  return t.SetUiState(Key(project_id, kind), list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Status ValidatePanelKeys(const std::string& value, const Limits& limits) {
  size_t n = 0, start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string key = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    LOUPE_RETURN_IF_ERROR(ValidateKey(key, limits));
    if (++n > kMaxPanelKeys) {
      return Status::InvalidArgument("a panel draws at most " + std::to_string(kMaxPanelKeys) + " keys");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<SavedView>> ListSavedViews(TrackingService& t, int64_t project_id, SavedKind kind) {
  return Read(t, project_id, kind);
}

Status SaveView(TrackingService& t, int64_t project_id, SavedKind kind, const SavedView& view) {
  const std::string what = kind == SavedKind::kViews ? "a view's" : "a panel's";
  if (view.name.empty() || view.name.size() > 100) return Status::InvalidArgument(what + " name has 1 to 100 bytes");
  for (unsigned char c : view.name) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(what + " name must not contain control characters");
  }
  if (view.value.size() > 4096) return Status::InvalidArgument(what + " value has at most 4096 bytes");
  for (unsigned char c : view.value) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(what + " value must not contain control characters");
  }
  if (kind == SavedKind::kPanels) LOUPE_RETURN_IF_ERROR(ValidatePanelKeys(view.value, t.limits()));
  std::lock_guard<std::mutex> lock(ViewsMutex());
  LOUPE_ASSIGN_OR_RETURN(std::vector<SavedView> views, Read(t, project_id, kind));
  auto it = std::find_if(views.begin(), views.end(), [&](const SavedView& v) { return v.name == view.name; });
  if (it != views.end()) {
    it->value = view.value;
  } else {
    if (views.size() >= kMaxSavedViews) {
      return Status::InvalidArgument("a project keeps at most " + std::to_string(kMaxSavedViews) +
                                     (kind == SavedKind::kViews ? " views" : " panels") + "; delete one first");
    }
    views.push_back(view);
  }
  return Write(t, project_id, kind, views);
}

Status DeleteView(TrackingService& t, int64_t project_id, SavedKind kind, const std::string& name) {
  std::lock_guard<std::mutex> lock(ViewsMutex());
  LOUPE_ASSIGN_OR_RETURN(std::vector<SavedView> views, Read(t, project_id, kind));
  auto it = std::find_if(views.begin(), views.end(), [&](const SavedView& v) { return v.name == name; });
  if (it == views.end()) {
    return Status::NotFound(std::string(kind == SavedKind::kViews ? "no view" : "no panel") + " named '" +
                            name.substr(0, 100) + "'");
  }
  views.erase(it);
  return Write(t, project_id, kind, views);
}

}  // namespace loupe
