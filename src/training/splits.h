// Train / validation / test splits: seeded, reproducible (the same seed and rows give
// the same split on every machine: mt19937_64 and a hand-written Fisher-Yates, not
// std::shuffle, whose algorithm the standard leaves open), and optionally stratified
// so every class keeps its share in each split.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace loupe::training {

struct SplitRatios {
  double train = 0.7;
  double validation = 0.15;
  double test = 0.15;
};

struct Split {
  std::vector<size_t> train, validation, test;  // row indices, ascending
};

// `labels` (one per row) makes the split stratified; empty: a plain shuffle.
// Errors name the empty split, e.g. "the test split is empty (4 rows x 0.15)".
Result<Split> MakeSplit(size_t rows, const SplitRatios& ratios, uint64_t seed, const std::vector<int>& labels = {});

}  // namespace loupe::training
