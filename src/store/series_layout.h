// How a metric series is laid out on disk, and the summary kept per step bucket.
//
// Raw points live in chunks: one row holds a series' points inside one window of
// kWindowSteps consecutive steps (a window may hold several chunks until they are
// compacted; the highest seq wins for a step). Above the raw points sit summary
// levels: level L buckets steps by 2^kLevelShift[L] and keeps, per bucket, the count,
// the finite minimum and maximum (with their steps and times) and one non-finite
// point. A chart query reads the finest level that fits its range in a bounded number
// of rows, so its cost follows the points returned, not the points stored.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_types.h"

namespace loupe {

inline constexpr int kWindowShift = 12;  // 4096 steps per chunk window
inline constexpr int kLevels = 8;        // summary levels 1..8; level 0 means raw
inline constexpr std::array<int, kLevels + 1> kLevelShift = {0, 6, 9, 12, 15, 18, 21, 24, 27};
// A window's chunks are merged into one when the series moves on to a later window,
// or earlier if the window reaches this many chunks.
inline constexpr int kMaxChunksPerWindow = 64;

inline int64_t WindowOf(int64_t step) { return step >> kWindowShift; }
inline int64_t BucketOf(int64_t step, int level) { return step >> kLevelShift[level]; }
inline int64_t BucketStart(int64_t bucket, int level) { return bucket << kLevelShift[level]; }

// Summary of the points in one bucket (or any step range).
struct Bucket {
  int64_t index = 0;
  int64_t n = 0;
  bool has_finite = false;
  SeriesPoint min, max;   // valid when has_finite
  bool has_nonfinite = false;
  SeriesPoint nonfinite;  // the first non-finite point, kept so NaN never vanishes silently

  void Add(const SeriesPoint& p);
  void Merge(const Bucket& b);
};

// Chunk encoding: ascending unique steps, 18 bytes a point (u16 offset in the
// window, f64 value, i64 time), little-endian.
std::string EncodeChunk(int64_t window, const std::vector<SeriesPoint>& points);
// Appends the decoded points; false when the blob is malformed.
bool DecodeChunk(int64_t window, std::string_view blob, std::vector<SeriesPoint>& out);

// Merges `newer` into `base` (both ascending, unique); on equal steps newer wins.
std::vector<SeriesPoint> MergePoints(const std::vector<SeriesPoint>& base,
                                     const std::vector<SeriesPoint>& newer);

// Sorts by step and keeps the last occurrence of each step (later writes win).
void SortDedupeKeepLast(std::vector<SeriesPoint>& points);

// Picks at most max_points from the summaries covering [from, to]: the first and last
// points, then per output bucket its finite minimum and maximum and, when the range
// holds any NaN or Inf, its first non-finite point. Extremes are never dropped.
std::vector<SeriesPoint> Downsample(const std::vector<Bucket>& pieces, int64_t from, int64_t to,
                                    const SeriesPoint& first, const SeriesPoint& last,
                                    int max_points);

}  // namespace loupe
