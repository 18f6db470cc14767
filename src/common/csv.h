// One CSV field per RFC 4180: quoted when it holds a comma, quote or line break, inner
// quotes doubled. Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first)
// gets a leading apostrophe, as OWASP advises: a name like =HYPERLINK(...) stays text.
#pragma once

#include <string>
#include <string_view>

namespace loupe {

inline std::string CsvField(std::string s) {
  if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) s.insert(0, 1, '\'');
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The same without the spreadsheet guard, for CSV Loupe reads back itself (a dataset's
// source): the text comes back exactly. Leading or trailing spaces are quoted too.
inline std::string CsvFieldExact(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' '))) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace loupe
