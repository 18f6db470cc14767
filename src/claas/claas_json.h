// CLaaS's files come from Python's json module, which writes a non-finite float as a
// bare NaN, Infinity or -Infinity token (not JSON) and reads it back. One such number in
// a typed field must not make a whole log, steps line or summary unreadable, so CLaaS's
// files are read with these tokens accepted, as the doubles they denote. Only there:
// Loupe's own API keeps refusing them.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace loupe::claas {

// ParseBoundedJson, with bare NaN / Infinity / -Infinity tokens outside strings read as
// those numbers (nlohmann::json holds them; they dump as null). Discarded when invalid.
nlohmann::json ParseClaasJson(std::string_view text);
// The same, keeping the file's order of keys (CLaaS shows summary.json in that order).
nlohmann::ordered_json ParseClaasOrderedJson(std::string_view text);

}  // namespace loupe::claas
