#include "runs/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "training/baseline.h"
#include "training/evaluation.h"

namespace loupe::runs {

using nlohmann::json;

json RankRuns(const std::vector<RunRecord>& runs, const std::map<int64_t, std::vector<RunMetric>>& metrics,
              const std::string& metric) {
  const bool higher = training::HigherIsBetter(metric);
  struct Row {
    const RunRecord* run;
    double validation = std::nan(""), test = std::nan(""), seconds = std::nan("");
  };
  std::vector<Row> rows;
  json baseline = nullptr;
  for (const RunRecord& r : runs) {
    Row row{&r};
    if (auto m = metrics.find(r.id); m != metrics.end()) {
      for (const RunMetric& x : m->second) {
        if (x.level != "LAST" || x.name != metric) continue;
        if (x.split == "validation") row.validation = x.value;
        if (x.split == "test") row.test = x.value;
      }
    }
    const json result = ParseBoundedJson(r.result_json);
    if (result.is_object()) {
      row.seconds = result.value("train_seconds", std::nan(""));
      // Every run of a session splits the same rows the same way: one baseline for all.
      const json b = result.value("baseline", json());
      if (baseline.is_null() && b.is_object()) {
        const json m = b.value("metrics", json::object());
        auto value = [&](const char* split) {
          const json v = m.value(split, json::object()).value(metric, json());
          return v.is_number() ? v : json(nullptr);
        };
        baseline = {{"strategy", b.value("strategy", "")}, {"validation", value("validation")}, {"test", value("test")}};
      }
    }
    rows.push_back(row);
  }
  auto better = [&](double a, double b) { return higher ? a > b : a < b; };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    const bool ra = std::isfinite(a.validation), rb = std::isfinite(b.validation);
    if (ra != rb) return ra;
    if (!ra) return false;
    if (a.validation != b.validation) return better(a.validation, b.validation);
    const double sa = std::isfinite(a.seconds) ? a.seconds : INFINITY, sb = std::isfinite(b.seconds) ? b.seconds : INFINITY;
    return sa < sb;
  });
  json out = json::array();
  int rank = 0;
  double previous = std::nan("");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const bool ranked = std::isfinite(row.validation);
    if (ranked && row.validation != previous) rank = static_cast<int>(i) + 1;
    previous = row.validation;
    auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    json beats = nullptr, beats_test = nullptr;
    if (ranked && baseline.is_object() && baseline["validation"].is_number()) {
      beats = training::BeatsBaseline(metric, row.validation, baseline["validation"].get<double>());
    }
    if (std::isfinite(row.test) && baseline.is_object() && baseline["test"].is_number()) {
      beats_test = training::BeatsBaseline(metric, row.test, baseline["test"].get<double>());
    }
    out.push_back({{"rank", ranked ? json(rank) : json(nullptr)},
                   {"run_id", row.run->id},
                   {"name", row.run->name},
                   {"model", row.run->model},
                   {"optimizer", row.run->optimizer},
                   {"status", WorkStatusName(row.run->status)},
                   {"validation", number(row.validation)},
                   {"test", number(row.test)},
                   {"train_seconds", number(row.seconds)},
                   {"beats_baseline", beats},
                   {"beats_baseline_test", beats_test}});
  }
  return {{"metric", metric}, {"higher_is_better", higher}, {"baseline", baseline}, {"rows", out}};
}

}  // namespace loupe::runs
