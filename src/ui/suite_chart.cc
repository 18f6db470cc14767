#include "ui/suite_chart.h"

#include <cstdio>
#include <vector>

#include "ui/llm_format.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using nlohmann::json;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Short(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

}  // namespace

double ChartY(double share, const ChartBox& b) { return b.top + (1.0 - share) * (b.height - b.top - b.bottom); }

double ChartX(size_t i, size_t n, const ChartBox& b) {
  const double w = b.width - b.left - b.right;
  if (n <= 1) return b.left + w / 2;
  return b.left + w * static_cast<double>(i) / static_cast<double>(n - 1);
}

std::string SuiteTrackingSvg(const json& history, const ChartBox& b) {
  const json& versions = history["versions"];
  const size_t n = versions.size();
  bool any = false;
  for (const json& v : versions) any = any || v["score"].is_number();
  if (!any) return "";
  std::string svg = "<svg class=\"suite-chart\" viewBox=\"0 0 " + Num(b.width) + " " + Num(b.height) +
                    "\" role=\"img\" aria-label=\"Pass rate per model version\" preserveAspectRatio=\"xMidYMid meet\">";
  // The y axis: 0, 25, 50, 75, 100%, with grid lines.
  for (int t = 0; t <= 4; ++t) {
    const double share = t / 4.0;
    const std::string y = Num(ChartY(share, b));
    svg += "<line class=\"grid\" x1=\"" + Num(b.left) + "\" x2=\"" + Num(b.width - b.right) + "\" y1=\"" + y +
           "\" y2=\"" + y + "\"/>";
    svg += "<text class=\"tick\" x=\"" + Num(b.left - 6) + "\" y=\"" + y + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
           FormatPercent(share) + "</text>";
  }
  const double threshold = history["suite"].value("threshold", 0.0);
  const std::string ty = Num(ChartY(threshold, b));
  svg += "<line class=\"threshold\" x1=\"" + Num(b.left) + "\" x2=\"" + Num(b.width - b.right) + "\" y1=\"" + ty +
         "\" y2=\"" + ty + "\"><title>threshold " + FormatPercent(threshold) + "</title></line>";
  // The line through the versions that have a score, then a point per version.
  std::string path;
  for (size_t i = 0; i < n; ++i) {
    if (!versions[i]["score"].is_number()) continue;
    path += (path.empty() ? "" : " ") + Num(ChartX(i, n, b)) + "," + Num(ChartY(versions[i]["score"].get<double>(), b));
  }
  svg += "<polyline class=\"series\" points=\"" + path + "\"/>";
  for (size_t i = 0; i < n; ++i) {
    const json& v = versions[i];
    const std::string x = Num(ChartX(i, n, b));
    const std::string name = v.value("model_name", std::string());
    if (v["score"].is_number()) {
      const double s = v["score"].get<double>();
      const bool met = s >= threshold;
      svg += "<circle class=\"point " + std::string(met ? "met" : "missed") + "\" cx=\"" + x + "\" cy=\"" +
             Num(ChartY(s, b)) + "\" r=\"5\"><title>" + HtmlEscape(name) + ": " + FormatPercent(s) + " (" +
             std::to_string(v["passed"].get<int64_t>()) + " of " + std::to_string(v["cases"].get<int64_t>()) +
             " cases)</title></circle>";
    }
    const std::string ly = Num(b.height - b.bottom + 14);
    svg += "<text class=\"label\" x=\"" + x + "\" y=\"" + ly + "\" text-anchor=\"end\" transform=\"rotate(-30 " + x +
           " " + ly + ")\">" + HtmlEscape(Short(name, 18)) + (v["score"].is_number() ? "" : " (no run)") + "</text>";
  }
  return svg + "</svg>";
}

}  // namespace loupe
