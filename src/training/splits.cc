#include "training/splits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace loupe::training {

namespace {

void Shuffle(std::vector<size_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);  // modulo bias is below 1e-9 for any realistic size
    std::swap(v[i - 1], v[j]);
  }
}

std::string Describe(size_t rows, double ratio) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "(%zu rows x %g)", rows, ratio);
  return buf;
}

}  // namespace

Result<Split> MakeSplit(size_t rows, const SplitRatios& r, uint64_t seed, const std::vector<int>& labels) {
  for (double x : {r.train, r.validation, r.test}) {
    if (!(x >= 0) || x > 1) return Status::InvalidArgument("split ratios must be between 0 and 1");
  }
  if (std::fabs(r.train + r.validation + r.test - 1.0) > 1e-6) {
    return Status::InvalidArgument("split ratios must add up to 1");
  }
  if (!labels.empty() && labels.size() != rows) return Status::InvalidArgument("one label per row is needed to stratify");
  std::mt19937_64 rng(seed);
  // Groups: one per class when stratifying, else one.
  std::map<int, std::vector<size_t>> groups;
  for (size_t i = 0; i < rows; ++i) groups[labels.empty() ? 0 : labels[i]].push_back(i);
  Split s;
  for (auto& [label, idx] : groups) {
    Shuffle(idx, rng);
    size_t n = idx.size();
    size_t n_test = static_cast<size_t>(std::llround(static_cast<double>(n) * r.test));
    size_t n_val = static_cast<size_t>(std::llround(static_cast<double>(n) * r.validation));
    n_test = std::min(n_test, n);
    n_val = std::min(n_val, n - n_test);
    s.test.insert(s.test.end(), idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n_test));
    s.validation.insert(s.validation.end(), idx.begin() + static_cast<std::ptrdiff_t>(n_test),
                        idx.begin() + static_cast<std::ptrdiff_t>(n_test + n_val));
    s.train.insert(s.train.end(), idx.begin() + static_cast<std::ptrdiff_t>(n_test + n_val), idx.end());
  }
  for (auto* v : {&s.train, &s.validation, &s.test}) std::sort(v->begin(), v->end());
  if (s.train.empty()) return Status::InvalidArgument("the train split is empty " + Describe(rows, r.train));
  if (r.validation > 0 && s.validation.empty()) {
    return Status::InvalidArgument("the validation split is empty " + Describe(rows, r.validation));
  }
  if (r.test > 0 && s.test.empty()) return Status::InvalidArgument("the test split is empty " + Describe(rows, r.test));
  return s;
}

}  // namespace loupe::training
