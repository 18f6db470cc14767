// What Loupe keeps as text samples and histograms (media keys of type "text" and
// "histogram"), checked before a file is stored: a page draws them without checks.
#pragma once

#include <string_view>

#include "common/status.h"

namespace loupe {

inline constexpr size_t kMaxTextSampleBytes = 64 * 1024;
inline constexpr size_t kMaxHistogramBins = 512;

// 1..kMaxTextSampleBytes bytes of valid UTF-8.
Status ValidateTextSample(std::string_view text);
// {"edges": [n + 1 finite numbers, strictly increasing], "counts": [n finite numbers
// >= 0]}, 1 <= n <= kMaxHistogramBins, at most 64 KiB of JSON.
Status ValidateHistogram(std::string_view json_text);

}  // namespace loupe
