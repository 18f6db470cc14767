#include "claas/claas_json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/bounded_json.h"

namespace loupe::claas {

namespace {

// Each bare token becomes a JSON string holding a marker: a control character (which a
// JSON string can only hold escaped) and the token's name. The control character is one
// whose escape the text does not contain, so no string of the file can equal a marker.
struct Markers {
  std::string nan, inf, neg_inf;
};

std::optional<Markers> PickMarkers(std::string_view text) {
  for (int c = 1; c < 0x20; ++c) {
    char lower[8], upper[8];
    std::snprintf(lower, sizeof(lower), "\\u%04x", c);
    std::snprintf(upper, sizeof(upper), "\\u%04X", c);
    if (text.find(lower) != std::string_view::npos || text.find(upper) != std::string_view::npos) continue;
    const std::string lead(1, static_cast<char>(c));
    return Markers{lead + "NaN", lead + "Inf", lead + "-Inf"};
  }
  return std::nullopt;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The text with each bare token in a value's place (not a key's: Python refuses
// {NaN: 1}) replaced by a JSON string holding its marker.
std::string MarkTokens(std::string_view text, const Markers& markers, bool& found) {
  std::string out;
  out.reserve(text.size() + 16);
  std::vector<char> open;  // the containers around the current place: '{' or '['
  bool expect_key = false;
  bool in_string = false;
  auto marked = [](std::string_view marker) {
    char esc[8];
    std::snprintf(esc, sizeof(esc), "\\u%04x", static_cast<unsigned char>(marker[0]));
    return "\"" + std::string(esc) + std::string(marker.substr(1)) + "\"";
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; expect_key = false; out += c; continue;
      case '{': open.push_back('{'); expect_key = true; out += c; continue;
      case '[': open.push_back('['); expect_key = false; out += c; continue;
      case '}': case ']': if (!open.empty()) open.pop_back(); expect_key = false; out += c; continue;
      case ',': expect_key = !open.empty() && open.back() == '{'; out += c; continue;
      case ':': expect_key = false; out += c; continue;
      default: break;
    }
    auto token = [&](std::string_view word, const std::string& marker) {
      if (expect_key || text.substr(i, word.size()) != word) return false;
      const bool starts = i == 0 || !IsWordChar(text[i - 1]);
      const bool ends = i + word.size() == text.size() || !IsWordChar(text[i + word.size()]);
      if (!starts || !ends) return false;
      out += marked(marker);
      i += word.size() - 1;
      found = true;
      return true;
    };
    if (token("NaN", markers.nan) || token("Infinity", markers.inf) || token("-Infinity", markers.neg_inf)) continue;
    out += c;
  }
  return out;
}

template <class Json>
void RestoreNumbers(Json& v, const Markers& m) {
  if (v.is_string()) {
    const std::string& s = v.template get_ref<const std::string&>();
    if (s == m.nan) v = std::numeric_limits<double>::quiet_NaN();
    else if (s == m.inf) v = std::numeric_limits<double>::infinity();
    else if (s == m.neg_inf) v = -std::numeric_limits<double>::infinity();
  } else if (v.is_structured()) {
    for (auto& child : v) RestoreNumbers(child, m);
  }
}

template <class Json>
Json Parse(std::string_view text) {
  Json doc = ParseBoundedJson<Json>(text);
  if (!doc.is_discarded()) return doc;
  std::optional<Markers> markers = PickMarkers(text);
  if (!markers) return doc;
  bool found = false;
  const std::string marked = MarkTokens(text, *markers, found);
  if (!found) return doc;
  doc = ParseBoundedJson<Json>(marked);
  if (!doc.is_discarded()) RestoreNumbers(doc, *markers);
  return doc;
}

}  // namespace

nlohmann::json ParseClaasJson(std::string_view text) { return Parse<nlohmann::json>(text); }

nlohmann::ordered_json ParseClaasOrderedJson(std::string_view text) { return Parse<nlohmann::ordered_json>(text); }

}  // namespace loupe::claas
