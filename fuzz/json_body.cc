// Fuzz target: parsing JSON that comes from outside — common/bounded_json.h
// (ParseBoundedJson, JsonNestingDepth, StoredJson: request bodies, uploaded and imported
// files, stored rows) and web/json_util.h ParseJsonObject (every JSON request body).
// Input: the JSON text. Checks, beyond "no crash, leak or UB":
//  - ParseBoundedJson refuses exactly what is deeper than kMaxJsonDepth, and otherwise
//    agrees with nlohmann's own parser;
//  - an accepted value serialises and parses back to itself (what storing a config
//    and reading it back does) without recursing deeper than the limit;
//  - ParseJsonObject accepts exactly the JSON objects ParseBoundedJson accepts.
// Seeds: fuzz/corpus/json_body/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "web/json_util.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const int depth = loupe::JsonNestingDepth(text);
  const json bounded = loupe::ParseBoundedJson(text);
  if (depth > loupe::kMaxJsonDepth) {
    if (!bounded.is_discarded()) std::abort();
  } else {
    const json plain = json::parse(text, nullptr, false);
    if (plain.is_discarded() != bounded.is_discarded()) std::abort();
    if (!bounded.is_discarded() && !(plain == bounded)) std::abort();
  }
  if (!bounded.is_discarded()) {
    const std::string dumped = bounded.dump();
    const json again = loupe::ParseBoundedJson(dumped);
    if (again.is_discarded() || !(again == bounded)) std::abort();
    if (loupe::StoredJson(dumped).is_null() != bounded.is_null()) std::abort();
  } else if (!loupe::StoredJson(text).is_null()) {
    std::abort();
  }
  // Key order matters for datasets (ordered_json): same verdict.
  if (loupe::ParseBoundedJson<nlohmann::ordered_json>(text).is_discarded() != bounded.is_discarded()) std::abort();

  loupe::HttpRequest req;
  req.method = "POST";
  req.content_type = "application/json";
  req.body = text;
  loupe::Result<json> object = loupe::ParseJsonObject(req, 1 << 20);
  const bool want = !bounded.is_discarded() && bounded.is_object() && !text.empty();
  if (object.ok() != want) std::abort();
  if (!object.ok()) (void)loupe::JsonError(object.status());
  return 0;
}
