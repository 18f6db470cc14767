#include "store/series_rows.h"

#include <cmath>
#include <limits>

#include "store/sql.h"

namespace loupe {

namespace {

Status DecodeInto(int64_t series_id, int64_t win, std::string_view blob,
                  std::vector<SeriesPoint>& merged) {
  if (!DecodeChunk(win, blob, merged)) {
    return Status::Corrupt("chunk " + std::to_string(win) + " of series " +
                           std::to_string(series_id) + " is malformed");
  }
  return Status::Ok();
}

}  // namespace

std::optional<double> NullIfNaN(double v) { return std::isnan(v) ? std::nullopt : std::optional<double>(v); }

Status ReadWindow(SqliteDb& db, int64_t series_id, int64_t window, std::vector<SeriesPoint>& out) {
  sql::Rows q(db, "SELECT data FROM chunks WHERE series_id=? AND win=? ORDER BY seq", series_id, window);
  std::vector<SeriesPoint> merged;
  Status st;
  int chunks = 0;
  while (st.ok() && q.Next()) {
    st = DecodeInto(series_id, window, q.Blob(0), merged);
    ++chunks;
  }
  if (!st.ok()) return st;
  LOUPE_RETURN_IF_ERROR(q.status());
  if (chunks > 1) SortDedupeKeepLast(merged);  // chunks were read in write order
  out.insert(out.end(), merged.begin(), merged.end());
  return Status::Ok();
}

Status ReadRawRange(SqliteDb& db, int64_t series_id, int64_t lo, int64_t hi,
                    std::vector<SeriesPoint>& out) {
  sql::Rows q(db, "SELECT win, data FROM chunks WHERE series_id=? AND win BETWEEN ? AND ? ORDER BY win, seq",
              series_id, WindowOf(lo), WindowOf(hi));
  std::vector<SeriesPoint> window;
  int64_t current = -1;
  Status st;
  int chunks = 0;
  auto flush = [&] {
    if (chunks > 1) SortDedupeKeepLast(window);
    chunks = 0;
    for (const SeriesPoint& p : window) {
      if (p.step >= lo && p.step <= hi) out.push_back(p);
    }
    window.clear();
  };
  while (st.ok() && q.Next()) {
    int64_t win = q.Int(0);
    if (win != current) {
      flush();
      current = win;
    }
    st = DecodeInto(series_id, win, q.Blob(1), window);
    ++chunks;
  }
  flush();
  if (!st.ok()) return st;
  return q.status();
}

Status ReadBuckets(SqliteDb& db, int64_t series_id, int level, int64_t first, int64_t last,
                   std::vector<Bucket>& out) {
  sql::Rows q(db,
              "SELECT bucket, n, min_step, min_v, min_ts, max_step, max_v, max_ts, nf_step, nf_v, nf_ts "
              "FROM summaries WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ? ORDER BY bucket",
              series_id, level, first, last);
  while (q.Next()) {
    Bucket b;
    b.index = q.Int(0);
    b.n = q.Int(1);
    b.has_finite = !q.IsNull(2);
    if (b.has_finite) {
      b.min = {q.Int(2), q.Double(3), q.Int(4)};
      b.max = {q.Int(5), q.Double(6), q.Int(7)};
    }
    b.has_nonfinite = !q.IsNull(8);
    if (b.has_nonfinite) {
      b.nonfinite = {q.Int(8), q.OptionalDouble(9).value_or(std::numeric_limits<double>::quiet_NaN()), q.Int(10)};
    }
    out.push_back(b);
  }
  return q.status();
}

Status WriteBucket(SqliteDb& db, int64_t series_id, int level, const Bucket& b) {
  // The min and max columns are NULL without finite points, the nf columns without non-finite ones.
  auto finite = [&](auto v) { return b.has_finite ? std::optional(v) : std::nullopt; };
  auto nonfinite = [&](auto v) { return b.has_nonfinite ? std::optional(v) : std::nullopt; };
  return sql::Exec(db, "INSERT OR REPLACE INTO summaries VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", series_id, level,
                   b.index, b.n, finite(b.min.step), finite(b.min.value), finite(b.min.ts), finite(b.max.step),
                   finite(b.max.value), finite(b.max.ts), nonfinite(b.nonfinite.step),
                   b.has_nonfinite ? NullIfNaN(b.nonfinite.value) : std::nullopt, nonfinite(b.nonfinite.ts));
}

Status DeleteBucket(SqliteDb& db, int64_t series_id, int level, int64_t bucket) {
  return sql::Exec(db, "DELETE FROM summaries WHERE series_id=? AND level=? AND bucket=?", series_id, level, bucket);
}

}  // namespace loupe
