// The comparison lab's leaderboard: Bradley-Terry strengths fitted by maximum likelihood
// (Hunter's MM algorithm) from every decided or tied comparison, on an Elo-like scale, with
// percentile bootstrap 95% intervals, beside the raw win-rate and battle-count matrices.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "evals/ab_stats.h"

namespace loupe::evals {

// One comparison of players a and b: a_score 1 (a preferred), 0 (b preferred) or 0.5 (tie;
// counted as half a win each, as Chatbot Arena does).
struct Battle {
  int a = 0;
  int b = 0;
  double a_score = 0.5;
};

struct LeaderboardOptions {
  // Each player also plays this many virtual games, half won, against an average player:
  // keeps a player who never won (or never lost) at a finite rating. 0: the plain MLE.
  double prior_games = 1.0;
  int bootstrap = 1000;  // resamples of the battles for the intervals (0: none)
  uint64_t seed = 1;
};

struct Leaderboard {
  // 1000 + 400 log10(strength), strengths scaled to a geometric mean of 1: a 400-point
  // gap means 10:1 odds of being preferred.
  std::vector<double> rating;
  std::vector<Interval> rating_ci95;         // empty intervals without a bootstrap
  std::vector<std::vector<double>> win_rate;  // [i][j]: i's share of the battles with j (ties half); NaN unplayed
  std::vector<std::vector<int64_t>> battles;  // [i][j]: battles between i and j
};

// Battles naming a player outside [0, players), a player against itself, or a score outside
// [0, 1] are ignored. Each fit costs players^2 per iteration, once per resample:
// InvalidArgument past 256 players, 1,000,000 battles or 10,000 resamples.
Result<Leaderboard> FitLeaderboard(int players, const std::vector<Battle>& battles,
                                   const LeaderboardOptions& options = {});

// The fitted strengths alone (geometric mean 1), for the tests' score equations.
std::vector<double> FitStrengths(int players, const std::vector<Battle>& battles, double prior_games);

}  // namespace loupe::evals
