// The four plots of a hyperparameter search, as Plotly JSON figures ({data, layout}),
// the ones DashAI shows: optimisation history (each trial and the best so far), slice
// (goal against each parameter), contour (goal over the two most important
// parameters, interpolated) and parameter importance.
//
// Importance is the correlation ratio (eta squared) of the goal grouped by each
// parameter's value (a grid's levels; many distinct values in five equal-count bins,
// ties kept together): the share of the goal's variance that the parameter alone
// explains. Shares are not normalised, so they need not sum to 1, and there is none
// where the goal does not vary. It is a one-parameter-at-a-time measure, simpler than
// fANOVA, and said so on the plot.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "training/params.h"
#include "training/search.h"

namespace loupe::training {

enum class SearchPlot { kHistory, kSlice, kContour, kImportance };

// "history", "slice", "contour", "importance", or DashAI's 1, 2, 3, 4.
Result<SearchPlot> ParseSearchPlot(const std::string& name);
const char* SearchPlotName(SearchPlot p);

// Contour and importance need two tuned parameters (NotFound otherwise, as DashAI
// draws only history and slice then); every plot needs one finished trial.
Result<nlohmann::json> MakeSearchPlot(SearchPlot kind, const std::vector<Trial>& trials,
                                      const std::vector<SearchDimension>& space, const std::string& goal, bool maximize);

// Most important first; nothing for a parameter where the goal has no variance.
std::vector<std::pair<std::string, std::optional<double>>> ParameterImportance(const std::vector<Trial>& trials,
                                                                               const std::vector<SearchDimension>& space);

}  // namespace loupe::training
