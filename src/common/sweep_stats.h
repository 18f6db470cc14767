// How much each config parameter of a sweep matters to a metric, from the runs alone:
// Spearman's rank correlation (numeric parameters) and the correlation ratio eta^2, the
// share of the metric's variance that the parameter's value explains (numeric values
// binned into up to five equal-count bins). Both are exact statistics of the runs, not
// a model: with few runs, they say little, and the panel shows the run count beside them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ranks.h"  // AverageRanks, SpearmanRho

namespace loupe {


// eta^2 of `ys` grouped by `labels` (same length): between-group sum of squares over
// the total; nothing for fewer than 3 values, one group, or a constant metric.
std::optional<double> EtaSquared(const std::vector<std::string>& labels, const std::vector<double>& ys);

// Equal-count bins of numeric values (by rank; ties stay together), as labels.
std::vector<std::string> QuantileBins(const std::vector<double>& xs, int bins);

// eta^2 of `ys` grouped by the numeric parameter `xs`: equal values are one group when
// there are at most `max_groups` of them (a grid's levels), otherwise up to `max_groups`
// equal-count bins by rank, two values a bin at least. 1 and 1.0 are one value.
std::optional<double> NumericEtaSquared(const std::vector<double>& xs, const std::vector<double>& ys, int max_groups = 5);

}  // namespace loupe
