#include "launch/budget.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "launch/gpu_catalog.h"

namespace loupe::launch {

BudgetUse UseOf(const std::vector<LaunchSegment>& segments, int64_t now_micros) {
  BudgetUse use;
  for (const LaunchSegment& s : segments) {
    const int64_t end = s.end_time > 0 ? s.end_time : now_micros;
    const double seconds = std::max<int64_t>(0, end - s.start_time) / 1e6;
    use.elapsed_seconds += seconds;
    use.cost += s.rate_per_hour * seconds / 3600.0;
  }
  return use;
}

double BudgetFraction(const JobBudget& budget, const BudgetUse& use) {
  double f = 0;
  if (budget.max_minutes > 0) f = std::max(f, use.elapsed_seconds / (budget.max_minutes * 60.0));
  if (budget.max_cost > 0) f = std::max(f, use.cost / budget.max_cost);
  return f;
}

int AlertBits(double fraction) {
  int bits = 0;
  if (fraction >= 0.5) bits |= 1;
  if (fraction >= 0.8) bits |= 2;
  if (fraction >= 1.0) bits |= 4;
  return bits;
}

std::optional<double> GpuPrice(const std::map<std::string, double>& prices, const std::string& gpu_name,
                               const std::string& requested_type) {
  if (auto it = prices.find(gpu_name); it != prices.end() && !gpu_name.empty()) return it->second;
  if (auto it = prices.find(requested_type); it != prices.end() && !requested_type.empty()) return it->second;
  // "H100" for "NVIDIA H100 80GB HBM3": the longest key whose words are all words of the
  // name, ignoring case ("A10" is not a word of "NVIDIA A100-SXM4-80GB").
  std::optional<double> found;
  size_t longest = 0;
  const std::vector<std::string> name = GpuNameWords(gpu_name.empty() ? requested_type : gpu_name);
  for (const auto& [key, usd] : prices) {
    if (key == "cpu" || key.size() <= longest || name.empty()) continue;
    const std::vector<std::string> key_words = GpuNameWords(key);
    if (key_words.empty()) continue;
    const bool all = std::all_of(key_words.begin(), key_words.end(), [&](const std::string& w) {
      return std::find(name.begin(), name.end(), w) != name.end();
    });
    if (all) {
      found = usd;
      longest = key.size();
    }
  }
  return found;
}

double LocalRate(const JobResources& res, const std::string& gpu_type, const std::map<std::string, double>& prices,
                 std::vector<std::string>* missing) {
  double rate = 0;
  if (auto it = prices.find("cpu"); it != prices.end()) {
    rate += res.cpus * it->second;
  } else if (missing) {
    missing->push_back("cpu");
  }
  if (res.gpus > 0) {
    if (std::optional<double> price = GpuPrice(prices, gpu_type, res.gpu_type)) {
      rate += res.gpus * *price;
    } else if (missing) {
      missing->push_back(gpu_type.empty() ? (res.gpu_type.empty() ? "gpu" : res.gpu_type) : gpu_type);
    }
  }
  return rate;
}

}  // namespace loupe::launch

namespace loupe::launch {

void AddSpendByDay(const LaunchSegment& s, int64_t now_micros, std::map<std::string, DaySpend>& days) {
  constexpr int64_t kDay = int64_t{86400} * 1000000;
  int64_t from = s.start_time;
  const int64_t end = s.end_time > 0 ? s.end_time : now_micros;
  while (from < end) {
    const int64_t midnight = (from / kDay + 1) * kDay;
    const int64_t to = std::min(end, midnight);
    const time_t day = static_cast<time_t>(from / 1000000);
    struct tm t {};
    gmtime_r(&day, &t);
    char key[48];
    std::snprintf(key, sizeof key, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
    DaySpend& d = days[key];
    const double seconds = (to - from) / 1e6;
    d.seconds += seconds;
    d.cost += s.rate_per_hour * seconds / 3600.0;
    from = to;
  }
}

}  // namespace loupe::launch
