// Roles, from least to most: a viewer reads, an editor also changes data (runs,
// datasets, jobs), an admin also manages users, tokens, secrets and the audit log.
#pragma once

#include <string>
#include <string_view>

namespace loupe::auth {

inline constexpr std::string_view kViewer = "viewer";
inline constexpr std::string_view kEditor = "editor";
inline constexpr std::string_view kAdmin = "admin";

// 1 viewer, 2 editor, 3 admin; 0 for anything else.
inline int RoleRank(std::string_view role) {
  if (role == kViewer) return 1;
  if (role == kEditor) return 2;
  if (role == kAdmin) return 3;
  return 0;
}
inline bool ValidRole(std::string_view role) { return RoleRank(role) > 0; }

}  // namespace loupe::auth
