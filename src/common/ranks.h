// Ranks for rank statistics (Spearman's rho, Wilcoxon's signed-rank test).
#pragma once

#include <vector>

namespace loupe {

// Ranks 1..n, ties sharing the average of their ranks.
std::vector<double> AverageRanks(const std::vector<double>& xs);

}  // namespace loupe
