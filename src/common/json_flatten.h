// A JSON object's leaves under dotted keys ({"opt": {"lr": 0.1}} -> "opt.lr"), read with
// simdjson in one pass: the runs table flattens every run's config on each request, so a
// 10,000-run project must not pay a DOM parse per run in nlohmann::json.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loupe {

struct JsonLeaf {
  std::string key;                // dotted path; an empty object is a leaf "{}"
  std::string text;               // strings bare; numbers, bools, null, arrays as JSON
  std::optional<double> number;   // set for numbers (and only those)
};

// The leaves of the object `text`, in document order; empty for anything that is not an
// object, is not valid JSON, or nests deeper than kMaxJsonDepth.
std::vector<JsonLeaf> FlattenJsonObject(std::string_view text);

}  // namespace loupe
