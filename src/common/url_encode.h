// Percent-encoding for URLs: RFC 3986's unreserved characters stay, every other byte is %XX
// (upper-case hex). `keep_slash` keeps '/' for a path; a query value encodes it too.
#pragma once

#include <cctype>
#include <string>

namespace loupe {

inline std::string PercentEncode(const std::string& s, bool keep_slash = false) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace loupe
