#include "ui/llm_format.h"

#include <cmath>
#include <cstdio>

namespace loupe {

namespace {
std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
}  // namespace

std::string FormatMillis(double ms) {
  if (!std::isfinite(ms) || ms < 0) return "—";
  if (ms < 10) return Printf("%.2f ms", ms);
  if (ms < 100) return Printf("%.1f ms", ms);
  if (ms < 999.5) return Printf("%.0f ms", ms);
  const double s = ms / 1000;
  if (s < 9.995) return Printf("%.2f s", s);
  return Printf("%.1f s", s);
}

std::string FormatTokens(std::optional<int64_t> prompt, std::optional<int64_t> completion) {
  if (!prompt && !completion) return "tokens unknown";
  std::string out = (prompt ? std::to_string(*prompt) : "unknown") + " in + " +
                    (completion ? std::to_string(*completion) : "unknown") + " out";
  if (prompt && completion) out += " = " + std::to_string(*prompt + *completion) + " tokens";
  return out;
}

std::string FormatUsd(std::optional<double> usd) {
  if (!usd || !std::isfinite(*usd) || *usd < 0) return "cost unknown";
  const double v = *usd;
  if (v == 0) return "$0";
  if (v >= 1000) {
    std::string whole = Printf("%.2f", v);
    const size_t dot = whole.find('.');
    std::string head = whole.substr(0, dot), grouped;
    for (size_t i = 0; i < head.size(); ++i) {
      if (i && (head.size() - i) % 3 == 0) grouped += ',';
      grouped += head[i];
    }
    return "$" + grouped + whole.substr(dot);
  }
  if (v >= 1) return Printf("$%.2f", v);
  // Three significant digits below a dollar: 0.0123 -> 0.0123, 0.0000412 -> 0.0000412.
  const int decimals = std::min(12, 2 - static_cast<int>(std::floor(std::log10(v))));
  char fmt[16];
  std::snprintf(fmt, sizeof fmt, "$%%.%df", decimals);
  return Printf(fmt, v);
}

std::string FormatPercent(double share) {
  if (!std::isfinite(share)) return "—";
  const double pct = share * 100;
  const double rounded = std::round(pct * 10) / 10;
  if (rounded == std::round(rounded)) return Printf("%.0f%%", rounded);
  return Printf("%.1f%%", rounded);
}

}  // namespace loupe
