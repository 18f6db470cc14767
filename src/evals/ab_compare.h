// A/B comparison of two models on the same cases, as a page shows it: n per arm, pass
// rates with Wilson intervals, and on the cases both answered, paired tests — McNemar's
// exact test for pass/fail with the difference's paired-bootstrap 95% interval, the
// Wilcoxon signed-rank test for latency (and judge scores where both have one) with the
// mean difference's interval — Holm-adjusted across the metrics compared, each with a
// plain verdict.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace loupe::evals {

// One case as each arm answered it; unset where that arm has no answer or no value.
struct PairedCase {
  std::optional<bool> a_passed, b_passed;
  std::optional<double> a_latency_ms, b_latency_ms;
  std::optional<double> a_score, b_score;  // e.g. a judge's overall score
};

// {a: {name, n, passed, pass_rate, pass_rate_ci95}, b: {...}, paired_n,
//  metrics: [{metric: pass_rate|latency_ms|judge_score, higher_is_better, n, a_mean, b_mean,
//  difference (B - A), ci95: [lo, hi], test, statistic, p_value, p_holm, verdict}]}.
// A metric with no pairs is left out.
nlohmann::json CompareArms(const std::string& a_name, const std::string& b_name, const std::vector<PairedCase>& cases,
                           int bootstrap = 10000);

// One prompt as people judged two models' answers: the row's decision between them (+1 B
// preferred, -1 A preferred, 0 a tie; unset when not decided between these two) and each
// rating criterion's score per answer (absent where unrated).
struct PairedRating {
  std::optional<int> preference;
  std::map<std::string, double> a, b;
};

// The comparison lab's A/B: {a: {name, wins}, b: {...}, ties, decided_n, metrics: [
//  {metric: preference, n (rows decided between them, ties included), a_mean, b_mean (win
//  shares), difference (B's share - A's), ci95, test: sign test (exact binomial on the
//  decisive rows), ...}, {metric: <criterion>, ... Wilcoxon signed-rank on rows where both
//  were rated}], each Holm-adjusted across the metrics, with its verdict}.
nlohmann::json CompareRatings(const std::string& a_name, const std::string& b_name, const std::vector<PairedRating>& rows,
                              const std::vector<std::string>& criteria, int bootstrap = 10000);

// Two models' rates from different prompts (thumbs up of all thumbs): {a: {name, n,
// passed, pass_rate, pass_rate_ci95}, b: {...}, paired_n: 0, metrics: [{metric: `metric`,
// n (both samples), a_mean, b_mean, difference (B - A), ci95 (Newcombe), test: "Fisher
// exact (unpaired)", p_value, p_holm, verdict}]}. No metric when either has none.
nlohmann::json CompareRates(const std::string& a_name, int64_t a_yes, int64_t a_n, const std::string& b_name,
                            int64_t b_yes, int64_t b_n, const std::string& metric);

}  // namespace loupe::evals
