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

// The digits of an integer literal ("-0012345678901234567" -> "12345678901234567", no
// sign, no leading zeros) when it has more digits than a double holds exactly (beyond
// 2^53), so reading it as a number would change it; empty otherwise (fewer digits, not an
// integer literal, or one a double holds: 9007199254740992).
inline std::string_view InexactIntegerDigits(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() < 16 || text.size() > 400 || text.find_first_not_of("0123456789") != std::string_view::npos) return {};
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return res.ec == std::errc() && std::string_view(buf, static_cast<size_t>(res.ptr - buf)) == text ? std::string_view()
                                                                                                   : text;
}

// What a config value is, for telling values apart: a decimal number by the double it
// reads as (1, 1.0 and 1e0 are one value; 0.00001 and 1e-05 too), an integer by its
// digits (so 9007199254740993 and 9007199254740992, one double apart, stay two values),
// anything else by its text.
inline std::string ConfigValueIdentity(std::string_view text) {
  if (std::string_view digits = InexactIntegerDigits(text); !digits.empty()) {
    return std::string(!text.empty() && text.front() == '-' ? "n:-" : "n:") + std::string(digits);
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
