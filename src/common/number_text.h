// One way to write a number in every export (CSV and JSON alike): the shortest text that
// reads back as the same double (1e-05, not 1.0000000000000001e-05), and NaN and the
// infinities as the quoted words "NaN", "Infinity" and "-Infinity", which JSON has no
// literal for and which pandas reads back from a CSV as the same values.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace loupe {

inline void AppendNumberText(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, res.ptr);
  }
}

// What a config value is, for telling values apart: a decimal number by the double it
// reads as (1, 1.0 and 1e0 are one value; 0.00001 and 1e-05 too), an integer by its
// digits (so 9007199254740993 and 9007199254740992, one double apart, stay two values),
// anything else by its text.
inline std::string ConfigValueIdentity(std::string_view text) {
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.size() > 15 && digits.size() < 400 && digits.find_first_not_of("0123456789") == std::string_view::npos) {
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    double d = 0;
    char buf[512];
    std::from_chars(digits.data(), digits.data() + digits.size(), d);
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
    if (res.ec != std::errc() || std::string_view(buf, static_cast<size_t>(res.ptr - buf)) != digits) {
      return std::string(negative ? "n:-" : "n:") + std::string(digits);  // more digits than a double holds
    }
  }
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(v)) {
    return "t:" + std::string(text);
  }
  std::string out = "n:";
  AppendNumberText(out, v == 0 ? 0.0 : v);  // -0 is 0
  return out;
}

}  // namespace loupe
