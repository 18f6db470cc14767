#include "evals/ab_compare.h"

#include <cstdio>
#include <numeric>

#include "evals/ab_stats.h"
#include "llm/feedback_service.h"

namespace loupe::evals {

namespace {

using nlohmann::json;

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

json Arm(const std::string& name, const std::vector<PairedCase>& cases, bool a) {
  int64_t n = 0, passed = 0;
  for (const PairedCase& c : cases) {
    const std::optional<bool>& p = a ? c.a_passed : c.b_passed;
    if (!p) continue;
    ++n;
    passed += *p ? 1 : 0;
  }
  std::optional<llm::Interval> ci = llm::WilsonInterval(passed, n);
  return {{"name", name},
          {"n", n},
          {"passed", passed},
          {"pass_rate", n ? json(static_cast<double>(passed) / n) : json(nullptr)},
          {"pass_rate_ci95", ci ? json::array({ci->low, ci->high}) : json(nullptr)}};
}

// A paired metric of scores (B's minus A's per case): Wilcoxon signed-rank, the mean
// difference's paired-bootstrap interval. Nothing for no pairs.
void AddContinuous(json& metrics, std::vector<double>& p_values, const std::string& name, bool higher_is_better,
                   const std::vector<double>& as, const std::vector<double>& bs, int bootstrap) {
  if (as.empty()) return;
  std::vector<double> diffs(as.size());
  for (size_t i = 0; i < as.size(); ++i) diffs[i] = bs[i] - as[i];
  const SignedRank w = WilcoxonSignedRank(diffs);
  const Interval ci = PairedBootstrapMeanInterval(diffs, bootstrap);
  metrics.push_back({{"metric", name}, {"higher_is_better", higher_is_better}, {"n", diffs.size()},
                     {"a_mean", Mean(as)}, {"b_mean", Mean(bs)}, {"difference", Mean(diffs)},
                     {"ci95", {ci.low, ci.high}}, {"test", w.exact ? "Wilcoxon signed-rank (exact)" : "Wilcoxon signed-rank (normal)"},
                     {"statistic", {{"w", w.statistic}, {"nonzero", w.n}}}, {"p_value", w.p_value}});
  p_values.push_back(w.p_value);
}

// Several metrics compared at once: Holm's adjustment before any verdict.
void Verdicts(json& metrics, const std::vector<double>& p_values, const std::string& a_name, const std::string& b_name) {
  const std::vector<double> adjusted = HolmAdjust(p_values);
  for (size_t i = 0; i < metrics.size(); ++i) {
    json& m = metrics[i];
    m["p_holm"] = adjusted[i];
    const double diff = m["difference"].get<double>();
    std::string verdict = PlainVerdict(a_name, b_name, m["higher_is_better"].get<bool>() ? diff : -diff, adjusted[i],
                                       m["n"].get<int64_t>());
    const double alone = m["p_value"].get<double>();
    if (alone < 0.05 && adjusted[i] >= 0.05) {
      // Significant alone, not once corrected for the other metrics: say both, so the
      // verdict does not seem to contradict its own interval and p.
      char text[96];
      std::snprintf(text, sizeof text, " after Holm's correction for %zu metrics (p = %.2g; alone %.2g)",
                    metrics.size(), adjusted[i], alone);
      verdict += text;
    }
    m["verdict"] = verdict;
  }
}

}  // namespace

json CompareRatings(const std::string& a_name, const std::string& b_name, const std::vector<PairedRating>& rows,
                    const std::vector<std::string>& criteria, int bootstrap) {
  json metrics = json::array();
  std::vector<double> p_values;
  int64_t a_wins = 0, b_wins = 0, ties = 0;
  std::vector<double> diffs, as, bs;
  for (const PairedRating& r : rows) {
    if (!r.preference) continue;
    const int p = *r.preference;
    a_wins += p < 0 ? 1 : 0;
    b_wins += p > 0 ? 1 : 0;
    ties += p == 0 ? 1 : 0;
    diffs.push_back(p);
    as.push_back(p < 0 ? 1 : 0);
    bs.push_back(p > 0 ? 1 : 0);
  }
  if (!diffs.empty()) {
    // The sign test: of the rows decided for one of them, did each win about half? (Ties
    // count in n and the mean, not in the test.)
    const Interval ci = PairedBootstrapMeanInterval(diffs, bootstrap);
    const double p = McNemarExactP(a_wins, b_wins);
    metrics.push_back({{"metric", "preference"}, {"higher_is_better", true}, {"n", diffs.size()},
                       {"a_mean", Mean(as)}, {"b_mean", Mean(bs)}, {"difference", Mean(diffs)},
                       {"ci95", {ci.low, ci.high}}, {"test", "sign test (exact binomial)"},
                       {"statistic", {{"a_wins", a_wins}, {"b_wins", b_wins}, {"ties", ties}}}, {"p_value", p}});
    p_values.push_back(p);
  }
  for (const std::string& c : criteria) {
    std::vector<double> ra, rb;
    for (const PairedRating& r : rows) {
      auto x = r.a.find(c), y = r.b.find(c);
      if (x == r.a.end() || y == r.b.end()) continue;
      ra.push_back(x->second);
      rb.push_back(y->second);
    }
    AddContinuous(metrics, p_values, c, true, ra, rb, bootstrap);
  }
  Verdicts(metrics, p_values, a_name, b_name);
  return {{"a", {{"name", a_name}, {"wins", a_wins}}},
          {"b", {{"name", b_name}, {"wins", b_wins}}},
          {"ties", ties},
          {"decided_n", diffs.size()},
          {"metrics", metrics}};
}

json CompareRates(const std::string& a_name, int64_t a_yes, int64_t a_n, const std::string& b_name, int64_t b_yes,
                  int64_t b_n, const std::string& metric) {
  auto arm = [](const std::string& name, int64_t yes, int64_t n) {
    std::optional<llm::Interval> ci = llm::WilsonInterval(yes, n);
    return json{{"name", name},
                {"n", n},
                {"passed", yes},
                {"pass_rate", n ? json(static_cast<double>(yes) / static_cast<double>(n)) : json(nullptr)},
                {"pass_rate_ci95", ci ? json::array({ci->low, ci->high}) : json(nullptr)}};
  };
  json metrics = json::array();
  std::vector<double> p_values;
  if (a_n > 0 && b_n > 0) {
    const double pa = static_cast<double>(a_yes) / static_cast<double>(a_n);
    const double pb = static_cast<double>(b_yes) / static_cast<double>(b_n);
    const Interval ci = NewcombeDifferenceInterval(a_yes, a_n, b_yes, b_n);
    const double p = FisherExactP(a_yes, a_n, b_yes, b_n);
    metrics.push_back({{"metric", metric}, {"higher_is_better", true}, {"n", a_n + b_n}, {"a_mean", pa}, {"b_mean", pb},
                       {"difference", pb - pa}, {"ci95", {ci.low, ci.high}}, {"test", "Fisher exact (unpaired)"},
                       {"statistic", {{"a", {a_yes, a_n}}, {"b", {b_yes, b_n}}}}, {"p_value", p}});
    p_values.push_back(p);
  }
  Verdicts(metrics, p_values, a_name, b_name);
  return {{"a", arm(a_name, a_yes, a_n)}, {"b", arm(b_name, b_yes, b_n)}, {"paired_n", 0}, {"metrics", metrics}};
}

json CompareArms(const std::string& a_name, const std::string& b_name, const std::vector<PairedCase>& cases,
                 int bootstrap) {
  json metrics = json::array();
  std::vector<double> p_values;
  int64_t paired_n = 0;
  // Pass/fail: McNemar on the discordant pairs.
  {
    std::vector<double> diffs, as, bs;
    int64_t a_only = 0, b_only = 0;
    for (const PairedCase& c : cases) {
      if (!c.a_passed || !c.b_passed) continue;
      const double a = *c.a_passed ? 1 : 0, b = *c.b_passed ? 1 : 0;
      as.push_back(a);
      bs.push_back(b);
      diffs.push_back(b - a);
      a_only += a > b ? 1 : 0;
      b_only += b > a ? 1 : 0;
    }
    paired_n = static_cast<int64_t>(diffs.size());
    if (!diffs.empty()) {
      const Interval ci = PairedBootstrapMeanInterval(diffs, bootstrap);
      const double p = McNemarExactP(a_only, b_only);
      metrics.push_back({{"metric", "pass_rate"}, {"higher_is_better", true}, {"n", diffs.size()},
                         {"a_mean", Mean(as)}, {"b_mean", Mean(bs)}, {"difference", Mean(diffs)},
                         {"ci95", {ci.low, ci.high}}, {"test", "McNemar exact"},
                         {"statistic", {{"a_only", a_only}, {"b_only", b_only}}}, {"p_value", p}});
      p_values.push_back(p);
    }
  }
  // Continuous metrics: Wilcoxon signed-rank on the paired differences.
  auto continuous = [&](const char* name, bool higher_is_better, auto a_of, auto b_of) {
    std::vector<double> as, bs;
    for (const PairedCase& c : cases) {
      const std::optional<double> a = a_of(c), b = b_of(c);
      if (!a || !b) continue;
      as.push_back(*a);
      bs.push_back(*b);
    }
    AddContinuous(metrics, p_values, name, higher_is_better, as, bs, bootstrap);
  };
  continuous("latency_ms", false, [](const PairedCase& c) { return c.a_latency_ms; },
             [](const PairedCase& c) { return c.b_latency_ms; });
  continuous("judge_score", true, [](const PairedCase& c) { return c.a_score; },
             [](const PairedCase& c) { return c.b_score; });
  Verdicts(metrics, p_values, a_name, b_name);
  return {{"a", Arm(a_name, cases, true)}, {"b", Arm(b_name, cases, false)}, {"paired_n", paired_n}, {"metrics", metrics}};
}

}  // namespace loupe::evals
