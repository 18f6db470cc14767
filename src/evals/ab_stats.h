// A/B statistics for two models answering the same prompts: exact McNemar on pass/fail,
// Wilcoxon signed-rank on paired scores, a paired bootstrap interval, Holm's correction
// for several metrics, and the plain verdict the pages print. Distributions come from
// Boost.Math; every test here agrees with scipy 1.10 (the values are in the tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loupe::evals {

struct Interval {
  double low = 0;
  double high = 0;
};

// McNemar's exact test, two-sided: of the prompts where exactly one model passed, did A
// pass (`a_only`) about as often as B (`b_only`)? The binomial test of a_only against
// a_only + b_only at 1/2, as scipy.stats.binomtest(b_only, a_only + b_only). 1 with no
// discordant pairs.
double McNemarExactP(int64_t a_only, int64_t b_only);

// Fisher's exact test, two-sided, of two rates from different samples: A had `a_yes` of
// `a_n`, B `b_yes` of `b_n`. As scipy.stats.fisher_exact([[a_yes, a_n - a_yes], [b_yes,
// b_n - b_yes]]): the tables with the same margins no likelier than the one seen. 1 when
// either sample is empty.
double FisherExactP(int64_t a_yes, int64_t a_n, int64_t b_yes, int64_t b_n);

// Newcombe's hybrid score interval (method 10) for the difference of two independent
// rates, B's minus A's, from each rate's Wilson interval.
Interval NewcombeDifferenceInterval(int64_t a_yes, int64_t a_n, int64_t b_yes, int64_t b_n, double z = 1.959963984540054);

struct SignedRank {
  int64_t n = 0;          // nonzero differences (zeros are dropped, scipy's "wilcox")
  double statistic = 0;   // the smaller of the positive and negative rank sums
  double p_value = 1;     // two-sided
  bool exact = false;     // the exact null distribution (n <= 50, no tied magnitudes)
};

// The Wilcoxon signed-rank test of paired differences (B's score minus A's per prompt):
// exact for n <= 50 without tied magnitudes, else the normal approximation with the tie
// correction and without a continuity correction (scipy.stats.wilcoxon's defaults).
SignedRank WilcoxonSignedRank(const std::vector<double>& differences);

// Holm's step-down adjustment of p-values for comparing several metrics at once: the
// adjusted values in the input order (each at most 1, never below an earlier-ranked one).
std::vector<double> HolmAdjust(const std::vector<double>& p_values);

// The q-quantile (0..1) of sorted values, interpolating linearly between neighbours (numpy's
// default); 0 for none.
double QuantileOfSorted(const std::vector<double>& sorted, double q);

// A percentile bootstrap interval of the mean of paired differences: `resamples` draws of
// the pairs with replacement, from a fixed seed (the same data give the same interval).
Interval PairedBootstrapMeanInterval(const std::vector<double>& differences, int resamples = 10000,
                                     double level = 0.95, uint64_t seed = 1);

// One line for a person: "B better, significant (p = 0.004)", "A better, significant
// (p = 0.03)" or "no detectable difference with n = 40". `difference` is B minus A (higher
// is better); `p` already adjusted where several metrics are compared.
std::string PlainVerdict(const std::string& a, const std::string& b, double difference, double p, int64_t n,
                         double alpha = 0.05);

}  // namespace loupe::evals
