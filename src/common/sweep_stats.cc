#include "common/sweep_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace loupe {

std::optional<double> EtaSquared(const std::vector<std::string>& labels, const std::vector<double>& ys) {
  if (labels.size() != ys.size() || ys.size() < 3) return std::nullopt;
  const double n = static_cast<double>(ys.size());
  const double mean = std::accumulate(ys.begin(), ys.end(), 0.0) / n;
  std::map<std::string, std::pair<double, int64_t>> groups;  // label -> (sum, count)
  double total = 0;
  for (size_t i = 0; i < ys.size(); ++i) {
    auto& g = groups[labels[i]];
    g.first += ys[i];
    ++g.second;
    total += (ys[i] - mean) * (ys[i] - mean);
  }
  // A constant metric has nothing to explain; its mean can miss it by a rounding, so
  // the values are compared, not the rounded total.
  const auto [lo, hi] = std::minmax_element(ys.begin(), ys.end());
  if (groups.size() < 2 || total == 0 || *lo == *hi) return std::nullopt;
  double between = 0;
  for (const auto& [label, g] : groups) {
    double gm = g.first / static_cast<double>(g.second);
    between += static_cast<double>(g.second) * (gm - mean) * (gm - mean);
  }
  return std::min(1.0, between / total);
}

std::vector<std::string> QuantileBins(const std::vector<double>& xs, int bins) {
  std::vector<double> ranks = AverageRanks(xs);
  std::vector<std::string> out(xs.size());
  const double n = static_cast<double>(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    int b = static_cast<int>(std::floor((ranks[i] - 1.0) * bins / n));
    out[i] = std::to_string(std::clamp(b, 0, bins - 1));
  }
  return out;
}

std::optional<double> NumericEtaSquared(const std::vector<double>& xs, const std::vector<double>& ys, int max_groups) {
  if (xs.size() != ys.size()) return std::nullopt;
  std::set<double> distinct(xs.begin(), xs.end());
  if (distinct.size() > static_cast<size_t>(max_groups)) {
    // At least two runs a bin: five bins of six runs would explain most of pure noise.
    const int bins = std::clamp(static_cast<int>(xs.size() / 2), 2, max_groups);
    return EtaSquared(QuantileBins(xs, bins), ys);
  }
  std::vector<std::string> labels;
  labels.reserve(xs.size());
  for (double x : xs) labels.push_back(std::to_string(std::distance(distinct.begin(), distinct.find(x))));
  return EtaSquared(labels, ys);
}

}  // namespace loupe
