#include "evals/ab_stats.h"

#include <algorithm>
#include <array>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "common/ranks.h"

namespace loupe::evals {

double McNemarExactP(int64_t a_only, int64_t b_only) {
  const int64_t n = a_only + b_only;
  if (n <= 0) return 1.0;
  const boost::math::binomial_distribution<double> binomial(static_cast<double>(n), 0.5);
  const double k = static_cast<double>(std::min(a_only, b_only));
  // Symmetric at 1/2: twice the smaller tail (k == n/2 gives more than 1, hence the cap).
  return std::min(1.0, 2 * boost::math::cdf(binomial, k));
}

SignedRank WilcoxonSignedRank(const std::vector<double>& differences) {
  std::vector<double> d;
  for (double x : differences) {
    if (std::isfinite(x) && x != 0) d.push_back(x);
  }
  SignedRank out;
  out.n = static_cast<int64_t>(d.size());
  if (d.empty()) return out;
  std::vector<double> magnitude(d.size());
  for (size_t i = 0; i < d.size(); ++i) magnitude[i] = std::fabs(d[i]);
  const std::vector<double> rank = AverageRanks(magnitude);
  std::vector<double> sorted_magnitude = magnitude;
  std::sort(sorted_magnitude.begin(), sorted_magnitude.end());
  const bool tied = std::adjacent_find(sorted_magnitude.begin(), sorted_magnitude.end()) != sorted_magnitude.end();
  double plus = 0, minus = 0;
  for (size_t i = 0; i < d.size(); ++i) (d[i] > 0 ? plus : minus) += rank[i];
  out.statistic = std::min(plus, minus);
  const double n = static_cast<double>(d.size());
  if (d.size() <= 50 && !tied) {
    // The exact null distribution of the positive rank sum: how many of the 2^n sign
    // choices give each sum (counts as doubles: 2^50 is exact in a double).
    const int max_sum = static_cast<int>(n * (n + 1) / 2);
    std::vector<double> ways(static_cast<size_t>(max_sum) + 1, 0.0);
    ways[0] = 1;
    for (int r = 1; r <= static_cast<int>(n); ++r) {
      for (int s = max_sum; s >= r; --s) ways[s] += ways[s - r];
    }
    double at_most = 0;
    for (int s = 0; s <= static_cast<int>(out.statistic); ++s) at_most += ways[s];
    out.p_value = std::min(1.0, 2 * at_most / std::ldexp(1.0, static_cast<int>(n)));
    out.exact = true;
    return out;
  }
  double variance = n * (n + 1) * (2 * n + 1);
  std::vector<double> sorted = rank;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[i]) ++j;
    const double t = static_cast<double>(j - i + 1);
    if (t > 1) variance -= 0.5 * t * (t * t - 1);
    i = j + 1;
  }
  const double se = std::sqrt(variance / 24);
  if (se <= 0) return out;
  const double z = (out.statistic - n * (n + 1) / 4) / se;
  const boost::math::normal_distribution<double> normal;
  out.p_value = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(normal, std::fabs(z))));
  return out;
}

std::vector<double> HolmAdjust(const std::vector<double>& p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t k = 0; k < m; ++k) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - k) * p_values[order[k]]));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

double QuantileOfSorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

Interval PairedBootstrapMeanInterval(const std::vector<double>& differences, int resamples, double level,
                                     uint64_t seed) {
  if (differences.empty() || resamples < 1) return {};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, differences.size() - 1);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < differences.size(); ++i) sum += differences[pick(rng)];
    m = sum / static_cast<double>(differences.size());
  }
  std::sort(means.begin(), means.end());
  const double tail = (1 - level) / 2;
  return {QuantileOfSorted(means, tail), QuantileOfSorted(means, 1 - tail)};
}

std::string PlainVerdict(const std::string& a, const std::string& b, double difference, double p, int64_t n,
                         double alpha) {
  char text[64];
  if (p < alpha && difference != 0) {
    std::snprintf(text, sizeof text, "%.2g", p);
    return (difference > 0 ? b : a) + " better, significant (p = " + text + ")";
  }
  return "no detectable difference with n = " + std::to_string(n);
}

double FisherExactP(int64_t a_yes, int64_t a_n, int64_t b_yes, int64_t b_n) {
  if (a_n <= 0 || b_n <= 0) return 1.0;
  const int64_t total = a_n + b_n, yes = a_yes + b_yes;
  const int64_t lo = std::max<int64_t>(0, yes - b_n), hi = std::min(yes, a_n);
  // The hypergeometric log-probabilities from Boost's lgamma: one call per table, where
  // Boost's own pdf factorises over the primes up to N for every table (seconds at 10^4).
  auto log_choose = [](int64_t n, int64_t k) {
    return boost::math::lgamma(static_cast<double>(n + 1)) - boost::math::lgamma(static_cast<double>(k + 1)) -
           boost::math::lgamma(static_cast<double>(n - k + 1));
  };
  const double log_all = log_choose(total, a_n);
  auto log_p = [&](int64_t x) { return log_choose(yes, x) + log_choose(total - yes, a_n - x) - log_all; };
  const double seen = log_p(a_yes);
  double p = 0;
  // scipy's tolerance: tables as likely as the one seen, to rounding, count.
  for (int64_t x = lo; x <= hi; ++x) {
    const double lx = log_p(x);
    if (lx <= seen + std::log1p(1e-7)) p += std::exp(lx);
  }
  return std::min(1.0, p);
}

Interval NewcombeDifferenceInterval(int64_t a_yes, int64_t a_n, int64_t b_yes, int64_t b_n, double z) {
  auto wilson = [z](int64_t yes, int64_t n) {
    const double p = static_cast<double>(yes) / static_cast<double>(n);
    const double d = 1 + z * z / n;
    const double c = (p + z * z / (2.0 * n)) / d;
    const double h = z * std::sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
    return std::array<double, 3>{p, c - h, c + h};
  };
  if (a_n <= 0 || b_n <= 0) return {-1, 1};
  const auto [pa, la, ua] = wilson(a_yes, a_n);
  const auto [pb, lb, ub] = wilson(b_yes, b_n);
  const double d = pb - pa;
  return {d - std::sqrt((pb - lb) * (pb - lb) + (ua - pa) * (ua - pa)),
          d + std::sqrt((ub - pb) * (ub - pb) + (pa - la) * (pa - la))};
}

}  // namespace loupe::evals
