// Rule validators: checks of an answer that need no model, each a pass or fail with the
// evidence (the exact spans of the answer, or the field, that decided it) and a score
// where one fits. A validator is described in JSON, as test sets and suites carry them:
//   {"type": "contains", "value": "Paris", "case_sensitive": false}
//   {"type": "not_contains", "value": "As an AI"}
//   {"type": "regex", "pattern": "\\d+ km/s", "case_sensitive": true}   RE2 syntax; also not_regex
//   {"type": "markdown_sections", "required": ["Summary", "Steps"]}   ATX headings, any level
//   {"type": "json"}                                   the answer parses as JSON
//   {"type": "json_schema", "schema": {...}}           ... and validates (valijson)
//   {"type": "length", "min": 10, "max": 500}          in characters (UTF-8 code points)
//   {"type": "refusal", "expect": false}               a refusal found (or not) where expected
//   {"type": "grounded_numbers"}                       every number in the answer is in the context
//   {"type": "xml", "root": "order"}, {"type": "grounded", "check": [...]},
//   {"type": "citations", "min_support": 0.5}          see source_validators.h
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::evals {

struct Span {
  size_t begin = 0;  // byte offsets into the answer
  size_t end = 0;
  std::string text;
};

struct ValidatorResult {
  std::string type;
  bool passed = false;
  std::optional<double> score;  // where a share fits (grounded_numbers: the share grounded)
  std::string message;          // why, in a sentence
  std::vector<Span> spans;      // the evidence
};

class Validator {
 public:
  virtual ~Validator() = default;
  // `context`: the text the answer should rest on ("" : none).
  virtual ValidatorResult Check(const std::string& answer, const std::string& context) const = 0;
};

// A validator from its description; InvalidArgument naming the problem (an unknown type or
// field, a bad schema, min above max).
Result<std::unique_ptr<Validator>> MakeValidator(const nlohmann::json& spec);

// InvalidArgument naming a field of `spec` that is not "type" or one of `allowed` (and
// listing those it has).
Status CheckValidatorFields(const nlohmann::json& spec, std::set<std::string> allowed);

// The numbers of `s` ("1,200", "4.5"), and the form two mentions of one number share.
std::vector<Span> FindNumbers(const std::string& s);
std::string CanonicalNumber(std::string number);

}  // namespace loupe::evals
