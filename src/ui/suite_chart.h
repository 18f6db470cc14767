// The benchmark-tracking chart of a regression suite: its pass rate per model version in
// registration order, as a server-rendered SVG (a picture with no script, readable in
// the HTML report and at 390 px). Each point carries its exact figure in a <title>.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace loupe {

struct ChartBox {
  double width = 720, height = 280;
  double left = 52, right = 20, top = 16, bottom = 80;  // room for the axes' labels
};

// `history`: SuiteService::History()'s reply. Empty string when no version has a score.
std::string SuiteTrackingSvg(const nlohmann::json& history, const ChartBox& box = {});

// Where a score lands: the y of `share` (0-1), and the x of version `i` of `n`.
double ChartY(double share, const ChartBox& box);
double ChartX(size_t i, size_t n, const ChartBox& box);

}  // namespace loupe
