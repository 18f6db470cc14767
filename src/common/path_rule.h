// The rule for every path a user names (CLaaS results_dir, dataset imports): it must
// resolve, after `..` and symlinks, to the allowed root or something inside it,
// compared by whole path components (so `data/evals2` is outside `data/evals`).
#pragma once

#include <string>

#include "common/status.h"

namespace loupe {

// Returns the resolved absolute path, or BadRequest naming the rule. Relative paths
// are taken from the working directory, as CLaaS does. Nothing is read but the
// folder's own path.
Result<std::string> ResolveInsideRoot(const std::string& requested, const std::string& root);

}  // namespace loupe
