#include "ui/ab_view.h"

#include <cstdio>
#include <string>

#include "ui/llm_format.h"
#include "ui/page.h"

namespace loupe {

namespace {

using nlohmann::json;

std::string Signed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
  return buf;
}

std::string PText(double p) {
  if (p < 0.001) return "< 0.001";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", p);
  return buf;
}

std::string Label(const std::string& metric) {
  if (metric == "pass_rate") return "pass rate";
  if (metric == "latency_ms") return "mean latency (lower is better)";
  if (metric == "judge_score") return "mean judge score";
  if (metric == "preference") return "preferred (share of rows decided between them)";
  if (metric == "thumbs_up_rate") return "thumbs-up rate (different prompts)";
  return "mean " + metric + " rating (1–5)";
}

}  // namespace

json AbView(const json& ab) {
  json metrics = json::array();
  for (const json& m : ab["metrics"]) {
    const std::string metric = m["metric"].get<std::string>();
    const bool share = metric == "pass_rate" || metric == "preference" || metric == "thumbs_up_rate";
    auto value = [&](double v) {
      return share ? FormatPercent(v) : metric == "latency_ms" ? FormatMillis(v) : FormatNumber(v, 3);
    };
    auto diff = [&](double v) {
      return share ? Signed(v * 100, 1) + " pts" : metric == "latency_ms" ? Signed(v, 1) + " ms" : Signed(v, 2);
    };
    metrics.push_back({{"metric", Label(metric)},
                       {"n", m["n"]},
                       {"a", value(m["a_mean"].get<double>())},
                       {"b", value(m["b_mean"].get<double>())},
                       {"difference", diff(m["difference"].get<double>())},
                       {"ci", diff(m["ci95"][0].get<double>()) + " to " + diff(m["ci95"][1].get<double>())},
                       {"test", m["test"]},
                       {"p", PText(m["p_value"].get<double>())},
                       {"p_holm", PText(m["p_holm"].get<double>())},
                       {"verdict", m["verdict"]}});
  }
  auto arm = [&](const json& x) {
    if (!x.contains("n")) return json{{"name", x["name"]}};
    std::string ci = x["pass_rate_ci95"].is_array() ? FormatPercent(x["pass_rate_ci95"][0].get<double>()) + " – " +
                                                          FormatPercent(x["pass_rate_ci95"][1].get<double>())
                                                    : "—";
    return json{{"name", x["name"]}, {"n", x["n"]}, {"passed", x["passed"]},
                {"rate", x["pass_rate"].is_number() ? FormatPercent(x["pass_rate"].get<double>()) : "—"}, {"ci", ci}};
  };
  json out = {{"a", arm(ab["a"])}, {"b", arm(ab["b"])}, {"metrics", metrics}, {"has_metrics", !metrics.empty()}};
  if (ab.contains("paired_n")) out["paired_n"] = ab["paired_n"];
  if (ab.contains("decided_n")) {
    out["decided_n"] = ab["decided_n"];
    out["a_wins"] = ab["a"]["wins"];
    out["b_wins"] = ab["b"]["wins"];
    out["ties"] = ab["ties"];
  }
  return out;
}

}  // namespace loupe
