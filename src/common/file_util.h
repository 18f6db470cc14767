// Reading whole files with a size cap, for user-provided and on-disk data files.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace loupe {

// The file's bytes; NotFound when it cannot be opened (messages never name the path,
// since they reach users), TooLarge above `max_bytes`
// (the message gives both sizes).
Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes);

}  // namespace loupe
