// SqliteStore: series, charts, namespaces, console and media reads, and UI state.
#include <algorithm>
#include <cmath>
#include <limits>

#include "common/time_util.h"
#include "store/series_reader.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kSeriesColumns =
    "id, experiment_id, key, type, chart_id, first_step, last_step, last_value, last_ts, create_time, version, "
    "coalesce(first_ts, 0)";

Series SeriesFromRow(const sql::Rows& q) {
  Series s;
  s.id = q.Int(0);
  s.experiment_id = q.Int(1);
  s.key = q.Text(2);
  s.type = q.Text(3);
  s.chart_id = q.Int(4);
  s.first_step = q.Int(5);
  s.last_step = q.Int(6);
  s.last_value = q.OptionalDouble(7).value_or(std::numeric_limits<double>::quiet_NaN());
  s.last_ts = q.Int(8);
  s.create_time = q.Int(9);
  s.version = q.Int(10);
  s.first_ts = q.Int(11);
  return s;
}

constexpr const char* kChartColumns =
    "id, coalesce(experiment_id, 0), coalesce(project_id, 0), namespace_id, name, type, status, sort, pin_sort, "
    "create_time, update_time";

Chart ChartFromRow(const sql::Rows& q) {
  Chart c;
  c.id = q.Int(0);
  c.experiment_id = q.Int(1);
  c.project_id = q.Int(2);
  c.namespace_id = q.Int(3);
  c.name = q.Text(4);
  c.type = q.Text(5);
  c.status = static_cast<int>(q.Int(6));
  c.sort = q.Int(7);
  c.pin_sort = q.OptionalInt(8);
  c.create_time = q.Int(9);
  c.update_time = q.Int(10);
  return c;
}

constexpr const char* kNamespaceColumns =
    "id, coalesce(experiment_id, 0), coalesce(project_id, 0), name, opened, sort, create_time, update_time";

Namespace NamespaceFromRow(const sql::Rows& q) {
  return {q.Int(0), q.Int(1), q.Int(2), q.Text(3), static_cast<int>(q.Int(4)), q.Int(5), q.Int(6), q.Int(7)};
}

template <typename T>
Result<std::vector<T>> ListRows(SqliteDb& db, const std::string& sql, int64_t id, T (*from_row)(const sql::Rows&)) {
  sql::Rows q(db, sql, id);
  std::vector<T> out;
  while (q.Next()) out.push_back(from_row(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

}  // namespace

Result<std::vector<Series>> SqliteStore::ListSeries(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kSeriesColumns + " FROM series WHERE experiment_id=? ORDER BY id";
  sql::Rows q(r.db(), kSql, experiment_id);
  std::vector<Series> out;
  while (q.Next()) out.push_back(SeriesFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<Series> SqliteStore::GetSeries(int64_t experiment_id, const std::string& key) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kSeriesColumns + " FROM series WHERE experiment_id=? AND key=?";
  sql::Rows q(r.db(), kSql, experiment_id, key);
  if (q.Next()) return SeriesFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("experiment " + std::to_string(experiment_id) + " has no tag '" + key + "'");
}

Result<SeriesResult> SqliteStore::QuerySeries(int64_t series_id, const SeriesQuery& q) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  SqliteDb& db = r.db();
  // One read transaction, so every level is read from the same snapshot.
  LOUPE_RETURN_IF_ERROR(db.Exec("BEGIN"));
  std::optional<std::pair<int64_t, int64_t>> span;
  std::optional<SeriesPoint> first, last;  // the row's record of its edge points (scalar series)
  Status st;
  {
    sql::Rows s(db,
                "SELECT first_step, last_step, last_value, last_ts, type, first_value, first_ts FROM series WHERE id=?",
                series_id);
    if (s.Next()) {
      span = {s.Int(0), s.Int(1)};
      constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
      if (s.Text(4) == "line" && s.Int(1) >= 0) {
        last = SeriesPoint{s.Int(1), s.OptionalDouble(2).value_or(kNaN), s.Int(3)};
        if (!s.IsNull(6)) first = SeriesPoint{s.Int(0), s.OptionalDouble(5).value_or(kNaN), s.Int(6)};
      }
    }
    st = s.status();
  }  // reset here: a statement left mid-step would hold the snapshot past COMMIT
  Result<SeriesResult> out = SeriesResult{};
  if (st.ok() && !span) st = Status::NotFound("series " + std::to_string(series_id) + " not found");
  if (st.ok()) out = QuerySeriesPoints(db, series_id, span->first, span->second, q, last, first);
  Status end = db.Exec("COMMIT");  // ends the read snapshot
  if (!st.ok()) return st;
  if (!end.ok()) return end;
  return out;
}

Result<std::vector<Chart>> SqliteStore::ListCharts(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kChartColumns + " FROM charts WHERE experiment_id=? ORDER BY sort, id";
  return ListRows(r.db(), kSql, experiment_id, &ChartFromRow);
}

Result<std::vector<Namespace>> SqliteStore::ListNamespaces(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql =
      std::string("SELECT ") + kNamespaceColumns + " FROM namespaces WHERE experiment_id=? ORDER BY sort, id";
  return ListRows(r.db(), kSql, experiment_id, &NamespaceFromRow);
}

Result<std::vector<Chart>> SqliteStore::ListProjectCharts(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kChartColumns + " FROM charts WHERE project_id=? ORDER BY sort, id";
  return ListRows(r.db(), kSql, project_id, &ChartFromRow);
}

Result<std::vector<Namespace>> SqliteStore::ListProjectNamespaces(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql =
      std::string("SELECT ") + kNamespaceColumns + " FROM namespaces WHERE project_id=? ORDER BY sort, id";
  return ListRows(r.db(), kSql, project_id, &NamespaceFromRow);
}

Result<bool> SqliteStore::ProjectHasCharts(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                         sql::QueryInt(r.db(), "SELECT 1 FROM charts WHERE project_id=? LIMIT 1", project_id));
  return found.has_value();
}

Result<Chart> SqliteStore::SetChartStatus(int64_t chart_id, int status) {
  std::optional<Chart> chart;
  Status st = Write([&](SqliteDb& db) -> Status {
    // A pinned or hidden chart goes after those already there, among its owner's charts.
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db,
        "UPDATE charts SET status=?1, update_time=?2, pin_sort=CASE WHEN ?1=0 THEN NULL "
        "WHEN status=?1 THEN pin_sort ELSE (SELECT coalesce(max(o.pin_sort), -1) + 1 FROM charts o "
        "WHERE o.status=?1 AND o.id<>charts.id AND (o.experiment_id=charts.experiment_id OR "
        "o.project_id=charts.project_id)) END WHERE id=?3",
        status, NowMicros(), chart_id));
    if (db.Changes() == 0) return Status::NotFound("chart " + std::to_string(chart_id) + " not found");
    static const std::string kSql = std::string("SELECT ") + kChartColumns + " FROM charts WHERE id=?";
    sql::Rows q(db, kSql, chart_id);
    if (q.Next()) chart = ChartFromRow(q);
    return q.status();
  });
  if (!st.ok()) return st;
  return *chart;
}

Status SqliteStore::SetNamespaceOpened(int64_t namespace_id, int opened) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "UPDATE namespaces SET opened=?, update_time=? WHERE id=?", opened, NowMicros(), namespace_id));
    if (db.Changes() == 0) return Status::NotFound("namespace " + std::to_string(namespace_id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetUiState(const std::string& key, const std::string& value) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db, "INSERT OR REPLACE INTO ui_state VALUES(?, ?)", key, value);
  });
}

Result<std::string> SqliteStore::GetUiState(const std::string& key) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT value FROM ui_state WHERE key=?", key);
  if (q.Next()) return q.Text(0);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("no ui state '" + key + "'");
}

Result<std::vector<ConsoleLine>> SqliteStore::TailConsole(int64_t experiment_id, int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? "
              "ORDER BY line_no DESC LIMIT ?",
              experiment_id, limit);
  std::vector<ConsoleLine> out;
  while (q.Next()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<MediaItem>> SqliteStore::ListMedia(int64_t experiment_id, const std::string& key,
                                                      int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT id, experiment_id, key, step, filename, content_type, ts, caption FROM media "
              "WHERE experiment_id=? AND key=? ORDER BY step DESC, id DESC LIMIT ?",
              experiment_id, key, limit);
  std::vector<MediaItem> out;
  while (q.Next()) {
    MediaItem m;
    m.id = q.Int(0);
    m.experiment_id = q.Int(1);
    m.key = q.Text(2);
    m.step = q.Int(3);
    m.filename = q.Text(4);
    m.content_type = q.Text(5);
    m.ts = q.Int(6);
    if (!q.IsNull(7)) m.caption = q.Text(7);
    out.push_back(std::move(m));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> SqliteStore::ListMediaFilenames(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT filename FROM media WHERE experiment_id=?", experiment_id);
  std::vector<std::string> out;
  while (q.Next()) out.push_back(q.Text(0));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<ConsoleLine>> SqliteStore::ReadConsole(int64_t experiment_id, int64_t from_line, int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? AND line_no>=? "
              "ORDER BY line_no LIMIT ?",
              experiment_id, from_line, limit);
  std::vector<ConsoleLine> out;
  while (q.Next()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<int64_t> SqliteStore::CountConsole(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  Result<std::optional<int64_t>> n =
      sql::QueryInt(r.db(), "SELECT COALESCE(MAX(line_no), 0) FROM console WHERE experiment_id=?", experiment_id);
  if (!n.ok()) return n.status();
  return n->value_or(0);
}

Result<std::vector<ConsoleLine>> SqliteStore::SearchConsole(int64_t experiment_id, const std::string& needle,
                                                            int stream, int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  // instr on lower() keeps '%' and '_' in the needle literal, unlike LIKE.
  sql::Rows q(r.db(),
              "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? AND (?=-1 OR stream=?) "
              "AND (?='' OR instr(lower(text), lower(?))>0) ORDER BY line_no LIMIT ?",
              experiment_id, stream, stream, needle, needle, limit);
  std::vector<ConsoleLine> out;
  while (q.Next()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::ListProjectKeys(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT s.key, COUNT(*) AS n FROM experiments e JOIN series s ON s.experiment_id=e.id "
              "WHERE e.project_id=? AND s.type='line' GROUP BY s.key ORDER BY n DESC, MIN(s.id)",
              project_id);
  std::vector<std::pair<std::string, int64_t>> out;
  while (q.Next()) out.emplace_back(q.Text(0), q.Int(1));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<std::pair<int64_t, double>>> SqliteStore::LastValues(int64_t project_id, const std::string& key) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  // The project's experiment ids (through its (project_id, name, id) index), then one
  // covering range scan of the key between the smallest and largest of them, filtered
  // here: an IN (subquery) would have SQLite build a temporary index of the ids on every
  // call, which cost more than the scan (a 10,000-run table reads five keys).
  std::vector<int64_t> ids;
  {
    sql::Rows q(r.db(), "SELECT id FROM experiments WHERE project_id=?", project_id);
    while (q.Next()) ids.push_back(q.Int(0));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  std::vector<std::pair<int64_t, double>> out;
  if (ids.empty()) return out;
  std::sort(ids.begin(), ids.end());
  sql::Rows q(r.db(),
              "SELECT s.experiment_id, s.last_value FROM series s INDEXED BY series_by_key "
              "WHERE s.key=? AND s.experiment_id BETWEEN ? AND ? AND s.last_step>=0",
              key, ids.front(), ids.back());
  while (q.Next()) {
    const int64_t id = q.Int(0);
    if (!std::binary_search(ids.begin(), ids.end(), id)) continue;  // another project's run in the range
    out.emplace_back(id, q.OptionalDouble(1).value_or(std::numeric_limits<double>::quiet_NaN()));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<std::optional<MetricRange>>> SqliteStore::MetricRanges(const std::string& key,
                                                                         const std::vector<int64_t>& experiment_ids) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  std::vector<std::optional<MetricRange>> out;
  out.reserve(experiment_ids.size());
  // The coarsest summary level covers 2^27 steps a bucket, so almost every series has one
  // row there: a run's range costs two indexed lookups, however many points it holds.
  // A bucket without a finite value has NULL min and max. Buckets come in step order and
  // only a strictly better value replaces the kept one, so ties keep the first step.
  for (int64_t id : experiment_ids) {
    sql::Rows q(r.db(),
                "SELECT m.min_v, m.min_step, m.max_v, m.max_step FROM series s "
                "JOIN summaries m ON m.series_id=s.id AND m.level=? "
                "WHERE s.experiment_id=? AND s.key=? AND m.min_v IS NOT NULL ORDER BY m.bucket",
                kLevels, id, key);
    std::optional<MetricRange> range;
    while (q.Next()) {
      MetricRange b{q.Double(0), q.Double(2), q.Int(1), q.Int(3)};
      if (!range) {
        range = b;
        continue;
      }
      if (b.min < range->min) range->min = b.min, range->min_step = b.min_step;
      if (b.max > range->max) range->max = b.max, range->max_step = b.max_step;
    }
    LOUPE_RETURN_IF_ERROR(q.status());
    out.push_back(range);
  }
  return out;
}

}  // namespace loupe
