#include "tracking/media_rules.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "common/bounded_json.h"

namespace loupe {

namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

Status ValidateTextSample(std::string_view text) {
  if (text.size() > kMaxTextSampleBytes) {
    return Status::TooLarge("a text sample holds at most " + std::to_string(kMaxTextSampleBytes) + " bytes; this one " +
                            std::to_string(text.size()));
  }
  if (!ValidUtf8(text)) return Status::InvalidArgument("a text sample must be UTF-8");
  return Status::Ok();
}

Status ValidateHistogram(std::string_view json_text) {
  if (json_text.size() > 64 * 1024) return Status::TooLarge("a histogram file holds at most 65536 bytes");
  nlohmann::json h = ParseBoundedJson(json_text);
  if (!h.is_object()) return Status::InvalidArgument("a histogram is a JSON object {\"edges\": [...], \"counts\": [...]}");
  auto edges = h.find("edges");
  auto counts = h.find("counts");
  if (edges == h.end() || counts == h.end() || !edges->is_array() || !counts->is_array()) {
    return Status::InvalidArgument("a histogram needs the arrays \"edges\" and \"counts\"");
  }
  const size_t n = counts->size();
  if (n == 0 || n > kMaxHistogramBins) {
    return Status::InvalidArgument("a histogram has 1 to " + std::to_string(kMaxHistogramBins) + " bins; this one " +
                                   std::to_string(n));
  }
  if (edges->size() != n + 1) {
    return Status::InvalidArgument("a histogram of " + std::to_string(n) + " bins has " + std::to_string(n + 1) +
                                   " edges; this one " + std::to_string(edges->size()));
  }
  double last = -INFINITY;
  for (const auto& e : *edges) {
    if (!e.is_number() || !std::isfinite(e.get<double>()) || e.get<double>() <= last) {
      return Status::InvalidArgument("histogram edges must be finite numbers in increasing order");
    }
    last = e.get<double>();
  }
  for (const auto& c : *counts) {
    if (!c.is_number() || !std::isfinite(c.get<double>()) || c.get<double>() < 0) {
      return Status::InvalidArgument("histogram counts must be finite numbers >= 0");
    }
  }
  return Status::Ok();
}

}  // namespace loupe
