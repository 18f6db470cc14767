// A session's leaderboard: its runs ranked by one metric on the validation split (the
// split models are chosen on; the test score is shown, never ranked on, so the ranking
// does not leak the test set), with the baseline ranked among them.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "store/run_store.h"

namespace loupe::runs {

// {metric, higher_is_better, baseline: {strategy, validation, test} | null,
//  rows: [{rank | null, run_id, name, model, status, validation, test, train_seconds,
//          beats_baseline | null, beats_baseline_test | null}]}: ranked rows first (best first; ties share a rank and
// the faster run comes first), then runs without a validation score in creation order.
nlohmann::json RankRuns(const std::vector<RunRecord>& runs, const std::map<int64_t, std::vector<RunMetric>>& metrics,
                        const std::string& metric);

}  // namespace loupe::runs
