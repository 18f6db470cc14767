#include "store/series_reader.h"

#include <algorithm>

#include "store/series_layout.h"
#include "store/series_rows.h"
#include "store/sql.h"

namespace loupe {

namespace {

constexpr int64_t kMaxRowsPerQuery = 4096;
constexpr int64_t kMaxRawSpan = 2 << kWindowShift;  // steps read raw without summaries

// Summaries (or raw points as one-point buckets) that cover [lo, hi] exactly.
Status Collect(SqliteDb& db, int64_t series_id, int64_t lo, int64_t hi, int level,
               std::vector<Bucket>& out) {
  if (level == 0) {
    std::vector<SeriesPoint> pts;
    LOUPE_RETURN_IF_ERROR(ReadRawRange(db, series_id, lo, hi, pts));
    for (const SeriesPoint& p : pts) {
      Bucket b;
      b.index = p.step;
      b.Add(p);
      out.push_back(b);
    }
    return Status::Ok();
  }
  const int shift = kLevelShift[level];
  const int64_t width = int64_t{1} << shift;
  const int64_t first_full = (lo + width - 1) >> shift;
  const int64_t last_full = ((hi + 1) >> shift) - 1;
  if (first_full > last_full) return Collect(db, series_id, lo, hi, level - 1, out);
  if (lo < (first_full << shift)) {
    LOUPE_RETURN_IF_ERROR(Collect(db, series_id, lo, (first_full << shift) - 1, level - 1, out));
  }
  LOUPE_RETURN_IF_ERROR(ReadBuckets(db, series_id, level, first_full, last_full, out));
  if (((last_full + 1) << shift) <= hi) {
    LOUPE_RETURN_IF_ERROR(Collect(db, series_id, (last_full + 1) << shift, hi, level - 1, out));
  }
  return Status::Ok();
}

// The finest level whose rows over the span fit the row budget, then coarser while
// that still leaves at least one row for each output bucket: a small chart (few
// points asked) reads a few hundred rows, not thousands, and loses nothing it could show.
int ChooseLevel(int64_t span, int max_points) {
  if (span <= kMaxRawSpan) return 0;
  int level = kLevels;
  for (int l = 1; l <= kLevels; ++l) {
    if ((span >> kLevelShift[l]) + 2 <= kMaxRowsPerQuery) {
      level = l;
      break;
    }
  }
  const int64_t buckets = std::max<int64_t>(1, (max_points - 2) / 2);
  while (level < kLevels && (span >> kLevelShift[level + 1]) >= buckets) ++level;
  return level;
}

// The first (or last) stored point inside [lo, hi], searched window by window. With
// `known_window`, the window the point is known to lie in (the series' first step's) is
// read at once: every lookup in chunks costs a read of whole blobs (SQLite loads a cell's
// entire overflowing payload to compare its key), so skipping the search query halves it.
Result<SeriesPoint> EdgePoint(SqliteDb& db, int64_t series_id, int64_t lo, int64_t hi, bool first,
                              std::optional<int64_t> known_window = std::nullopt) {
  if (known_window) {
    std::vector<SeriesPoint> pts;
    LOUPE_RETURN_IF_ERROR(ReadWindow(db, series_id, *known_window, pts));
    for (const SeriesPoint& p : pts) {
      if (p.step >= lo && p.step <= hi) return p;
    }
  }
  // ORDER BY ... LIMIT 1 walks the primary key from the right end and stops at the first
  // row; max(win) under a range constraint made SQLite step through every chunk of the
  // range (each row carrying its blob), most of a 100-chart page's server time.
  const char* next = first ? "SELECT win FROM chunks WHERE series_id=? AND win>=? AND win<=? ORDER BY win LIMIT 1"
                           : "SELECT win FROM chunks WHERE series_id=? AND win>=? AND win<=? ORDER BY win DESC LIMIT 1";
  int64_t wlo = WindowOf(lo), whi = WindowOf(hi);
  while (wlo <= whi) {
    Result<std::optional<int64_t>> found = sql::QueryInt(db, next, series_id, wlo, whi);
    if (!found.ok()) return found.status();
    if (!*found) break;
    const int64_t win = **found;
    std::vector<SeriesPoint> pts;
    LOUPE_RETURN_IF_ERROR(ReadWindow(db, series_id, win, pts));
    if (first) {
      for (const SeriesPoint& p : pts) if (p.step >= lo && p.step <= hi) return p;
      wlo = win + 1;
    } else {
      for (auto it = pts.rbegin(); it != pts.rend(); ++it) {
        if (it->step >= lo && it->step <= hi) return *it;
      }
      whi = win - 1;
    }
  }
  return Status::NotFound("no point in range");
}

}  // namespace

Result<SeriesResult> QuerySeriesPoints(SqliteDb& db, int64_t series_id, int64_t first_step,
                                       int64_t last_step, const SeriesQuery& q,
                                       const std::optional<SeriesPoint>& last_known,
                                       const std::optional<SeriesPoint>& first_known) {
  SeriesResult r;
  if (last_step < 0) return r;
  const int64_t a = std::max(q.from, first_step);
  const int64_t b = std::min(q.to, last_step);
  if (a > b) return r;

  const int level = ChooseLevel(b - a + 1, q.max_points);
  std::vector<Bucket> pieces;
  LOUPE_RETURN_IF_ERROR(Collect(db, series_id, a, b, level, pieces));
  Bucket total;
  for (const Bucket& p : pieces) total.Merge(p);
  r.count = total.n;
  if (total.has_finite) {
    r.min = total.min.value;
    r.max = total.max.value;
  }
  if (total.n == 0) return r;

  if (total.n <= q.max_points) {
    if (level == 0) {
      for (const Bucket& p : pieces) r.points.push_back(p.has_finite ? p.min : p.nonfinite);
    } else {
      LOUPE_RETURN_IF_ERROR(ReadRawRange(db, series_id, a, b, r.points));
    }
    std::sort(r.points.begin(), r.points.end(),
              [](const SeriesPoint& x, const SeriesPoint& y) { return x.step < y.step; });
    return r;
  }

  SeriesPoint first;
  if (a == first_step && first_known && first_known->step == first_step) {
    first = *first_known;
  } else {
    LOUPE_ASSIGN_OR_RETURN(first, EdgePoint(db, series_id, a, b, true,
                                            a == first_step ? std::optional<int64_t>(WindowOf(a)) : std::nullopt));
  }
  SeriesPoint last;
  if (b == last_step && last_known && last_known->step == last_step) {
    last = *last_known;
  } else {
    LOUPE_ASSIGN_OR_RETURN(last, EdgePoint(db, series_id, a, b, false));
  }
  r.points = Downsample(pieces, a, b, first, last, q.max_points);
  r.downsampled = true;
  return r;
}

}  // namespace loupe
