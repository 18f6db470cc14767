#include "common/path_rule.h"

#include <filesystem>

namespace loupe {

namespace fs = std::filesystem;

Result<std::string> ResolveInsideRoot(const std::string& requested, const std::string& root) {
  if (requested.empty()) return Status::BadRequest("the path must not be empty");
  if (requested.size() > 4096 || requested.find('\0') != std::string::npos) {
    return Status::BadRequest("the path is not valid");
  }
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(requested, ec), ec);
  if (ec) return Status::BadRequest("the path cannot be resolved: " + ec.message());
  fs::path base = fs::weakly_canonical(fs::absolute(root, ec), ec);
  if (ec) return Status::Internal("the eval root cannot be resolved: " + ec.message());
  // weakly_canonical keeps a trailing separator as an empty last component.
  for (fs::path* p : {&resolved, &base}) {
    if (!p->has_filename() && p->has_relative_path()) *p = p->parent_path();
  }
  auto r = resolved.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++r) {
    if (r == resolved.end() || *r != *b) {
      return Status::BadRequest("the path must be inside " + root);
    }
  }
  return resolved.string();
}

}  // namespace loupe
