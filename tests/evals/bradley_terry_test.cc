// The leaderboard on tournaments whose answers are known: two players (the MLE is the win
// ratio), the score equations of the MLE on a round robin, the order of a clear ranking,
// the matrices, and intervals that are reproducible and hold the fit.
#include "evals/bradley_terry.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loupe::evals {
namespace {

std::vector<Battle> Games(int a, int b, int a_wins, int b_wins, int ties = 0) {
  std::vector<Battle> out;
  for (int i = 0; i < a_wins; ++i) out.push_back({a, b, 1});
  for (int i = 0; i < b_wins; ++i) out.push_back({a, b, 0});
  for (int i = 0; i < ties; ++i) out.push_back({a, b, 0.5});
  return out;
}

TEST(BradleyTerry, TwoPlayersStrengthRatioIsTheirWinRatio) {
  // 30 to 10: strengths 3:1, 400 log10(3) = 190.85 rating points apart, centred on 1000.
  const std::vector<double> s = FitStrengths(2, Games(0, 1, 30, 10), 0);
  EXPECT_NEAR(s[0] / s[1], 3.0, 1e-6);
  LeaderboardOptions plain;
  plain.prior_games = 0;
  plain.bootstrap = 0;
  const Leaderboard board = *FitLeaderboard(2, Games(0, 1, 30, 10), plain);
  EXPECT_NEAR(board.rating[0] - board.rating[1], 400 * std::log10(3.0), 1e-4);
  EXPECT_NEAR((board.rating[0] + board.rating[1]) / 2, 1000, 1e-6);
  // Ties count half a win each: 30 wins, 10 losses and 20 ties make 40:20.
  const std::vector<double> t = FitStrengths(2, Games(0, 1, 30, 10, 20), 0);
  EXPECT_NEAR(t[0] / t[1], 2.0, 1e-6);
}

TEST(BradleyTerry, TheFitMeetsTheScoreEquationsOfARoundRobin) {
  // Each player's actual wins equal its expected wins under the fitted strengths.
  std::vector<Battle> battles = Games(0, 1, 7, 3);
  for (const Battle& b : Games(0, 2, 5, 5)) battles.push_back(b);
  for (const Battle& b : Games(1, 2, 6, 2, 2)) battles.push_back(b);
  for (const Battle& b : Games(2, 3, 9, 4)) battles.push_back(b);
  for (const Battle& b : Games(0, 3, 8, 1)) battles.push_back(b);
  const std::vector<double> s = FitStrengths(4, battles, 0);
  std::vector<double> actual(4, 0), expected(4, 0);
  for (const Battle& b : battles) {
    actual[b.a] += b.a_score;
    actual[b.b] += 1 - b.a_score;
    const double pa = s[b.a] / (s[b.a] + s[b.b]);
    expected[b.a] += pa;
    expected[b.b] += 1 - pa;
  }
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(expected[i], actual[i], 1e-6) << "player " << i;
}

TEST(BradleyTerry, AClearRankingComesOutInOrderWithMatricesAndIntervals) {
  std::vector<Battle> battles = Games(0, 1, 15, 5);
  for (const Battle& b : Games(1, 2, 14, 6)) battles.push_back(b);
  for (const Battle& b : Games(0, 2, 18, 2)) battles.push_back(b);
  battles.push_back({0, 0, 1});  // against itself: ignored
  battles.push_back({0, 7, 1});  // no such player: ignored
  battles.push_back({0, 1, 3});  // no such score: ignored
  LeaderboardOptions options;
  options.bootstrap = 300;
  const Leaderboard board = *FitLeaderboard(3, battles, options);
  EXPECT_GT(board.rating[0], board.rating[1]);
  EXPECT_GT(board.rating[1], board.rating[2]);
  EXPECT_EQ(board.battles[0][1], 20);
  EXPECT_EQ(board.battles[1][0], 20);
  EXPECT_EQ(board.battles[0][0], 0);
  EXPECT_NEAR(board.win_rate[0][2], 0.9, 1e-12);
  EXPECT_NEAR(board.win_rate[2][0], 0.1, 1e-12);
  EXPECT_TRUE(std::isnan(board.win_rate[1][1]));
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT(board.rating_ci95[i].low, board.rating[i]);
    EXPECT_GT(board.rating_ci95[i].high, board.rating[i]);
  }
  const Leaderboard again = *FitLeaderboard(3, battles, options);
  EXPECT_EQ(again.rating_ci95[1].low, board.rating_ci95[1].low);
}

TEST(BradleyTerry, APlayerWhoNeverWonStaysFiniteWithThePrior) {
  const Leaderboard board = *FitLeaderboard(2, Games(0, 1, 10, 0));
  EXPECT_TRUE(std::isfinite(board.rating[1]));
  EXPECT_GT(board.rating[0] - board.rating[1], 300);  // far apart, not infinitely
  const Leaderboard none = *FitLeaderboard(3, {});
  for (double r : none.rating) EXPECT_NEAR(r, 1000, 1e-9);
  EXPECT_FALSE(FitLeaderboard(257, {}).ok());
  LeaderboardOptions many;
  many.bootstrap = 10001;
  EXPECT_FALSE(FitLeaderboard(2, {}, many).ok());
}

}  // namespace
}  // namespace loupe::evals
