// ASCII lower and upper case, for names compared without case (file extensions, header names,
// keywords); other bytes, UTF-8 included, are left as they are.
#pragma once

#include <cctype>
#include <string>

namespace loupe {

inline std::string AsciiLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::string AsciiUpper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace loupe
