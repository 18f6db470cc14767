// A/B comparison of two models on the same cases, as a page shows it: n per arm, pass
// rates with Wilson intervals, and on the cases both answered, paired tests — McNemar's
// exact test for pass/fail with the difference's paired-bootstrap 95% interval, the
// Wilcoxon signed-rank test for latency (and judge scores where both have one) with the
// mean difference's interval — Holm-adjusted across the metrics compared, each with a
// plain verdict.
#pragma once

#include <nlohmann/json.hpp>

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

}  // namespace loupe::evals
