// Ranks for rank statistics (Spearman's rho, Wilcoxon's signed-rank test).
#pragma once

#include <optional>
#include <vector>

namespace loupe {

// Ranks 1..n, ties sharing the average of their ranks.
std::vector<double> AverageRanks(const std::vector<double>& xs);

// Spearman's rho of paired values (the Pearson correlation of their ranks); nothing for
// fewer than 3 pairs or when either side is constant.
std::optional<double> SpearmanRho(const std::vector<double>& xs, const std::vector<double>& ys);

}  // namespace loupe
