#include "evals/bradley_terry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace loupe::evals {

namespace {

bool Counts(const Battle& b, int players) {
  return b.a >= 0 && b.b >= 0 && b.a < players && b.b < players && b.a != b.b && b.a_score >= 0 && b.a_score <= 1;
}

}  // namespace

std::vector<double> FitStrengths(int players, const std::vector<Battle>& battles, double prior_games) {
  const size_t n = static_cast<size_t>(std::max(players, 0));
  if (n == 0) return {};
  // wins[i]: i's score; games[i][j]: games between i and j. The prior is a virtual player
  // of strength 1 (index n) that each real player meets prior_games times, winning half.
  std::vector<double> wins(n, prior_games / 2);
  std::vector<std::vector<double>> games(n, std::vector<double>(n, 0.0));
  for (const Battle& b : battles) {
    if (!Counts(b, players)) continue;
    wins[b.a] += b.a_score;
    wins[b.b] += 1 - b.a_score;
    games[b.a][b.b] += 1;
    games[b.b][b.a] += 1;
  }
  std::vector<double> p(n, 1.0);
  for (int iteration = 0; iteration < 10000; ++iteration) {
    double change = 0;
    std::vector<double> next(n);
    for (size_t i = 0; i < n; ++i) {
      double denominator = prior_games > 0 ? prior_games / (p[i] + 1.0) : 0.0;
      for (size_t j = 0; j < n; ++j) {
        if (games[i][j] > 0) denominator += games[i][j] / (p[i] + p[j]);
      }
      // A player with no games keeps strength 1; one who never scored goes to 0 (the MLE
      // without a prior), kept just above so that ratings stay finite numbers.
      next[i] = denominator > 0 ? std::max(wins[i] / denominator, 1e-12) : 1.0;
    }
    if (prior_games <= 0) {
      double log_mean = 0;
      for (double x : next) log_mean += std::log(x) / static_cast<double>(n);
      for (double& x : next) x /= std::exp(log_mean);
    }
    for (size_t i = 0; i < n; ++i) change = std::max(change, std::fabs(std::log(next[i]) - std::log(p[i])));
    p = std::move(next);
    if (change < 1e-10) break;
  }
  double log_mean = 0;
  for (double x : p) log_mean += std::log(x) / static_cast<double>(n);
  for (double& x : p) x /= std::exp(log_mean);
  return p;
}

Result<Leaderboard> FitLeaderboard(int players, const std::vector<Battle>& battles,
                                   const LeaderboardOptions& options) {
  if (players < 0 || players > 256) return Status::InvalidArgument("a leaderboard ranks 0 to 256 models");
  if (battles.size() > 1000000) return Status::InvalidArgument("a leaderboard is fitted from at most 1,000,000 comparisons");
  if (options.bootstrap > 10000) return Status::InvalidArgument("at most 10,000 bootstrap resamples");
  Leaderboard out;
  const size_t n = static_cast<size_t>(std::max(players, 0));
  auto to_rating = [](double strength) { return 1000 + 400 * std::log10(strength); };
  for (double s : FitStrengths(players, battles, options.prior_games)) out.rating.push_back(to_rating(s));
  out.battles.assign(n, std::vector<int64_t>(n, 0));
  std::vector<std::vector<double>> score(n, std::vector<double>(n, 0.0));
  std::vector<Battle> valid;
  for (const Battle& b : battles) {
    if (!Counts(b, players)) continue;
    valid.push_back(b);
    ++out.battles[b.a][b.b];
    ++out.battles[b.b][b.a];
    score[b.a][b.b] += b.a_score;
    score[b.b][b.a] += 1 - b.a_score;
  }
  out.win_rate.assign(n, std::vector<double>(n, std::numeric_limits<double>::quiet_NaN()));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (out.battles[i][j] > 0) out.win_rate[i][j] = score[i][j] / static_cast<double>(out.battles[i][j]);
    }
  }
  out.rating_ci95.assign(n, Interval{});
  if (options.bootstrap <= 0 || valid.empty()) return out;
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, valid.size() - 1);
  std::vector<std::vector<double>> samples(n);
  std::vector<Battle> resample(valid.size());
  for (int r = 0; r < options.bootstrap; ++r) {
    for (Battle& b : resample) b = valid[pick(rng)];
    const std::vector<double> s = FitStrengths(players, resample, options.prior_games);
    for (size_t i = 0; i < n; ++i) samples[i].push_back(to_rating(s[i]));
  }
  for (size_t i = 0; i < n; ++i) {
    std::sort(samples[i].begin(), samples[i].end());
    out.rating_ci95[i] = {QuantileOfSorted(samples[i], 0.025), QuantileOfSorted(samples[i], 0.975)};
  }
  return out;
}

}  // namespace loupe::evals
