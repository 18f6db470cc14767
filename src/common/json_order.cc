#include "common/json_order.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include <unordered_map>

#include "common/bounded_json.h"

namespace loupe {

namespace {

namespace od = simdjson::ondemand;

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

Result<std::string_view> RawValue(od::value v) {
  od::json_type type;
  if (v.type().get(type)) return Status::InvalidArgument("not valid JSON");
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o) || o.raw_json().get(raw)) return Status::InvalidArgument("not valid JSON");
    return raw;
  }
  if (type == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return Status::InvalidArgument("not valid JSON");
    return raw;
  }
  return TrimRight(v.raw_json_token());
}

Result<JsonMembers> Members(od::object obj) {
  JsonMembers out;
  std::unordered_map<std::string, size_t> at;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Status::InvalidArgument("not valid JSON");
    od::value v;
    if (field.value().get(v)) return Status::InvalidArgument("not valid JSON");
    LOUPE_ASSIGN_OR_RETURN(std::string_view raw, RawValue(v));
    auto [it, inserted] = at.try_emplace(std::string(key), out.size());
    if (inserted) {
      out.emplace_back(std::string(key), std::string(raw));
    } else {
      out[it->second].second = std::string(raw);
    }
  }
  return out;
}

Result<JsonMembers> FieldMembers(od::object obj, std::string_view field) {
  for (auto f : obj) {
    std::string_view key;
    if (f.unescaped_key().get(key)) return Status::InvalidArgument("not valid JSON");
    if (key != field) continue;
    od::object inner;
    if (f.value().get_object().get(inner)) return Status::InvalidArgument(std::string(field) + " is not a JSON object");
    return Members(inner);
  }
  return Status::InvalidArgument(std::string(field) + " is missing");
}

// Runs `f` on the top-level object of `text` (the parser and document must outlive it).
template <typename F>
Result<JsonMembers> WithObject(std::string_view text, F f) {
  // As ParseBoundedJson: a value nested deeper is refused before it is walked (a stored
  // one from an older version must not reach a response).
  if (JsonNestingDepth(text) > kMaxJsonDepth) {
    return Status::InvalidArgument("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  od::parser parser;
  simdjson::padded_string padded(text);
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
    return Status::InvalidArgument("not a JSON object");
  }
  return f(obj);
}

}  // namespace

Result<JsonMembers> ObjectMembersInOrder(std::string_view text) {
  return WithObject(text, [](od::object obj) { return Members(obj); });
}

Result<JsonMembers> FieldMembersInOrder(std::string_view text, std::string_view field) {
  return WithObject(text, [field](od::object obj) { return FieldMembers(obj, field); });
}

void MergeMembers(JsonMembers& base, const JsonMembers& update) {
  std::unordered_map<std::string, size_t> at;
  for (size_t i = 0; i < base.size(); ++i) at.emplace(base[i].first, i);
  for (const auto& [key, value] : update) {
    auto it = at.find(key);
    if (it != at.end()) {
      base[it->second].second = value;
    } else {
      at.emplace(key, base.size());
      base.emplace_back(key, value);
    }
  }
}

std::string ObjectText(const JsonMembers& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += ',';
    out += nlohmann::json(members[i].first).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += ':';
    out += members[i].second;
  }
  out += '}';
  return out;
}

}  // namespace loupe
