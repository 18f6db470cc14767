// The runs table's search box: whitespace-separated terms that must all match.
//   tag:best           the run has that tag
//   lr>0.01  lr<=1e-3  a config key (dots reach into nested objects) or, for a run whose
//   epochs!=3          config lacks it, a metric's last value, compared as numbers
//   optimizer=adam     equality: as numbers when both sides are numbers, to nine
//                      significant digits (lr=1e-2 matches 0.01 and 0.010000000000000002),
//                      else as text
//   resnet  "big model"  a substring of the name, run id, config or tags (any case)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct FilterTerm {
  enum class Kind { kText, kTag, kCompare };
  Kind kind = Kind::kText;
  std::string key;                // kCompare: the config or metric key
  std::string op;                 // kCompare: = != > >= < <=
  std::string value;              // text, tag, or the right-hand side as written
  std::optional<double> number;   // the right-hand side as a number, when it is one
};

struct RunFilter {
  std::vector<FilterTerm> terms;
  bool empty() const { return terms.empty(); }
};

// At most 20 terms of at most 500 bytes in all; a comparison other than = and != needs
// a number ("lr>abc" is refused with a message saying so).
Result<RunFilter> ParseRunFilter(const std::string& text);

// A config or metric value against a comparison term. `text` is the value as the table
// shows it (strings bare, numbers as JSON); `number` is set when the value is numeric.
bool CompareMatches(const FilterTerm& term, const std::string& text, std::optional<double> number);

// A string as a number when all of it is one ("1e-2", "0.01", "-3"); else nothing.
std::optional<double> ParseFilterNumber(const std::string& s);

}  // namespace loupe
