#include "common/json_flatten.h"

#include <simdjson.h>

#include "common/bounded_json.h"

namespace loupe {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

void Walk(element e, const std::string& prefix, std::vector<JsonLeaf>& out) {
  if (e.type() == element_type::OBJECT) {
    simdjson::dom::object obj = e.get_object().value_unsafe();
    if (obj.size() == 0 && !prefix.empty()) {
      out.push_back({prefix, "{}", std::nullopt});
      return;
    }
    for (auto field : obj) {
      std::string key = prefix.empty() ? std::string(field.key) : prefix + "." + std::string(field.key);
      Walk(field.value, key, out);
    }
    return;
  }
  JsonLeaf leaf{prefix, "", std::nullopt};
  switch (e.type()) {
    case element_type::STRING:
      leaf.text = std::string(e.get_string().value_unsafe());
      break;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      leaf.number = e.get_double().value_unsafe();
      leaf.text = simdjson::to_string(e);
      break;
    default:
      leaf.text = simdjson::to_string(e);
  }
  out.push_back(std::move(leaf));
}

}  // namespace

std::vector<JsonLeaf> FlattenJsonObject(std::string_view text) {
  std::vector<JsonLeaf> out;
  if (JsonNestingDepth(text) > kMaxJsonDepth) return out;
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return out;
  if (root.type() != element_type::OBJECT) return out;
  Walk(root, "", out);
  return out;
}

}  // namespace loupe
