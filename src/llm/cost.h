// A call's estimated cost from the model's prices per million tokens and the provider's
// token counts. Unknown (nullopt) when a count the price needs is missing or the model
// has no price: an estimate is never made up from a guess at the tokens.
#pragma once

#include <cstdint>
#include <optional>

#include "llm/chat_types.h"

namespace loupe::llm {

struct Prices {
  std::optional<double> input_per_million;   // USD per 1,000,000 prompt tokens
  std::optional<double> output_per_million;  // USD per 1,000,000 completion tokens
};

inline std::optional<double> EstimateCostUsd(const Prices& prices, const Usage& usage) {
  if (!prices.input_per_million && !prices.output_per_million) return std::nullopt;
  double cost = 0;
  if (prices.input_per_million) {
    if (!usage.prompt_tokens) return std::nullopt;
    cost += static_cast<double>(*usage.prompt_tokens) * *prices.input_per_million / 1e6;
  }
  if (prices.output_per_million) {
    if (!usage.completion_tokens) return std::nullopt;
    cost += static_cast<double>(*usage.completion_tokens) * *prices.output_per_million / 1e6;
  }
  return cost;
}

}  // namespace loupe::llm
