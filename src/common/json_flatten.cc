#include "common/json_flatten.h"

#include <simdjson.h>

#include <charconv>

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
      leaf.number = e.get_double().value_unsafe();
      leaf.text = simdjson::to_string(e);
      break;
    case element_type::DOUBLE: {
      // The shortest text that reads back as the same double: 32.0 and 32 are one value
      // (one group, one column entry), 1e-4 stays 0.0001.
      // Written as JavaScript writes numbers: plain from 1e-6 up to 1e21, else scientific.
      double v = e.get_double().value_unsafe();
      char buf[400];
      const double a = v < 0 ? -v : v;
      const auto fmt = (a == 0 || (a >= 1e-6 && a < 1e21)) ? std::chars_format::fixed : std::chars_format::scientific;
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, fmt);
      leaf.number = v;
      leaf.text = ec == std::errc() ? std::string(buf, end) : simdjson::to_string(e);
      break;
    }
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
