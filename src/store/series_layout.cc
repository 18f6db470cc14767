#include "store/series_layout.h"

#include <algorithm>
#include <cstring>

namespace loupe {

void Bucket::Add(const SeriesPoint& p) {
  ++n;
  if (std::isfinite(p.value)) {
    if (!has_finite || p.value < min.value) min = p;
    if (!has_finite || p.value > max.value) max = p;
    has_finite = true;
  } else if (!has_nonfinite || p.step < nonfinite.step) {
    nonfinite = p;
    has_nonfinite = true;
  }
}

void Bucket::Merge(const Bucket& b) {
  n += b.n;
  if (b.has_finite) {
    if (!has_finite || b.min.value < min.value) min = b.min;
    if (!has_finite || b.max.value > max.value) max = b.max;
    has_finite = true;
  }
  if (b.has_nonfinite && (!has_nonfinite || b.nonfinite.step < nonfinite.step)) {
    nonfinite = b.nonfinite;
    has_nonfinite = true;
  }
}

namespace {
constexpr size_t kPointBytes = 2 + 8 + 8;
}

std::string EncodeChunk(int64_t window, const std::vector<SeriesPoint>& points) {
  std::string out(points.size() * kPointBytes, '\0');
  char* p = out.data();
  const int64_t base = window << kWindowShift;
  for (const SeriesPoint& sp : points) {
    uint16_t off = static_cast<uint16_t>(sp.step - base);
    std::memcpy(p, &off, 2);
    std::memcpy(p + 2, &sp.value, 8);
    std::memcpy(p + 10, &sp.ts, 8);
    p += kPointBytes;
  }
  return out;
}

bool DecodeChunk(int64_t window, std::string_view blob, std::vector<SeriesPoint>& out) {
  if (blob.size() % kPointBytes != 0) return false;
  const int64_t base = window << kWindowShift;
  const char* p = blob.data();
  size_t n = blob.size() / kPointBytes;
  out.reserve(out.size() + n);
  for (size_t i = 0; i < n; ++i, p += kPointBytes) {
    uint16_t off;
    SeriesPoint sp;
    std::memcpy(&off, p, 2);
    std::memcpy(&sp.value, p + 2, 8);
    std::memcpy(&sp.ts, p + 10, 8);
    if (off >= (1u << kWindowShift)) return false;
    sp.step = base + off;
    out.push_back(sp);
  }
  return true;
}

std::vector<SeriesPoint> MergePoints(const std::vector<SeriesPoint>& base,
                                     const std::vector<SeriesPoint>& newer) {
  std::vector<SeriesPoint> out;
  out.reserve(base.size() + newer.size());
  size_t i = 0, j = 0;
  while (i < base.size() || j < newer.size()) {
    if (j == newer.size() || (i < base.size() && base[i].step < newer[j].step)) {
      out.push_back(base[i++]);
    } else {
      if (i < base.size() && base[i].step == newer[j].step) ++i;
      out.push_back(newer[j++]);
    }
  }
  return out;
}

void SortDedupeKeepLast(std::vector<SeriesPoint>& points) {
  std::stable_sort(points.begin(), points.end(),
                   [](const SeriesPoint& a, const SeriesPoint& b) { return a.step < b.step; });
  size_t w = 0;
  for (size_t r = 0; r < points.size(); ++r) {
    if (w > 0 && points[w - 1].step == points[r].step) {
      points[w - 1] = points[r];
    } else {
      points[w++] = points[r];
    }
  }
  points.resize(w);
}

std::vector<SeriesPoint> Downsample(const std::vector<Bucket>& pieces, int64_t from, int64_t to,
                                    const SeriesPoint& first, const SeriesPoint& last,
                                    int max_points) {
  // A NaN or Inf is a signal (a diverged loss), so when the range holds any, every
  // output bucket may show one beside its min and max: three slots a bucket, not two.
  bool any_nonfinite = false;
  for (const Bucket& b : pieces) any_nonfinite |= b.has_nonfinite;
  // (The API's smallest max_points, 5, leaves room for that; below it, max_points wins.)
  const int64_t per_bucket = any_nonfinite && max_points >= 5 ? 3 : 2;
  const int64_t nbuckets = std::max<int64_t>(1, (max_points - 2) / per_bucket);
  const int64_t span = to - from + 1;
  const int64_t width = std::max<int64_t>(1, (span + nbuckets - 1) / nbuckets);
  std::vector<Bucket> out(static_cast<size_t>((span + width - 1) / width));
  auto slot = [&](int64_t step) -> Bucket& {
    return out[static_cast<size_t>((step - from) / width)];
  };
  for (const Bucket& b : pieces) {
    if (b.has_finite) {
      slot(b.min.step).Add(b.min);
      if (b.max.step != b.min.step) slot(b.max.step).Add(b.max);
    }
    if (b.has_nonfinite) slot(b.nonfinite.step).Add(b.nonfinite);
  }
  std::vector<SeriesPoint> points;
  points.reserve(out.size() * static_cast<size_t>(per_bucket) + 2);
  points.push_back(first);
  for (const Bucket& b : out) {
    if (b.has_finite) {
      points.push_back(b.min);
      if (b.max.step != b.min.step) points.push_back(b.max);
    }
    if (b.has_nonfinite && (per_bucket == 3 || !b.has_finite)) points.push_back(b.nonfinite);
  }
  points.push_back(last);
  std::stable_sort(points.begin(), points.end(),
                   [](const SeriesPoint& a, const SeriesPoint& b) { return a.step < b.step; });
  points.erase(std::unique(points.begin(), points.end(),
                           [](const SeriesPoint& a, const SeriesPoint& b) { return a.step == b.step; }),
               points.end());
  return points;
}

}  // namespace loupe
