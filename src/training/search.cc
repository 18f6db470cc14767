#include "training/search.h"

#include "training/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

namespace loupe::training {

std::vector<std::vector<double>> GridAxes(const std::vector<SearchDimension>& space, int points) {
  std::vector<std::vector<double>> axes;
  for (const SearchDimension& d : space) {
    std::vector<double> axis;
    for (int i = 0; i < points; ++i) {
      double u = points == 1 ? 0.5 : static_cast<double>(i) / (points - 1);
      double v = d.log_scale && d.lower > 0 ? std::exp(std::log(d.lower) + u * (std::log(d.upper) - std::log(d.lower)))
                                            : d.lower + u * (d.upper - d.lower);
      if (d.integer) v = std::round(v);
      if (axis.empty() || axis.back() != v) axis.push_back(v);
    }
    axes.push_back(axis);
  }
  return axes;
}

namespace {

using nlohmann::json;

double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

class RandomSuggester : public Suggester {
 public:
  RandomSuggester(const std::vector<SearchDimension>& space, uint64_t seed) : space_(space), rng_(seed) {}
  bool Next(std::vector<double>& x) override {
    x.clear();
    for (const SearchDimension& d : space_) {
      double u = Uniform(rng_);
      if (d.log_scale && d.lower > 0) {
        x.push_back(std::exp(std::log(d.lower) + u * (std::log(d.upper) - std::log(d.lower))));
      } else if (d.integer) {
        // Every integer in [lower, upper] equally likely.
        x.push_back(std::min(d.upper, std::floor(d.lower + u * (d.upper - d.lower + 1))));
      } else {
        x.push_back(d.lower + u * (d.upper - d.lower));
      }
    }
    return true;
  }
  void Tell(double) override {}

 private:
  std::vector<SearchDimension> space_;
  std::mt19937_64 rng_;
};

// The full grid, visited in a seeded random order so a trial budget smaller than the
// grid still covers its whole range.
class GridSuggester : public Suggester {
 public:
  GridSuggester(const std::vector<SearchDimension>& space, int points, uint64_t seed) {
    const std::vector<std::vector<double>> axes = GridAxes(space, points);
    const size_t total = GridSize(space, points);
    for (size_t k = 0; k < total; ++k) {
      std::vector<double> x;
      size_t rest = k;
      for (const auto& a : axes) {
        x.push_back(a[rest % a.size()]);
        rest /= a.size();
      }
      points_.push_back(std::move(x));
    }
    std::mt19937_64 rng(seed);
    for (size_t i = points_.size(); i > 1; --i) std::swap(points_[i - 1], points_[rng() % i]);
  }
  bool Next(std::vector<double>& x) override {
    if (next_ >= points_.size()) return false;
    x = points_[next_++];
    return true;
  }
  void Tell(double) override {}

 private:
  std::vector<std::vector<double>> points_;
  size_t next_ = 0;
};

}  // namespace

const std::vector<OptimizerInfo>& OptimizerCatalog() {
  static const std::vector<OptimizerInfo> kOptimizers = {
      {"RandomSearchOptimizer", "Samples parameters uniformly (log-uniformly for rates and C) within their bounds.",
       {IntParam("n_trials", 20, 1, 10000, "Trials to run."), NumberParam("time_budget_s", 0, 0, 604800, "Stop starting trials after this many seconds (0: no limit)."),
        IntParam("seed", 0, 0, 2147483647, "Random seed.")}},
      {"GridSearchOptimizer", "Tries every combination of evenly spaced values, in a shuffled order.",
       {IntParam("points_per_parameter", 5, 1, 100, "Values tried for each parameter."),
        IntParam("n_trials", 100, 1, 10000, "At most this many trials."),
        NumberParam("time_budget_s", 0, 0, 604800, "Stop starting trials after this many seconds (0: no limit)."),
        IntParam("seed", 0, 0, 2147483647, "Order of the grid.")}},
      {"DlibGlobalOptimizer", "dlib's global optimizer (MaxLIPO with a trust region, as find_max_global): models the "
                              "goal metric from earlier trials to pick the next.",
       {IntParam("n_trials", 30, 1, 10000, "Trials to run."), NumberParam("time_budget_s", 0, 0, 604800, "Stop starting trials after this many seconds (0: no limit)."),
        IntParam("seed", 0, 0, 2147483647, "Random seed.")}},
  };
  return kOptimizers;
}

const OptimizerInfo* FindOptimizer(const std::string& name) {
  for (const OptimizerInfo& o : OptimizerCatalog()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

SearchOptions SearchOptionsFrom(const std::string& optimizer, const json& v) {
  SearchOptions o;
  o.optimizer = optimizer;
  o.trials = v.value("n_trials", o.trials);
  o.time_budget_s = v.value("time_budget_s", 0.0);
  o.seed = v.value("seed", 0);
  o.grid_points = v.value("points_per_parameter", o.grid_points);
  return o;
}

bool TrialIsBetter(bool maximize, double value, double seconds, double best_value, double best_seconds) {
  if (std::isnan(best_value)) return !std::isnan(value);
  if (value != best_value) return maximize ? value > best_value : value < best_value;
  // Faster by a margin timing noise does not reach: a trial of milliseconds against
  // another keeps the earlier one, so a seeded search keeps the same model every time.
  return seconds < best_seconds * 0.8 && best_seconds - seconds > 0.05;
}

size_t GridSize(const std::vector<SearchDimension>& space, int points) {
  size_t total = 1;
  for (const auto& a : GridAxes(space, points)) total = std::min<size_t>(total * a.size(), 1u << 20);
  return total;
}

Result<SearchResult> RunSearch(const std::vector<SearchDimension>& space, const json& base, const SearchOptions& options,
                               bool maximize, const Objective& objective, const std::function<void(const Trial&)>& on_trial,
                               const std::function<bool()>& stop) {
  if (space.empty()) {
    return Status::InvalidArgument("a search needs at least one parameter sent as {\"optimize\": true, ...}");
  }
  std::unique_ptr<Suggester> suggest;
  if (options.optimizer == "RandomSearchOptimizer") {
    suggest = std::make_unique<RandomSuggester>(space, options.seed);
  } else if (options.optimizer == "GridSearchOptimizer") {
    suggest = std::make_unique<GridSuggester>(space, options.grid_points, options.seed);
  } else if (options.optimizer == "DlibGlobalOptimizer") {
    suggest = MakeDlibSuggester(space, options.seed);
  } else {
    return Status::InvalidArgument("unknown optimizer \"" + options.optimizer + "\"");
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  SearchResult result;
  double worst = std::numeric_limits<double>::infinity();
  for (int t = 0; t < options.trials; ++t) {
    if (stop && stop()) return Cancelled();
    if (options.time_budget_s > 0 &&
        std::chrono::duration<double>(Clock::now() - start).count() >= options.time_budget_s) {
      break;
    }
    std::vector<double> x;
    if (!suggest->Next(x)) break;
    Trial trial;
    trial.number = t;
    trial.params = base;
    for (size_t i = 0; i < space.size(); ++i) {
      if (space[i].integer) {
        trial.params[space[i].name] = static_cast<int64_t>(std::llround(std::clamp(x[i], space[i].lower, space[i].upper)));
      } else {
        trial.params[space[i].name] = std::clamp(x[i], space[i].lower, space[i].upper);
      }
    }
    const auto t0 = Clock::now();
    Result<double> value = objective(trial.params, trial.metrics);
    if (!value.ok() && IsCancelled(value.status())) return value.status();
    trial.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (value.ok() && std::isfinite(*value)) {
      trial.value = *value;
      double score = maximize ? *value : -*value;
      worst = std::min(worst, score);
      suggest->Tell(score);
      if (result.best < 0) {
        result.best = static_cast<int>(result.trials.size());
      } else {
        const Trial& best = result.trials[static_cast<size_t>(result.best)];
        if (TrialIsBetter(maximize, *value, trial.seconds, best.value, best.seconds)) {
          result.best = static_cast<int>(result.trials.size());
        }
      }
    } else {
      trial.value = std::nan("");
      trial.error = value.ok() ? "the goal metric is not finite" : value.status().message();
      // A failed trial tells the model-based search "worse than anything seen".
      suggest->Tell(std::isfinite(worst) ? worst - 1.0 : -1e6);
    }
    result.trials.push_back(trial);
    if (on_trial) on_trial(result.trials.back());
  }
  return result;
}

}  // namespace loupe::training
