#include "datasets/column_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/unicode_text.h"

namespace loupe::datasets {

namespace {

nlohmann::json Number(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double Quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json TopValues(const std::map<std::string, size_t>& counts, size_t k) {
  std::vector<std::pair<std::string, size_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < v.size() && i < k; ++i) out.push_back({{"value", v[i].first}, {"count", v[i].second}});
  return out;
}

}  // namespace

nlohmann::json ColumnStats(const Column& c) {
  const size_t n = c.size();
  size_t missing = 0;
  for (size_t r = 0; r < n; ++r) missing += c.IsMissing(r) ? 1 : 0;
  nlohmann::json s = {{"name", c.name}, {"type", ColumnTypeName(c.type)}, {"overridden", c.type_overridden},
                      {"count", n - missing}, {"missing", missing}};
  if (c.coerce) s["coerced"] = c.coerced;  // values that did not convert and became missing
  switch (c.type) {
    case ColumnType::kNumeric: {
      std::vector<double> v;
      for (double x : c.numbers) {
        if (!std::isnan(x)) v.push_back(x);
      }
      if (v.empty()) break;
      std::sort(v.begin(), v.end());
      double sum = 0;
      for (double x : v) sum += x;
      double mean = sum / static_cast<double>(v.size());
      double var = 0;
      for (double x : v) var += (x - mean) * (x - mean);
      s["min"] = Number(v.front());
      s["max"] = Number(v.back());
      s["mean"] = Number(mean);
      // Sample std, like pandas: undefined (null) for one value, not 0.
      s["std"] = Number(v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : std::nan(""));
      s["q25"] = Number(Quantile(v, 0.25));
      s["median"] = Number(Quantile(v, 0.5));
      s["q75"] = Number(Quantile(v, 0.75));
      break;
    }
    case ColumnType::kCategorical:
    case ColumnType::kBoolean: {
      std::map<std::string, size_t> counts;
      for (size_t r = 0; r < n; ++r) {
        if (!c.IsMissing(r)) ++counts[c.CellText(r)];
      }
      s["distinct"] = counts.size();
      s["top"] = TopValues(counts, 10);
      break;
    }
    case ColumnType::kText: {
      size_t min_len = SIZE_MAX, max_len = 0, total = 0, present = 0;
      std::map<std::string, size_t> counts;
      for (size_t r = 0; r < n; ++r) {
        if (c.missing[r]) continue;
        ++present;
        size_t len = Utf8Length(c.texts[r]);  // characters, as a reader counts them
        min_len = std::min(min_len, len);
        max_len = std::max(max_len, len);
        total += len;
        if (counts.size() < 100000) ++counts[c.texts[r]];
      }
      if (present == 0) break;
      s["distinct"] = counts.size();
      s["min_length"] = min_len;
      s["max_length"] = max_len;
      s["mean_length"] = static_cast<double>(total) / static_cast<double>(present);
      break;
    }
    case ColumnType::kDatetime: {
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      size_t first = SIZE_MAX, last = SIZE_MAX;
      for (size_t r = 0; r < n; ++r) {
        if (c.IsMissing(r)) continue;
        if (c.micros[r] < lo) lo = c.micros[r], first = r;
        if (c.micros[r] > hi) hi = c.micros[r], last = r;
      }
      if (first != SIZE_MAX) {
        s["min"] = c.CellText(first);
        s["max"] = c.CellText(last);
      }
      break;
    }
  }
  return s;
}

}  // namespace loupe::datasets
