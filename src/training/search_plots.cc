#include "training/search_plots.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/sweep_stats.h"

namespace loupe::training {

namespace {

using nlohmann::json;

std::vector<const Trial*> Finished(const std::vector<Trial>& trials) {
  std::vector<const Trial*> out;
  for (const Trial& t : trials) {
    if (t.error.empty() && std::isfinite(t.value)) out.push_back(&t);
  }
  return out;
}

double ParamOf(const Trial& t, const std::string& name) {
  auto it = t.params.find(name);
  return it != t.params.end() && it->is_number() ? it->get<double>() : std::nan("");
}

json Axis(const std::string& title, bool log) {
  json a = {{"title", {{"text", title}}}};
  if (log) a["type"] = "log";
  return a;
}

json Layout(const std::string& title) {
  return {{"title", {{"text", title}}}, {"margin", {{"t", 48}, {"r", 16}, {"b", 48}, {"l", 56}}}, {"showlegend", true}};
}

bool LogAxis(const SearchDimension& d) { return d.log_scale && d.lower > 0; }

}  // namespace

Result<SearchPlot> ParseSearchPlot(const std::string& name) {
  if (name == "history" || name == "1") return SearchPlot::kHistory;
  if (name == "slice" || name == "2") return SearchPlot::kSlice;
  if (name == "contour" || name == "3") return SearchPlot::kContour;
  if (name == "importance" || name == "4") return SearchPlot::kImportance;
  return Status::InvalidArgument("unknown plot \"" + name + "\" (history, slice, contour, importance or 1-4)");
}

const char* SearchPlotName(SearchPlot p) {
  switch (p) {
    case SearchPlot::kHistory: return "history";
    case SearchPlot::kSlice: return "slice";
    case SearchPlot::kContour: return "contour";
    case SearchPlot::kImportance: return "importance";
  }
  return "?";
}

std::vector<std::pair<std::string, std::optional<double>>> ParameterImportance(const std::vector<Trial>& trials,
                                                                               const std::vector<SearchDimension>& space) {
  std::vector<const Trial*> done = Finished(trials);
  std::vector<std::pair<std::string, std::optional<double>>> out;
  for (const SearchDimension& d : space) {
    std::vector<double> xs, ys;
    for (const Trial* t : done) {
      double x = ParamOf(*t, d.name);
      if (std::isnan(x)) continue;
      xs.push_back(x);
      ys.push_back(t->value);
    }
    out.emplace_back(d.name, NumericEtaSquared(xs, ys));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.value_or(-1) > b.second.value_or(-1); });
  return out;
}

Result<json> MakeSearchPlot(SearchPlot kind, const std::vector<Trial>& trials, const std::vector<SearchDimension>& space,
                            const std::string& goal, bool maximize) {
  std::vector<const Trial*> done = Finished(trials);
  if (done.empty()) return Status::NotFound("no finished trial to plot yet");
  if ((kind == SearchPlot::kContour || kind == SearchPlot::kImportance) && space.size() < 2) {
    return Status::NotFound(std::string("the ") + SearchPlotName(kind) + " plot needs two or more tuned parameters");
  }
  const std::string direction = maximize ? " (higher is better)" : " (lower is better)";
  switch (kind) {
    case SearchPlot::kHistory: {
      json x = json::array(), y = json::array(), bx = json::array(), by = json::array();
      double best = 0;
      bool have = false;
      for (const Trial* t : done) {
        x.push_back(t->number);
        y.push_back(t->value);
        if (!have || (maximize ? t->value > best : t->value < best)) best = t->value;
        have = true;
        bx.push_back(t->number);
        by.push_back(best);
      }
      json layout = Layout("Optimization history");
      layout["xaxis"] = Axis("Trial", false);
      layout["yaxis"] = Axis(goal + direction, false);
      return json{{"data", {{{"type", "scatter"}, {"mode", "markers"}, {"name", goal}, {"x", x}, {"y", y}},
                            {{"type", "scatter"}, {"mode", "lines"}, {"name", "Best value"}, {"x", bx}, {"y", by},
                             {"line", {{"shape", "hv"}}}}}},
                  {"layout", layout}};
    }
    case SearchPlot::kSlice: {
      json data = json::array();
      json layout = Layout("Slice plot");
      layout["showlegend"] = false;
      layout["grid"] = {{"rows", 1}, {"columns", space.size()}, {"pattern", "coupled"}};
      for (size_t i = 0; i < space.size(); ++i) {
        json x = json::array(), y = json::array(), c = json::array();
        for (const Trial* t : done) {
          x.push_back(ParamOf(*t, space[i].name));
          y.push_back(t->value);
          c.push_back(t->number);
        }
        std::string ax = i == 0 ? "x" : "x" + std::to_string(i + 1);
        data.push_back({{"type", "scatter"}, {"mode", "markers"}, {"name", space[i].name}, {"x", x}, {"y", y},
                        {"xaxis", ax}, {"yaxis", "y"},
                        {"marker", {{"color", c}, {"colorscale", "Blues"}, {"showscale", i + 1 == space.size()},
                                    {"colorbar", {{"title", {{"text", "Trial"}}}}}}}});
        layout[i == 0 ? "xaxis" : "xaxis" + std::to_string(i + 1)] = Axis(space[i].name, LogAxis(space[i]));
      }
      layout["yaxis"] = Axis(goal, false);
      return json{{"data", data}, {"layout", layout}};
    }
    case SearchPlot::kContour: {
      auto importance = ParameterImportance(trials, space);
      auto dim = [&](const std::string& name) {
        return *std::find_if(space.begin(), space.end(), [&](const SearchDimension& d) { return d.name == name; });
      };
      const SearchDimension a = dim(importance[0].first), b = dim(importance[1].first);
      // Inverse-distance-weighted interpolation of the trials onto a 24 x 24 grid,
      // in the axes' own scale (log for log-scaled parameters).
      auto to_unit = [](const SearchDimension& d, double v) {
        return LogAxis(d) ? (std::log(v) - std::log(d.lower)) / (std::log(d.upper) - std::log(d.lower))
                          : (v - d.lower) / (d.upper - d.lower);
      };
      auto from_unit = [](const SearchDimension& d, double u) {
        return LogAxis(d) ? std::exp(std::log(d.lower) + u * (std::log(d.upper) - std::log(d.lower)))
                          : d.lower + u * (d.upper - d.lower);
      };
      const int g = 24;
      json gx = json::array(), gy = json::array(), z = json::array();
      for (int i = 0; i < g; ++i) gx.push_back(from_unit(a, i / double(g - 1)));
      for (int j = 0; j < g; ++j) gy.push_back(from_unit(b, j / double(g - 1)));
      for (int j = 0; j < g; ++j) {
        json row = json::array();
        for (int i = 0; i < g; ++i) {
          double u = i / double(g - 1), v = j / double(g - 1), wsum = 0, vsum = 0;
          for (const Trial* t : done) {
            double du = to_unit(a, ParamOf(*t, a.name)) - u, dv = to_unit(b, ParamOf(*t, b.name)) - v;
            double w = 1.0 / std::pow(du * du + dv * dv + 1e-6, 1.5);
            wsum += w;
            vsum += w * t->value;
          }
          row.push_back(vsum / wsum);
        }
        z.push_back(row);
      }
      json px = json::array(), py = json::array();
      for (const Trial* t : done) {
        px.push_back(ParamOf(*t, a.name));
        py.push_back(ParamOf(*t, b.name));
      }
      json layout = Layout("Contour plot (interpolated between trials)");
      layout["showlegend"] = false;
      layout["xaxis"] = Axis(a.name, LogAxis(a));
      layout["yaxis"] = Axis(b.name, LogAxis(b));
      return json{{"data", {{{"type", "contour"}, {"name", goal}, {"x", gx}, {"y", gy}, {"z", z},
                             {"colorscale", "Blues"}, {"reversescale", !maximize},
                             {"colorbar", {{"title", {{"text", goal}}}}}},
                            {{"type", "scatter"}, {"mode", "markers"}, {"name", "Trials"}, {"x", px}, {"y", py},
                             {"marker", {{"color", "#222"}, {"size", 6}}}}}},
                  {"layout", layout}};
    }
    case SearchPlot::kImportance: {
      auto importance = ParameterImportance(trials, space);
      if (std::none_of(importance.begin(), importance.end(), [](const auto& p) { return p.second.has_value(); })) {
        return Status::NotFound("no variance to explain: every finished trial scored the same (or there are fewer than 3)");
      }
      json names = json::array(), values = json::array();
      for (auto it = importance.rbegin(); it != importance.rend(); ++it) {
        names.push_back(it->first);
        values.push_back(it->second ? json(*it->second) : json(nullptr));
      }
      json layout = Layout("Parameter importance");
      layout["showlegend"] = false;
      layout["xaxis"] = Axis("Share of the goal's variance the parameter explains alone (η²)", false);
      layout["xaxis"]["range"] = {0, 1};
      layout["yaxis"] = {{"automargin", true}};
      return json{{"data", {{{"type", "bar"}, {"orientation", "h"}, {"x", values}, {"y", names}, {"name", "importance"}}}},
                  {"layout", layout}};
    }
  }
  return Status::Internal("unknown plot");
}

}  // namespace loupe::training
