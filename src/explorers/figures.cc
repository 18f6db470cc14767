#include "explorers/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "common/unicode_text.h"

#include "datasets/column_stats.h"

namespace loupe::explorers {

namespace {

using datasets::ColumnType;
using nlohmann::json;

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json Layout(const std::string& title) {
  return {{"title", {{"text", title}}}, {"margin", {{"t", 48}, {"r", 16}, {"b", 56}, {"l", 64}}}};
}

json AxisTitle(const std::string& t) { return {{"title", {{"text", t}}}}; }

// Group label of each row ("" for missing) and the groups in order of first appearance.
std::vector<std::string> Groups(const Column& c, std::vector<std::string>& order) {
  std::vector<std::string> out(c.size());
  std::set<std::string> seen;
  for (size_t r = 0; r < c.size(); ++r) {
    out[r] = c.IsMissing(r) ? "(missing)" : c.CellText(r);
    if (seen.insert(out[r]).second) order.push_back(out[r]);
  }
  std::sort(order.begin(), order.end());
  return out;
}

double Quantile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// A precomputed box (Plotly draws q1/median/q3/fences given directly; Tukey's
// whiskers: the furthest values within 1.5 IQR of the quartiles) and, as
// a second trace, every value beyond the whiskers, drawn as points and counted in the
// box's hover text, so outliers never vanish (the first 1,000 are drawn).
void Box(const std::string& name, std::vector<double> v, json& data) {
  if (v.empty()) {  // a group with no numbers: an empty box, not quartiles of nothing
    data.push_back({{"type", "box"}, {"name", name}, {"x", {name}}, {"boxpoints", false}, {"n", 0}, {"outliers", 0}});
    return;
  }
  std::sort(v.begin(), v.end());
  double q1 = Quantile(v, 0.25), med = Quantile(v, 0.5), q3 = Quantile(v, 0.75), iqr = q3 - q1;
  double lo = q1, hi = q3;
  for (double x : v) {
    if (x >= q1 - 1.5 * iqr) { lo = x; break; }
  }
  for (auto it = v.rbegin(); it != v.rend(); ++it) {
    if (*it <= q3 + 1.5 * iqr) { hi = *it; break; }
  }
  constexpr size_t kMaxDrawn = 1000;
  json outliers = json::array();
  size_t beyond = 0;
  for (double x : v) {
    if (x < lo || x > hi) {
      ++beyond;
      if (outliers.size() < kMaxDrawn) outliers.push_back(x);
    }
  }
  const std::string counted = std::to_string(v.size()) + " values, " + std::to_string(beyond) +
                              (beyond == 1 ? " outlier" : " outliers") +
                              (beyond > kMaxDrawn ? " (first " + std::to_string(kMaxDrawn) + " drawn)" : "");
  data.push_back({{"type", "box"}, {"name", name}, {"x", {name}}, {"q1", {Num(q1)}}, {"median", {Num(med)}},
                  {"q3", {Num(q3)}}, {"lowerfence", {Num(lo)}}, {"upperfence", {Num(hi)}}, {"boxpoints", false},
                  {"n", v.size()}, {"outliers", beyond}, {"hovertext", counted}});
  if (beyond == 0) return;
  data.push_back({{"type", "scatter"}, {"mode", "markers"}, {"name", name + " outliers"},
                  {"x", json(std::vector<std::string>(outliers.size(), name))}, {"y", outliers},
                  {"marker", {{"size", 5}, {"symbol", "circle-open"}}}, {"hovertext", counted}});
}

}  // namespace

json ScatterFigure(const Column& x, const Column& y, const Column* color, int64_t max_points) {
  std::vector<size_t> rows;
  for (size_t r = 0; r < x.size(); ++r) {
    if (!x.IsMissing(r) && !y.IsMissing(r) && std::isfinite(x.numbers[r]) && std::isfinite(y.numbers[r])) rows.push_back(r);
  }
  const size_t total = rows.size();
  if (rows.size() > static_cast<size_t>(max_points)) {
    // An even, deterministic sample across the rows.
    std::vector<size_t> sample;
    for (int64_t i = 0; i < max_points; ++i) sample.push_back(rows[static_cast<size_t>(i) * rows.size() / static_cast<size_t>(max_points)]);
    rows.swap(sample);
  }
  json data = json::array();
  auto trace = [&](const std::string& name, const std::vector<size_t>& idx) {
    json xs = json::array(), ys = json::array();
    for (size_t r : idx) {
      xs.push_back(x.numbers[r]);
      ys.push_back(y.numbers[r]);
    }
    return json{{"type", "scatter"}, {"mode", "markers"}, {"name", name}, {"x", xs}, {"y", ys}, {"marker", {{"size", 5}, {"opacity", 0.7}}}};
  };
  if (color && color->type == ColumnType::kNumeric) {
    json t = trace(color->name, rows);
    json c = json::array();
    for (size_t r : rows) c.push_back(Num(color->numbers[r]));
    t["marker"]["color"] = c;
    t["marker"]["colorscale"] = "Viridis";
    t["marker"]["showscale"] = true;
    t["marker"]["colorbar"] = AxisTitle(color->name);
    data.push_back(t);
  } else if (color) {
    std::vector<std::string> order;
    std::vector<std::string> g = Groups(*color, order);
    for (const std::string& name : order) {
      std::vector<size_t> idx;
      for (size_t r : rows) {
        if (g[r] == name) idx.push_back(r);
      }
      if (!idx.empty()) data.push_back(trace(name, idx));
    }
  } else {
    data.push_back(trace(y.name, rows));
  }
  json layout = Layout(y.name + " against " + x.name + (rows.size() < total ? " (" + std::to_string(rows.size()) + " of " + std::to_string(total) + " rows)" : ""));
  layout["xaxis"] = AxisTitle(x.name);
  layout["yaxis"] = AxisTitle(y.name);
  return {{"data", data}, {"layout", layout}};
}

json HistogramFigure(const Column& x, int64_t bins, const Column* split) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t r = 0; r < x.size(); ++r) {
    if (x.IsMissing(r) || !std::isfinite(x.numbers[r])) continue;
    lo = std::min(lo, x.numbers[r]);
    hi = std::max(hi, x.numbers[r]);
  }
  json layout = Layout("Distribution of " + x.name);
  layout["xaxis"] = AxisTitle(x.name);
  layout["yaxis"] = AxisTitle("Rows");
  layout["barmode"] = "overlay";
  if (!std::isfinite(lo)) return {{"data", json::array()}, {"layout", layout}};
  // numpy.histogram's rule, so counts match what a user checks against: a constant
  // column spans lo - 0.5 to hi + 0.5; edges are lo + i * width with the last exactly hi;
  // bins are half-open [edge, next edge) but the last one also holds hi, and a value is
  // placed by comparing it with the edges themselves, so one on an edge never falls into
  // the bin below through rounding.
  if (hi == lo) {
    // numpy's half unit, or more where a half is below the value's precision (a constant
    // 1e17 would get bins of width 0, which numpy refuses).
    const double half = std::max(0.5, std::abs(lo) * 1e-9);
    lo -= half;
    hi += half;
  }
  const double width = (hi - lo) / static_cast<double>(bins);
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  for (int64_t b = 0; b < bins; ++b) edges[static_cast<size_t>(b)] = lo + static_cast<double>(b) * width;
  edges.back() = hi;
  auto bin_of = [&](double v) {
    // A span beyond the largest double (-1e308 to 1e308) makes the fraction NaN: clamped
    // before the conversion, which is undefined for NaN.
    double f = (v - lo) / (hi - lo) * static_cast<double>(bins);
    if (!(f >= 0)) f = 0;
    if (f > static_cast<double>(bins - 1)) f = static_cast<double>(bins - 1);
    int64_t b = static_cast<int64_t>(f);
    if (b > 0 && v < edges[static_cast<size_t>(b)]) --b;
    else if (b != bins - 1 && v >= edges[static_cast<size_t>(b) + 1]) ++b;
    return b;
  };
  std::vector<std::string> order;
  std::vector<std::string> g;
  if (split) g = Groups(*split, order);
  else order = {x.name};
  json data = json::array();
  for (const std::string& name : order) {
    std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
    for (size_t r = 0; r < x.size(); ++r) {
      if (x.IsMissing(r) || !std::isfinite(x.numbers[r]) || (split && g[r] != name)) continue;
      ++counts[static_cast<size_t>(bin_of(x.numbers[r]))];
    }
    json centers = json::array();
    for (int64_t b = 0; b < bins; ++b) centers.push_back((edges[static_cast<size_t>(b)] + edges[static_cast<size_t>(b) + 1]) / 2);
    data.push_back({{"type", "bar"}, {"name", name}, {"x", centers}, {"y", counts}, {"width", width},
                    {"opacity", split ? 0.6 : 1.0}});
  }
  return {{"data", data}, {"layout", layout}};
}

json BoxFigure(const std::vector<const Column*>& columns, const Column* group_by) {
  json data = json::array();
  std::vector<std::string> order;
  std::vector<std::string> g;
  if (group_by) g = Groups(*group_by, order);
  for (const Column* c : columns) {
    if (!group_by) {
      std::vector<double> v;
      for (size_t r = 0; r < c->size(); ++r) {
        if (!c->IsMissing(r) && std::isfinite(c->numbers[r])) v.push_back(c->numbers[r]);
      }
      Box(c->name, std::move(v), data);
      continue;
    }
    for (const std::string& name : order) {
      std::vector<double> v;
      for (size_t r = 0; r < c->size(); ++r) {
        if (g[r] == name && !c->IsMissing(r) && std::isfinite(c->numbers[r])) v.push_back(c->numbers[r]);
      }
      Box(columns.size() == 1 ? name : c->name + " · " + name, std::move(v), data);
    }
  }
  json layout = Layout(group_by ? "Box plot by " + group_by->name : "Box plot");
  layout["showlegend"] = false;
  return {{"data", data}, {"layout", layout}};
}

json BarCountFigure(const Column& column, int64_t top) {
  std::unordered_map<std::string, int64_t> counts;
  for (size_t r = 0; r < column.size(); ++r) ++counts[column.IsMissing(r) ? "(missing)" : column.CellText(r)];
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  const size_t distinct = v.size();
  if (v.size() > static_cast<size_t>(top)) v.resize(static_cast<size_t>(top));
  json x = json::array(), y = json::array();
  for (const auto& [k, n] : v) {
    x.push_back(k.size() > 80 ? k.substr(0, 77) + "..." : k);
    y.push_back(n);
  }
  json layout = Layout("Counts of " + column.name + (distinct > v.size() ? " (top " + std::to_string(v.size()) + " of " + std::to_string(distinct) + ")" : ""));
  layout["yaxis"] = AxisTitle("Rows");
  return {{"data", {{{"type", "bar"}, {"name", column.name}, {"x", x}, {"y", y}}}}, {"layout", layout}};
}

// Two decimals, or as many more as it takes for a value that is not exactly 0 or ±1 not
// to read as one (0.9996 is not a perfect correlation, -0.001 not none).
static std::string CorrelationText(double rho) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", rho);
  for (int digits = 3; digits <= 17; ++digits) {
    const double shown = std::strtod(buf, nullptr);
    if (shown == rho || (std::fabs(shown) != 1 && shown != 0)) break;
    std::snprintf(buf, sizeof buf, "%.*g", digits, rho);
  }
  return buf;
}

json CorrelationFigure(const std::vector<const Column*>& columns) {
  const size_t k = columns.size();
  json z = json::array(), names = json::array(), text = json::array();
  for (const Column* c : columns) names.push_back(c->name);
  for (size_t i = 0; i < k; ++i) {
    json row = json::array(), trow = json::array();
    for (size_t j = 0; j < k; ++j) {
      // Pearson over the rows where both values are present.
      double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      const Column& a = *columns[i];
      const Column& b = *columns[j];
      for (size_t r = 0; r < a.size(); ++r) {
        double x = a.numbers[r], y = b.numbers[r];
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        n += 1; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      double cov = sxy - sx * sy / n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
      double rho = n > 1 && vx > 0 && vy > 0 ? cov / std::sqrt(vx * vy) : std::nan("");
      if (i == j && std::isfinite(rho)) rho = 1.0;  // by definition; the sums give 0.9999999999999998
      row.push_back(Num(rho));
      trow.push_back(std::isfinite(rho) ? CorrelationText(rho) : "");
    }
    z.push_back(row);
    text.push_back(trow);
  }
  json layout = Layout("Correlation (Pearson)");
  // Long column names ("od280_od315_of_diluted_wines") get the margin they need.
  layout["yaxis"] = {{"autorange", "reversed"}, {"automargin", true}};
  layout["xaxis"] = {{"automargin", true}};
  return {{"data", {{{"type", "heatmap"}, {"x", names}, {"y", names}, {"z", z}, {"text", text},
                     {"texttemplate", "%{text}"}, {"zmin", -1}, {"zmax", 1}, {"colorscale", "RdBu"}, {"reversescale", true}}}},
          {"layout", layout}};
}

json DescribeTable(const std::vector<const Column*>& columns) {
  const std::vector<std::string> stats = {"type", "count", "missing", "distinct", "mean", "std", "min", "q25", "median", "q75", "max"};
  json header = json::array({"column"});
  for (const std::string& s : stats) header.push_back(s);
  json rows = json::array();
  for (const Column* c : columns) {
    json s = datasets::ColumnStats(*c);
    json row = json::array({c->name});
    for (const std::string& k : stats) row.push_back(s.contains(k) ? s[k] : json(nullptr));
    rows.push_back(row);
  }
  return {{"columns", header}, {"rows", rows}};
}

json WordFrequencyFigure(const Column& column, int64_t top, int64_t min_length, bool stopwords) {
  static const std::set<std::string_view> kStop = {
      "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out",
      "has", "have", "him", "his", "how", "its", "may", "new", "now", "old", "see", "two", "who", "did", "get", "let",
      "say", "she", "too", "use", "that", "with", "this", "from", "they", "will", "would", "there", "their", "what",
      "about", "which", "when", "make", "like", "time", "just", "know", "take", "into", "year", "your", "some", "could",
      "them", "than", "then", "look", "only", "come", "over", "also", "back", "after", "work", "first", "well", "even",
      "want", "because", "these", "give", "most", "were", "been", "more", "very", "such", "here", "those", "where",
      "should", "does", "each", "other", "being", "while", "same", "both", "many", "much", "must", "own", "why",
      "again", "further", "once", "off", "under", "until", "above", "below", "between", "through", "during", "before",
      "http", "https", "www", "com"};
  std::unordered_map<std::string, int64_t> counts;
  auto count = [&](const std::string& word, size_t length) {
    if (static_cast<int64_t>(length) >= min_length && !(stopwords && kStop.count(word))) ++counts[word];
  };
  for (size_t r = 0; r < column.size(); ++r) {
    if (!column.IsMissing(r)) ForEachCaseFoldedWord(column.CellText(r), count);
  }
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (v.size() > static_cast<size_t>(top)) v.resize(static_cast<size_t>(top));
  json x = json::array(), y = json::array();
  for (auto it = v.rbegin(); it != v.rend(); ++it) {
    x.push_back(it->second);
    y.push_back(it->first);
  }
  json layout = Layout("Most frequent words in " + column.name);
  layout["xaxis"] = AxisTitle("Occurrences");
  layout["height"] = std::max<int64_t>(320, 18 * static_cast<int64_t>(v.size()) + 100);
  return {{"data", {{{"type", "bar"}, {"orientation", "h"}, {"x", x}, {"y", y}, {"name", column.name}}}}, {"layout", layout}};
}

}  // namespace loupe::explorers
