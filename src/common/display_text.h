// Small text forms shared by the pages, the CLI's output and the job supervisor's events.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace loupe {

// 'it'\''s': one word to a POSIX shell, whatever it holds.
inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "$0.0042" under a dollar (a short CPU job costs cents), "$12.35" from one up; "—" for
// what is not a number.
inline std::string FormatDollars(double usd) {
  if (!std::isfinite(usd)) return "—";
  char buf[48];
  std::snprintf(buf, sizeof buf, std::fabs(usd) < 1 ? "$%.4f" : "$%.2f", usd);
  return buf;
}

}  // namespace loupe
