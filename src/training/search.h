// Hyperparameter search: random search, grid search and dlib's global optimizer
// (global_function_search, the model-based method behind find_max_global), under a
// trial budget and a time budget. Every trial is reported as it ends, failed ones
// included, and the best trial (not the last) is the result.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "training/params.h"

namespace loupe::training {

struct OptimizerInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
};
const std::vector<OptimizerInfo>& OptimizerCatalog();
const OptimizerInfo* FindOptimizer(const std::string& name);

struct SearchOptions {
  std::string optimizer = "RandomSearchOptimizer";
  int trials = 20;
  double time_budget_s = 0;  // 0: none
  uint64_t seed = 0;
  int grid_points = 5;  // grid search: values per parameter
};
// From validated optimizer parameters.
SearchOptions SearchOptionsFrom(const std::string& optimizer, const nlohmann::json& values);

struct Trial {
  int number = 0;  // from 0
  nlohmann::json params;   // every model parameter of the trial
  double value = 0;        // goal metric (NaN when the trial failed)
  std::string error;       // why it failed
  nlohmann::json metrics = nlohmann::json::object();
  double seconds = 0;
};

// The best-trial rule: the better goal value; between equal values, the trial that
// trained clearly faster (by at least 20% and 50 ms: a 0.02 s model that scores what a
// 30 s one scores is the one to keep), else the earlier one (reproducible under noise).
bool TrialIsBetter(bool maximize, double value, double seconds, double best_value, double best_seconds);
inline constexpr const char* kBestTrialRule =
    "the best goal value; among equal values, the clearly faster trial (by 20% and 50 ms), else the earlier one";

// Grid search's values per parameter (integer axes lose the points that round alike)
// and the number of points of the whole grid (at most 2^20).
std::vector<std::vector<double>> GridAxes(const std::vector<SearchDimension>& space, int points);
size_t GridSize(const std::vector<SearchDimension>& space, int points);

// Trains and scores one parameter set; fills `metrics` with what it measured.
using Objective = std::function<Result<double>(const nlohmann::json& params, nlohmann::json& metrics)>;

struct SearchResult {
  std::vector<Trial> trials;
  int best = -1;  // index into trials; -1 when every trial failed
};

// `base` holds every parameter; the search varies those in `space`. `maximize` says
// which way the goal metric is better. `on_trial` runs after each trial; `stop` is
// asked before each one (true: the search fails with Cancelled()).
Result<SearchResult> RunSearch(const std::vector<SearchDimension>& space, const nlohmann::json& base,
                               const SearchOptions& options, bool maximize, const Objective& objective,
                               const std::function<void(const Trial&)>& on_trial,
                               const std::function<bool()>& stop = {});

// Proposes points in the search space; `Tell` gets the score (higher is better).
class Suggester {
 public:
  virtual ~Suggester() = default;
  virtual bool Next(std::vector<double>& x) = 0;  // false: nothing left to try
  virtual void Tell(double score) = 0;
};
std::unique_ptr<Suggester> MakeDlibSuggester(const std::vector<SearchDimension>& space, uint64_t seed);

}  // namespace loupe::training
