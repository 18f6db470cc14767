#include "store/series_rows.h"

#include <cmath>
#include <limits>

namespace loupe {

namespace {

double ValueOrNaN(const SqliteStmt& s, int col) {
  return s.IsNull(col) ? std::numeric_limits<double>::quiet_NaN() : s.Double(col);
}

void BindValue(SqliteStmt& s, int i, double v) {
  if (std::isnan(v)) {
    s.BindNull(i);  // SQLite stores NaN as NULL anyway; say so explicitly
  } else {
    s.Bind(i, v);
  }
}

Status DecodeInto(int64_t series_id, int64_t win, std::string_view blob,
                  std::vector<SeriesPoint>& merged) {
  if (!DecodeChunk(win, blob, merged)) {
    return Status::Corrupt("chunk " + std::to_string(win) + " of series " +
                           std::to_string(series_id) + " is malformed");
  }
  return Status::Ok();
}

}  // namespace

Status ReadWindow(SqliteDb& db, int64_t series_id, int64_t window, std::vector<SeriesPoint>& out) {
  SqliteStmt& q = db.Prepare("SELECT data FROM chunks WHERE series_id=? AND win=? ORDER BY seq");
  q.Bind(1, series_id).Bind(2, window);
  std::vector<SeriesPoint> merged;
  Status st;
  int chunks = 0;
  while (st.ok() && q.Step()) {
    st = DecodeInto(series_id, window, q.Blob(0), merged);
    ++chunks;
  }
  Status done = q.Done();
  if (!st.ok()) return st;
  LOUPE_RETURN_IF_ERROR(done);
  if (chunks > 1) SortDedupeKeepLast(merged);  // chunks were read in write order
  out.insert(out.end(), merged.begin(), merged.end());
  return Status::Ok();
}

Status ReadRawRange(SqliteDb& db, int64_t series_id, int64_t lo, int64_t hi,
                    std::vector<SeriesPoint>& out) {
  SqliteStmt& q = db.Prepare(
      "SELECT win, data FROM chunks WHERE series_id=? AND win BETWEEN ? AND ? ORDER BY win, seq");
  q.Bind(1, series_id).Bind(2, WindowOf(lo)).Bind(3, WindowOf(hi));
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
  while (st.ok() && q.Step()) {
    int64_t win = q.Int(0);
    if (win != current) {
      flush();
      current = win;
    }
    st = DecodeInto(series_id, win, q.Blob(1), window);
    ++chunks;
  }
  Status done = q.Done();
  flush();
  if (!st.ok()) return st;
  return done;
}

Status ReadBuckets(SqliteDb& db, int64_t series_id, int level, int64_t first, int64_t last,
                   std::vector<Bucket>& out) {
  SqliteStmt& q = db.Prepare(
      "SELECT bucket, n, min_step, min_v, min_ts, max_step, max_v, max_ts, nf_step, nf_v, nf_ts "
      "FROM summaries WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ? ORDER BY bucket");
  q.Bind(1, series_id).Bind(2, level).Bind(3, first).Bind(4, last);
  while (q.Step()) {
    Bucket b;
    b.index = q.Int(0);
    b.n = q.Int(1);
    b.has_finite = !q.IsNull(2);
    if (b.has_finite) {
      b.min = {q.Int(2), q.Double(3), q.Int(4)};
      b.max = {q.Int(5), q.Double(6), q.Int(7)};
    }
    b.has_nonfinite = !q.IsNull(8);
    if (b.has_nonfinite) b.nonfinite = {q.Int(8), ValueOrNaN(q, 9), q.Int(10)};
    out.push_back(b);
  }
  return q.Done();
}

Status WriteBucket(SqliteDb& db, int64_t series_id, int level, const Bucket& b) {
  SqliteStmt& q = db.Prepare(
      "INSERT OR REPLACE INTO summaries VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  q.Bind(1, series_id).Bind(2, level).Bind(3, b.index).Bind(4, b.n);
  if (b.has_finite) {
    q.Bind(5, b.min.step).Bind(6, b.min.value).Bind(7, b.min.ts);
    q.Bind(8, b.max.step).Bind(9, b.max.value).Bind(10, b.max.ts);
  } else {
    for (int i = 5; i <= 10; ++i) q.BindNull(i);
  }
  if (b.has_nonfinite) {
    q.Bind(11, b.nonfinite.step);
    BindValue(q, 12, b.nonfinite.value);
    q.Bind(13, b.nonfinite.ts);
  } else {
    for (int i = 11; i <= 13; ++i) q.BindNull(i);
  }
  return q.Run();
}

Status DeleteBucket(SqliteDb& db, int64_t series_id, int level, int64_t bucket) {
  return db.Prepare("DELETE FROM summaries WHERE series_id=? AND level=? AND bucket=?")
      .Bind(1, series_id).Bind(2, level).Bind(3, bucket).Run();
}

}  // namespace loupe
