// The members of a JSON object in the order they were written. nlohmann::json sorts
// keys and nlohmann::ordered_json finds each key by a linear search (a 40,000-key config
// took seconds), so the order is read with simdjson in one pass instead.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loupe {

// (key, value as JSON text) of each member of the object `text`, in order; a key given
// twice keeps its first place and its last value (as a parser that keeps the last does).
// Text nested deeper than kMaxJsonDepth is refused, as ParseBoundedJson does.
using JsonMembers = std::vector<std::pair<std::string, std::string>>;
Result<JsonMembers> ObjectMembersInOrder(std::string_view text);

// The members of the object that member `field` of the object `text` holds.
Result<JsonMembers> FieldMembersInOrder(std::string_view text, std::string_view field);

// `base` with `update`'s members: a key already there keeps its place and takes the new
// value, new keys go last.
void MergeMembers(JsonMembers& base, const JsonMembers& update);

// The members as a JSON object text.
std::string ObjectText(const JsonMembers& members);

}  // namespace loupe
