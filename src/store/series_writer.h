// SeriesWriter: the metric write path, run on the writer thread only.
//
// It turns a batch of (key, step, value) into chunk rows and summary rows, creating
// series, charts and namespaces on first sight of a key. Appends (steps past the
// series' last step, the usual case) update the newest bucket of each level in
// memory; overwrites and out-of-order steps recompute the buckets they touch from
// the level below. It caches per-series state; Reset() drops every cache (called
// after any rollback, since the cache may then describe uncommitted rows).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/series_layout.h"
#include "store/sqlite_db.h"
#include "store/store_types.h"

namespace loupe {

class SeriesWriter {
 public:
  // Writes the points (any order, duplicates allowed: the last one wins). With `refused`
  // (a partial batch), a new key past the key quota is left out and listed there, with
  // its points counted in `refused_points`; without, it refuses the batch (TooLarge).
  Status Write(SqliteDb& db, int64_t experiment_id, const std::vector<MetricPoint>& points,
               int64_t ts, std::vector<WriteAck::Refusal>* refused = nullptr, size_t* refused_points = nullptr);
  // Finds or creates the series (with its chart and namespace); returns its id.
  Result<int64_t> EnsureSeries(SqliteDb& db, int64_t experiment_id, const std::string& key,
                               const std::string& type);
  // Records that a media point exists at `step` (media series keep no values).
  Status TouchMediaSeries(SqliteDb& db, int64_t series_id, int64_t step, int64_t ts);
  void Reset() {
    experiments_.clear();
    key_counts_.clear();
  }
  void Forget(int64_t experiment_id) {
    experiments_.erase(experiment_id);
    key_counts_.erase(experiment_id);
  }
  // New keys past this many in one experiment are refused (NoSpace); 0: no limit.
  void set_max_keys(int64_t n) { max_keys_ = n; }

 private:
  struct State {
    int64_t id = 0;
    std::string type;
    int64_t first_step = 0;
    int64_t last_step = -1;
    bool tails_loaded = false;
    std::array<std::optional<Bucket>, kLevels + 1> tails;  // newest bucket per level
    std::array<bool, kLevels + 1> tail_dirty{};
    int64_t tail_window = -1;  // newest window written, with its chunk count and next seq
    int tail_window_chunks = 0;
    int64_t tail_window_seq = 0;
  };
  using ExperimentSeries = std::unordered_map<std::string, State>;

  Result<State*> StateFor(SqliteDb& db, int64_t experiment_id, const std::string& key,
                          const std::string& type);
  Status WriteSeries(SqliteDb& db, State& s, std::vector<SeriesPoint>& pts);
  Status WriteWindow(SqliteDb& db, State& s, int64_t window, const std::vector<SeriesPoint>& pts,
                     bool append, std::vector<int64_t>& dirty_l1);
  // Rewrites a window as one chunk (with `newer` merged in, newer winning).
  Status CompactWindow(SqliteDb& db, int64_t series_id, int64_t window, int64_t seq,
                       const std::vector<SeriesPoint>& newer, std::vector<SeriesPoint>* merged_out);
  Status AppendToTails(SqliteDb& db, State& s, const std::vector<SeriesPoint>& pts);
  Status RecomputeLevels(SqliteDb& db, State& s, std::vector<int64_t> dirty);
  Status LoadTails(SqliteDb& db, State& s);

  std::unordered_map<int64_t, ExperimentSeries> experiments_;
  // Keys per experiment, counted once and then kept as keys are added (cleared with the
  // rest of the cache on a rollback), so a new key costs no count over the others.
  std::unordered_map<int64_t, int64_t> key_counts_;
  int64_t max_keys_ = 0;
};

}  // namespace loupe
