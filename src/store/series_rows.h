// Row-level access to the chunks and summaries tables, shared by the series writer
// and reader. Functions take the connection of whichever thread calls them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "store/series_layout.h"
#include "store/sqlite_db.h"

namespace loupe {

// A value as stored: NaN as NULL (SQLite would store NULL anyway; say so explicitly).
std::optional<double> NullIfNaN(double v);

// All points of one window, merging its chunks in write order (later writes win).
Status ReadWindow(SqliteDb& db, int64_t series_id, int64_t window, std::vector<SeriesPoint>& out);
// All points with steps in [lo, hi], ascending.
Status ReadRawRange(SqliteDb& db, int64_t series_id, int64_t lo, int64_t hi,
                    std::vector<SeriesPoint>& out);
// Summary rows of one level for buckets [first, last], ascending.
Status ReadBuckets(SqliteDb& db, int64_t series_id, int level, int64_t first, int64_t last,
                   std::vector<Bucket>& out);
Status WriteBucket(SqliteDb& db, int64_t series_id, int level, const Bucket& b);
Status DeleteBucket(SqliteDb& db, int64_t series_id, int level, int64_t bucket);

}  // namespace loupe
