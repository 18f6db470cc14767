// Validators of an answer against a format or its sources (validators.h describes them
// all; MakeValidator() builds these through MakeSourceValidator()):
//   {"type": "xml", "root": "order"}        well-formed XML (expat), optionally with this root element
//   {"type": "grounded", "check": ["numbers", "names", "quotes"]}
//       numbers, names (capitalised words) and quoted strings of the answer that appear
//       nowhere in the context, flagged with their spans
//   {"type": "citations", "min_support": 0.5, "require": false}
//       the context holds sources, each a line starting "[id]"; every [id] the answer
//       cites must exist, and the cited passage must support the sentence citing it:
//       at least `min_support` of the sentence's content words are in the passage (a
//       lexical check, not a model's). An answer that cites nothing fails, and so does
//       any answer when the context holds no sources. With `require`, every sentence of
//       three or more content words must cite too.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "common/status.h"
#include "evals/validators.h"

namespace loupe::evals {

Result<std::unique_ptr<Validator>> MakeSourceValidator(const nlohmann::json& spec);

}  // namespace loupe::evals
