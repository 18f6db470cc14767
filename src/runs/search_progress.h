// Where a running hyperparameter search stands, for the run page and GET /run/{id}:
// trial k of N, the best value so far, elapsed time and an estimate of what is left.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "store/run_store.h"

namespace loupe::runs {

// null for a run without a search. {trials_done, trials_planned, best_trial | null,
// best_value | null, elapsed_s, remaining_s | null}: remaining is the mean trial time
// times the trials left, capped by the time budget; null before the first trial ends.
// `now_micros` is the wall clock the elapsed time runs to (the run's end once it ended).
nlohmann::json SearchProgress(const RunRecord& run, const std::vector<TrialRecord>& trials, bool maximize,
                              int64_t now_micros);

}  // namespace loupe::runs
