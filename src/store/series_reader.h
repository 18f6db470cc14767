// SeriesReader: answers a chart query from the summary levels. Stateless; runs on
// any reader connection inside the caller's read transaction.
#pragma once

#include <optional>

#include "common/status.h"
#include "store/sqlite_db.h"
#include "store/store_types.h"

namespace loupe {

// Reads at most q.max_points points of series `series_id` (whose stored steps span
// [first_step, last_step]) in [q.from, q.to]. Cost is bounded by the rows of one
// summary level that fit the range (kMaxRowsPerQuery) plus the two ragged edges.
// `first` and `last`, when given, are the series' points at first_step and last_step as
// its row records them (value and time), which spares reading the edge windows of a range
// that starts or ends there.
Result<SeriesResult> QuerySeriesPoints(SqliteDb& db, int64_t series_id, int64_t first_step,
                                       int64_t last_step, const SeriesQuery& q,
                                       const std::optional<SeriesPoint>& last = std::nullopt,
                                       const std::optional<SeriesPoint>& first = std::nullopt);

}  // namespace loupe
