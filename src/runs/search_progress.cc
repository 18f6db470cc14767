#include "runs/search_progress.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "training/model_catalog.h"
#include "training/params.h"
#include "training/search.h"

namespace loupe::runs {

using nlohmann::json;

json SearchProgress(const RunRecord& run, const std::vector<TrialRecord>& trials, bool maximize, int64_t now_micros) {
  if (run.optimizer.empty()) return nullptr;
  const training::OptimizerInfo* info = training::FindOptimizer(run.optimizer);
  training::SearchOptions options;
  if (info) {
    Result<training::ValidatedParams> v =
        training::ValidateAndTransform(info->params, ParseBoundedJson(run.optimizer_parameters_json));
    if (v.ok()) options = training::SearchOptionsFrom(run.optimizer, v->values);
  }
  int64_t planned = options.trials;
  if (run.optimizer == "GridSearchOptimizer") {
    // The grid may be smaller than the trial budget (integer axes lose points that round alike).
    if (const training::ModelInfo* model = training::FindModel(run.model)) {
      Result<training::ValidatedParams> v = training::ValidateAndTransform(model->params, ParseBoundedJson(run.parameters_json));
      if (v.ok()) planned = std::min<int64_t>(planned, static_cast<int64_t>(training::GridSize(v->search_space, options.grid_points)));
    }
  }
  const double elapsed =
      run.start_time > 0 ? std::max<double>(0, static_cast<double>((run.end_time > 0 ? run.end_time : now_micros) - run.start_time) / 1e6)
                         : 0.0;
  json best_trial = nullptr, best_value = nullptr;
  double best = std::nan(""), best_seconds = INFINITY, spent = 0;
  for (const TrialRecord& t : trials) {
    spent += t.seconds;
    if (std::isfinite(t.value) && training::TrialIsBetter(maximize, t.value, t.seconds, best, best_seconds)) {
      best = t.value;
      best_seconds = t.seconds;
      best_trial = t.trial;
      best_value = t.value;
    }
  }
  const int64_t done = static_cast<int64_t>(trials.size());
  json remaining = nullptr;
  if (done > 0 && run.end_time == 0) {
    double left = spent / static_cast<double>(done) * static_cast<double>(std::max<int64_t>(planned - done, 0));
    if (options.time_budget_s > 0) left = std::min(left, std::max(0.0, options.time_budget_s - elapsed));
    remaining = left;
  }
  return {{"trials_done", done},    {"trials_planned", planned}, {"best_trial", best_trial}, {"best_value", best_value},
          {"elapsed_s", elapsed},   {"remaining_s", remaining},  {"goal_metric", run.goal_metric}};
}

}  // namespace loupe::runs
