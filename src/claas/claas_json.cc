#include "claas/claas_json.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "common/bounded_json.h"

namespace loupe::claas {

namespace {

// Markers no text written by Python's json module holds (a raw control character is not
// allowed in a JSON string): each stands for one bare token until the tree is walked.
constexpr std::string_view kNaN = "\x01NaN", kInf = "\x01Inf", kNegInf = "\x01-Inf";

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The text with each bare token replaced by a JSON string holding its marker.
std::string MarkTokens(std::string_view text, bool& found) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    auto token = [&](std::string_view word, std::string_view marker) {
      if (text.substr(i, word.size()) != word) return false;
      const bool starts = i == 0 || !IsWordChar(text[i - 1]);
      const bool ends = i + word.size() == text.size() || !IsWordChar(text[i + word.size()]);
      if (!starts || !ends) return false;
      out += "\"\\u0001";
      out += marker.substr(1);
      out += '"';
      i += word.size() - 1;
      found = true;
      return true;
    };
    if (token("NaN", kNaN) || token("Infinity", kInf) || token("-Infinity", kNegInf)) continue;
    out += c;
  }
  return out;
}

template <class Json>
void RestoreNumbers(Json& v) {
  if (v.is_string()) {
    const std::string& s = v.template get_ref<const std::string&>();
    if (s == kNaN) v = std::numeric_limits<double>::quiet_NaN();
    else if (s == kInf) v = std::numeric_limits<double>::infinity();
    else if (s == kNegInf) v = -std::numeric_limits<double>::infinity();
  } else if (v.is_structured()) {
    for (auto& child : v) RestoreNumbers(child);
  }
}

template <class Json>
Json Parse(std::string_view text) {
  Json doc = ParseBoundedJson<Json>(text);
  if (!doc.is_discarded()) return doc;
  bool found = false;
  const std::string marked = MarkTokens(text, found);
  if (!found) return doc;
  doc = ParseBoundedJson<Json>(marked);
  if (!doc.is_discarded()) RestoreNumbers(doc);
  return doc;
}

}  // namespace

nlohmann::json ParseClaasJson(std::string_view text) { return Parse<nlohmann::json>(text); }

nlohmann::ordered_json ParseClaasOrderedJson(std::string_view text) { return Parse<nlohmann::ordered_json>(text); }

}  // namespace loupe::claas
