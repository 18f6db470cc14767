// Parsing JSON that comes from outside the process — request bodies, uploaded and
// imported files, and rows older versions stored — with its nesting bounded.
// Serialising a value (and, in places, flattening or comparing it) recurses once per
// level, so a body of 200 KB nested 60,000 deep overflowed the stack and killed the
// server; a value stored that deep then killed every later read of it.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace loupe {

// The deepest nesting of arrays and objects Loupe accepts (documented in docs/api.md).
inline constexpr int kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in `text`, skipping strings; counting stops
// at `stop_above` + 1, so the cost is one pass whatever the depth.
int JsonNestingDepth(std::string_view text, int stop_above = kMaxJsonDepth);

// Json::parse(text, nullptr, false), except that text nested deeper than kMaxJsonDepth
// gives a discarded value without being parsed, as invalid JSON does. Json is
// nlohmann::json, or nlohmann::ordered_json where the order of keys matters.
template <class Json = nlohmann::json>
Json ParseBoundedJson(std::string_view text) {
  if (JsonNestingDepth(text) > kMaxJsonDepth) return Json(Json::value_t::discarded);
  return Json::parse(text.begin(), text.end(), nullptr, false);
}

// A stored JSON text as a value to embed in a response or a page: ParseBoundedJson, but
// null where that is discarded (a discarded value would serialise as invalid JSON).
nlohmann::json StoredJson(std::string_view text);

}  // namespace loupe
