// How the LLM pages write an answer's numbers: durations, token counts, costs and rates.
// Unknown values say so ("tokens unknown"), never a made-up zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace loupe {

// 0.42 -> "0.42 ms", 12.34 -> "12.3 ms", 850 -> "850 ms", 1234 -> "1.23 s", 61000 -> "61.0 s".
std::string FormatMillis(double ms);
// "12 in + 34 out = 46 tokens"; a missing side is "?" and the total is left out.
std::string FormatTokens(std::optional<int64_t> prompt, std::optional<int64_t> completion);
// Dollars to three significant digits: "$0.0000412", "$0.0123", "$1.23", "$1,234.57"; "cost unknown".
std::string FormatUsd(std::optional<double> usd);
// A share as a percentage with no more than one decimal: 0.4 -> "40%", 0.123 -> "12.3%".
std::string FormatPercent(double share);

}  // namespace loupe
