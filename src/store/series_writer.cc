#include "store/series_writer.h"

#include <algorithm>
#include <cassert>
#include <set>

#include "common/time_util.h"
#include "store/series_rows.h"
#include "store/sql.h"

namespace loupe {

namespace {

std::string NamespaceOf(const std::string& key) {
  size_t slash = key.find('/');
  return slash == std::string::npos ? "default" : key.substr(0, slash);
}

Result<int64_t> EnsureNamespace(SqliteDb& db, int64_t experiment_id, const std::string& name,
                                int64_t now) {
  Result<std::optional<int64_t>> id =
      sql::QueryInt(db, "SELECT id FROM namespaces WHERE experiment_id=? AND name=?", experiment_id, name);
  if (!id.ok()) return id.status();
  if (*id) return **id;
  LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                  "INSERT INTO namespaces(experiment_id, name, opened, sort, create_time, update_time) "
                                  "VALUES(?, ?, 1, (SELECT coalesce(max(sort), -1) + 1 FROM namespaces WHERE experiment_id=?), ?, ?)",
                                  experiment_id, name, experiment_id, now, now));
  return db.LastInsertId();
}

// The compare view's chart and group for a key, owned by the experiment's project,
// created with the first experiment of the project that logs the key.
Status EnsureProjectChart(SqliteDb& db, int64_t experiment_id, const std::string& ns_name, const std::string& key,
                          const std::string& type, int64_t now) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> project_id,
                         sql::QueryInt(db, "SELECT project_id FROM experiments WHERE id=?", experiment_id));
  if (!project_id) return Status::NotFound("experiment " + std::to_string(experiment_id) + " not found");
  LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                  "INSERT INTO namespaces(project_id, name, opened, sort, create_time, update_time) "
                                  "SELECT ?1, ?2, 1, (SELECT coalesce(max(sort), -1) + 1 FROM namespaces WHERE project_id=?1), "
                                  "?3, ?3 WHERE NOT EXISTS (SELECT 1 FROM namespaces WHERE project_id=?1 AND name=?2)",
                                  *project_id, ns_name, now));
  return sql::Exec(db,
                   "INSERT INTO charts(project_id, namespace_id, name, type, status, sort, create_time, update_time) "
                   "SELECT ?1, (SELECT id FROM namespaces WHERE project_id=?1 AND name=?2), ?3, ?4, 0, "
                   "(SELECT coalesce(max(sort), -1) + 1 FROM charts WHERE project_id=?1), ?5, ?5 "
                   "WHERE NOT EXISTS (SELECT 1 FROM charts WHERE project_id=?1 AND name=?3)",
                   *project_id, ns_name, key, type, now);
}

#ifndef NDEBUG
// The cache's invariant: every cached series is a row of the open transaction (a
// rollback that left a stale entry once lost acknowledged writes). Debug builds only.
bool CachedRowExists(SqliteDb& db, int64_t id, int64_t experiment_id, const std::string& key) {
  Result<std::optional<int64_t>> found =
      sql::QueryInt(db, "SELECT id FROM series WHERE id=? AND experiment_id=? AND key=?", id, experiment_id, key);
  return found.ok() && found->has_value();
}
#endif

}  // namespace

Result<int64_t> SeriesWriter::EnsureSeries(SqliteDb& db, int64_t experiment_id,
                                           const std::string& key, const std::string& type) {
  LOUPE_ASSIGN_OR_RETURN(State* s, StateFor(db, experiment_id, key, type));
  return s->id;
}

Result<SeriesWriter::State*> SeriesWriter::StateFor(SqliteDb& db, int64_t experiment_id,
                                                    const std::string& key,
                                                    const std::string& type) {
  ExperimentSeries& series = experiments_[experiment_id];
  auto it = series.find(key);
  if (it != series.end()) {
    if (it->second.type != type) {
      return Status::InvalidArgument("key '" + key + "' already holds " + it->second.type +
                                     " data; log " + type + " data under another key");
    }
    assert(CachedRowExists(db, it->second.id, experiment_id, key));
    return &it->second;
  }

  State st;
  bool found = false;
  {
    sql::Rows find(db, "SELECT id, first_step, last_step, type FROM series WHERE experiment_id=? AND key=?",
                   experiment_id, key);
    found = find.Next();
    if (found) {
      st.id = find.Int(0);
      st.first_step = find.Int(1);
      st.last_step = find.Int(2);
      st.type = find.Text(3);
    }
    LOUPE_RETURN_IF_ERROR(find.status());
  }  // reset before the inserts below
  if (!found) {
    int64_t* keys = nullptr;
    if (max_keys_ > 0) {
      auto kc = key_counts_.find(experiment_id);
      if (kc == key_counts_.end()) {
        LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> n,
                               sql::QueryInt(db, "SELECT count(*) FROM series WHERE experiment_id=?", experiment_id));
        kc = key_counts_.emplace(experiment_id, n.value_or(0)).first;
      }
      if (kc->second >= max_keys_) {
        return Status::TooLarge("experiment " + std::to_string(experiment_id) + " holds its maximum of " +
                               std::to_string(max_keys_) + " keys; '" + key.substr(0, 100) +
                               "' would be one more (raise it with `loupe serve --max-keys`)");
      }
      keys = &kc->second;
    }
    int64_t now = NowMicros();
    LOUPE_ASSIGN_OR_RETURN(int64_t ns, EnsureNamespace(db, experiment_id, NamespaceOf(key), now));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO charts(experiment_id, namespace_id, name, type, status, sort, "
                                    "create_time, update_time) VALUES(?, ?, ?, ?, 0, "
                                    "(SELECT coalesce(max(sort), -1) + 1 FROM charts WHERE experiment_id=?), ?, ?)",
                                    experiment_id, ns, key, type, experiment_id, now, now));
    int64_t chart_id = db.LastInsertId();
    LOUPE_RETURN_IF_ERROR(EnsureProjectChart(db, experiment_id, NamespaceOf(key), key, type, now));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO series(experiment_id, key, type, chart_id, create_time) "
                                    "VALUES(?, ?, ?, ?, ?)",
                                    experiment_id, key, type, chart_id, now));
    st.id = db.LastInsertId();
    st.type = type;
    if (keys) ++*keys;
  }
  if (st.type != type) {
    return Status::InvalidArgument("key '" + key + "' already holds " + st.type +
                                   " data; log " + type + " data under another key");
  }
  return &series.emplace(key, st).first->second;
}

Status SeriesWriter::Write(SqliteDb& db, int64_t experiment_id, const std::vector<MetricPoint>& points,
                           int64_t ts, std::vector<WriteAck::Refusal>* refused, size_t* refused_points) {
  // Group by key, keeping arrival order inside a key so the last write of a step wins.
  std::unordered_map<std::string_view, std::vector<SeriesPoint>> by_key;
  std::vector<std::string_view> order;
  for (const MetricPoint& p : points) {
    auto [it, inserted] = by_key.try_emplace(p.key);
    if (inserted) order.push_back(p.key);
    it->second.push_back(SeriesPoint{p.step, p.value, p.ts != 0 ? p.ts : ts});
  }
  for (std::string_view key : order) {
    Result<State*> state = StateFor(db, experiment_id, std::string(key), "line");
    if (!state.ok() && state.status().code() == Code::kTooLarge && refused) {
      refused->push_back({std::string(key), -1, state.status().message()});
      if (refused_points) *refused_points += by_key[key].size();
      continue;  // the quota check runs before anything of the key is written
    }
    LOUPE_ASSIGN_OR_RETURN(State* s, std::move(state));
    std::vector<SeriesPoint>& pts = by_key[key];
    SortDedupeKeepLast(pts);
    LOUPE_RETURN_IF_ERROR(WriteSeries(db, *s, pts));
  }
  return Status::Ok();
}

Status SeriesWriter::WriteSeries(SqliteDb& db, State& s, std::vector<SeriesPoint>& pts) {
  const bool append = pts.front().step > s.last_step;
  std::vector<int64_t> dirty_l1;
  size_t begin = 0;
  while (begin < pts.size()) {
    int64_t window = WindowOf(pts[begin].step);
    size_t end = begin;
    while (end < pts.size() && WindowOf(pts[end].step) == window) ++end;
    std::vector<SeriesPoint> slice(pts.begin() + static_cast<long>(begin),
                                   pts.begin() + static_cast<long>(end));
    LOUPE_RETURN_IF_ERROR(WriteWindow(db, s, window, slice, append, dirty_l1));
    begin = end;
  }
  if (append) {
    LOUPE_RETURN_IF_ERROR(AppendToTails(db, s, pts));
  } else {
    LOUPE_RETURN_IF_ERROR(RecomputeLevels(db, s, std::move(dirty_l1)));
  }

  bool was_empty = s.last_step < 0;
  // The batch's first point is the series' first when it lies at or before the old first
  // step (pts are sorted and deduplicated, the last write of a step kept).
  const SeriesPoint& front = pts.front();
  if (was_empty || front.step <= s.first_step) {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE series SET first_value=?, first_ts=? WHERE id=?",
                                    NullIfNaN(front.value), front.ts, s.id));
  }
  s.first_step = was_empty ? front.step : std::min(s.first_step, front.step);
  const SeriesPoint& last = pts.back();
  if (last.step < s.last_step) {
    return sql::Exec(db, "UPDATE series SET first_step=?, version=version+1 WHERE id=?", s.first_step, s.id);
  }
  s.last_step = last.step;
  return sql::Exec(db,
                   "UPDATE series SET first_step=?, last_step=?, last_value=?, last_ts=?, "
                   "version=version+1 WHERE id=?",
                   s.first_step, last.step, NullIfNaN(last.value), last.ts, s.id);
}

Status SeriesWriter::WriteWindow(SqliteDb& db, State& s, int64_t window,
                                 const std::vector<SeriesPoint>& pts, bool append,
                                 std::vector<int64_t>& dirty_l1) {
  // Moving past the newest window closes it: fold its chunks into one.
  if (append && s.tail_window >= 0 && window > s.tail_window && s.tail_window_chunks > 1) {
    LOUPE_RETURN_IF_ERROR(CompactWindow(db, s.id, s.tail_window, s.tail_window_seq, {}, nullptr));
  }
  int chunks = 0;
  int64_t next_seq = 0;
  if (window == s.tail_window) {
    chunks = s.tail_window_chunks;
    next_seq = s.tail_window_seq;
  } else {
    sql::Rows q(db, "SELECT count(*), coalesce(max(seq) + 1, 0) FROM chunks WHERE series_id=? AND win=?", s.id,
                window);
    if (q.Next()) {
      chunks = static_cast<int>(q.Int(0));
      next_seq = q.Int(1);
    }
    LOUPE_RETURN_IF_ERROR(q.status());
  }

  if (append && chunks + 1 < kMaxChunksPerWindow) {
    std::string blob = EncodeChunk(window, pts);
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO chunks(series_id, win, seq, data) VALUES(?,?,?,?)", s.id, window,
                                    next_seq, sql::Blob{blob.data(), blob.size()}));
    ++chunks;
  } else {
    std::vector<SeriesPoint> merged;
    LOUPE_RETURN_IF_ERROR(CompactWindow(db, s.id, window, next_seq, pts, &merged));
    chunks = 1;
    if (!append) {
      // Level-1 buckets lie inside one window: recompute the touched ones from it.
      std::set<int64_t> touched;
      for (const SeriesPoint& p : pts) touched.insert(BucketOf(p.step, 1));
      for (int64_t b : touched) {
        Bucket sum;
        sum.index = b;
        for (const SeriesPoint& p : merged) {
          if (BucketOf(p.step, 1) == b) sum.Add(p);
        }
        LOUPE_RETURN_IF_ERROR(WriteBucket(db, s.id, 1, sum));
        dirty_l1.push_back(b);
      }
    }
  }
  if (window >= s.tail_window) {
    s.tail_window = window;
    s.tail_window_chunks = chunks;
    s.tail_window_seq = next_seq + 1;
  }
  return Status::Ok();
}

Status SeriesWriter::CompactWindow(SqliteDb& db, int64_t series_id, int64_t window, int64_t seq,
                                   const std::vector<SeriesPoint>& newer,
                                   std::vector<SeriesPoint>* merged_out) {
  std::vector<SeriesPoint> existing;
  LOUPE_RETURN_IF_ERROR(ReadWindow(db, series_id, window, existing));
  std::vector<SeriesPoint> merged = newer.empty() ? std::move(existing) : MergePoints(existing, newer);
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM chunks WHERE series_id=? AND win=?", series_id, window));
  std::string blob = EncodeChunk(window, merged);
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO chunks(series_id, win, seq, data) VALUES(?,?,?,?)", series_id,
                                  window, seq, sql::Blob{blob.data(), blob.size()}));
  if (merged_out) *merged_out = std::move(merged);
  return Status::Ok();
}

Status SeriesWriter::LoadTails(SqliteDb& db, State& s) {
  for (int level = 1; level <= kLevels; ++level) {
    s.tails[level].reset();
    s.tail_dirty[level] = false;
    Result<std::optional<int64_t>> newest =
        sql::QueryInt(db, "SELECT max(bucket) FROM summaries WHERE series_id=? AND level=?", s.id, level);
    if (!newest.ok()) return newest.status();
    if (!*newest) continue;
    std::vector<Bucket> rows;
    LOUPE_RETURN_IF_ERROR(ReadBuckets(db, s.id, level, **newest, **newest, rows));
    if (!rows.empty()) s.tails[level] = rows.front();
  }
  s.tails_loaded = true;
  return Status::Ok();
}

Status SeriesWriter::AppendToTails(SqliteDb& db, State& s, const std::vector<SeriesPoint>& pts) {
  if (!s.tails_loaded) LOUPE_RETURN_IF_ERROR(LoadTails(db, s));
  for (const SeriesPoint& p : pts) {
    for (int level = 1; level <= kLevels; ++level) {
      int64_t b = BucketOf(p.step, level);
      std::optional<Bucket>& tail = s.tails[level];
      if (!tail || tail->index != b) {
        if (tail && s.tail_dirty[level]) LOUPE_RETURN_IF_ERROR(WriteBucket(db, s.id, level, *tail));
        tail = Bucket{};
        tail->index = b;
      }
      tail->Add(p);
      s.tail_dirty[level] = true;
    }
  }
  for (int level = 1; level <= kLevels; ++level) {
    if (!s.tail_dirty[level]) continue;
    LOUPE_RETURN_IF_ERROR(WriteBucket(db, s.id, level, *s.tails[level]));
    s.tail_dirty[level] = false;
  }
  return Status::Ok();
}

Status SeriesWriter::RecomputeLevels(SqliteDb& db, State& s, std::vector<int64_t> dirty) {
  for (int level = 2; level <= kLevels; ++level) {
    std::set<int64_t> parents;
    for (int64_t child : dirty) parents.insert(child >> (kLevelShift[level] - kLevelShift[level - 1]));
    dirty.assign(parents.begin(), parents.end());
    int fan = kLevelShift[level] - kLevelShift[level - 1];
    for (int64_t b : dirty) {
      std::vector<Bucket> children;
      LOUPE_RETURN_IF_ERROR(ReadBuckets(db, s.id, level - 1, b << fan, ((b + 1) << fan) - 1, children));
      Bucket sum;
      sum.index = b;
      for (const Bucket& c : children) sum.Merge(c);
      LOUPE_RETURN_IF_ERROR(sum.n == 0 ? DeleteBucket(db, s.id, level, b)
                                       : WriteBucket(db, s.id, level, sum));
    }
  }
  s.tails_loaded = false;  // newest buckets may have changed under the cache
  return Status::Ok();
}

Status SeriesWriter::TouchMediaSeries(SqliteDb& db, int64_t series_id, int64_t step, int64_t ts) {
  return sql::Exec(db,
                   "UPDATE series SET first_step = CASE WHEN last_step < 0 THEN ?1 ELSE min(first_step, ?1) END, "
                   "last_ts = CASE WHEN ?1 >= last_step THEN ?2 ELSE last_ts END, "
                   "last_step = max(last_step, ?1), version=version+1 WHERE id=?3",
                   step, ts, series_id);
}

}  // namespace loupe
