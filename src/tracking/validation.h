// Rules for names that users choose. Each returns OK or a message saying exactly
// what is wrong and what is allowed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store_types.h"
#include "tracking/limits.h"

namespace loupe {

// Metric keys: 1..max_key_length bytes of [A-Za-z0-9_.-/ ], segments separated by
// single '/', no empty segment, no '.' or '..' segment, no leading/trailing space.
Status ValidateKey(std::string_view key, const Limits& limits);
// Run ids: 1..128 bytes of [A-Za-z0-9_.-].
Status ValidateRunId(std::string_view run_id);
// Client ids (an SDK process's random id): 1..64 bytes of [A-Za-z0-9_-].
Status ValidateClientId(std::string_view client);
// "absolute" (the default), "resume" or "resume_system"; see StepOrigin.
Result<StepOrigin> ParseStepOrigin(std::string_view name);
// Project and experiment names: 1..max_name_length bytes of printable UTF-8, no control characters.
Status ValidateName(std::string_view what, std::string_view name, const Limits& limits);
// Experiment tags: at most kMaxTags, each 1..kMaxTagBytes bytes after trimming spaces, no
// control characters, no commas (pages edit tags as a comma-separated list) and no double
// quotes (the search quotes a tag: tag:"two words").
// Returns them trimmed, duplicates dropped, in the order given.
inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxTagBytes = 64;
Result<std::vector<std::string>> NormalizeTags(const std::vector<std::string>& tags);

}  // namespace loupe
