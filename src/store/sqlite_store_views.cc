// SqliteStore: series, charts, namespaces, console and media reads, and UI state.
#include <cmath>
#include <limits>

#include "common/time_util.h"
#include "store/series_reader.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kSeriesColumns =
    "id, experiment_id, key, type, chart_id, first_step, last_step, last_value, last_ts, create_time, version";

Series SeriesFromRow(const SqliteStmt& q) {
  Series s;
  s.id = q.Int(0);
  s.experiment_id = q.Int(1);
  s.key = q.Text(2);
  s.type = q.Text(3);
  s.chart_id = q.Int(4);
  s.first_step = q.Int(5);
  s.last_step = q.Int(6);
  s.last_value = q.IsNull(7) ? std::numeric_limits<double>::quiet_NaN() : q.Double(7);
  s.last_ts = q.Int(8);
  s.create_time = q.Int(9);
  s.version = q.Int(10);
  return s;
}

constexpr const char* kChartColumns =
    "id, experiment_id, namespace_id, name, type, status, sort, create_time, update_time";

Chart ChartFromRow(const SqliteStmt& q) {
  Chart c;
  c.id = q.Int(0);
  c.experiment_id = q.Int(1);
  c.namespace_id = q.Int(2);
  c.name = q.Text(3);
  c.type = q.Text(4);
  c.status = static_cast<int>(q.Int(5));
  c.sort = q.Int(6);
  c.create_time = q.Int(7);
  c.update_time = q.Int(8);
  return c;
}

}  // namespace

Result<std::vector<Series>> SqliteStore::ListSeries(int64_t experiment_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kSeriesColumns + " FROM series WHERE experiment_id=? ORDER BY id";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, experiment_id);
  std::vector<Series> out;
  while (q.Step()) out.push_back(SeriesFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<Series> SqliteStore::GetSeries(int64_t experiment_id, const std::string& key) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kSeriesColumns + " FROM series WHERE experiment_id=? AND key=?";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, experiment_id).Bind(2, key);
  std::optional<Series> s;
  if (q.Step()) s = SeriesFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!s) return Status::NotFound("experiment " + std::to_string(experiment_id) + " has no tag '" + key + "'");
  return *s;
}

Result<SeriesResult> SqliteStore::QuerySeries(int64_t series_id, const SeriesQuery& q) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteDb& db = r->db();
  // One read transaction, so every level is read from the same snapshot.
  LOUPE_RETURN_IF_ERROR(db.Exec("BEGIN"));
  SqliteStmt& s = db.Prepare("SELECT first_step, last_step FROM series WHERE id=?");
  s.Bind(1, series_id);
  std::optional<std::pair<int64_t, int64_t>> span;
  if (s.Step()) span = {s.Int(0), s.Int(1)};
  Status st = s.Done();
  Result<SeriesResult> out = SeriesResult{};
  if (st.ok() && !span) st = Status::NotFound("series " + std::to_string(series_id) + " not found");
  if (st.ok()) out = QuerySeriesPoints(db, series_id, span->first, span->second, q);
  Status end = db.Exec("COMMIT");  // ends the read snapshot
  if (!st.ok()) return st;
  if (!end.ok()) return end;
  return out;
}

Result<std::vector<Chart>> SqliteStore::ListCharts(int64_t experiment_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kChartColumns + " FROM charts WHERE experiment_id=? ORDER BY sort, id";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, experiment_id);
  std::vector<Chart> out;
  while (q.Step()) out.push_back(ChartFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<int64_t> SqliteStore::CountProjectCharts(int64_t project_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT count(*) FROM charts WHERE experiment_id IN (SELECT id FROM experiments WHERE project_id=?)");
  q.Bind(1, project_id);
  int64_t n = q.Step() ? q.Int(0) : 0;
  LOUPE_RETURN_IF_ERROR(q.Done());
  return n;
}

Result<std::vector<Namespace>> SqliteStore::ListNamespaces(int64_t experiment_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT id, experiment_id, name, opened, sort, create_time, update_time FROM namespaces "
      "WHERE experiment_id=? ORDER BY sort, id");
  q.Bind(1, experiment_id);
  std::vector<Namespace> out;
  while (q.Step()) {
    out.push_back({q.Int(0), q.Int(1), q.Text(2), static_cast<int>(q.Int(3)), q.Int(4), q.Int(5), q.Int(6)});
  }
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<Chart> SqliteStore::SetChartStatus(int64_t chart_id, int status) {
  std::optional<Chart> chart;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE charts SET status=?, update_time=? WHERE id=?")
                              .Bind(1, status).Bind(2, NowMicros()).Bind(3, chart_id).Run());
    if (db.Changes() == 0) return Status::NotFound("chart " + std::to_string(chart_id) + " not found");
    static const std::string kSql = std::string("SELECT ") + kChartColumns + " FROM charts WHERE id=?";
    SqliteStmt& q = db.Prepare(kSql);
    q.Bind(1, chart_id);
    if (q.Step()) chart = ChartFromRow(q);
    return q.Done();
  });
  if (!st.ok()) return st;
  return *chart;
}

Status SqliteStore::SetNamespaceOpened(int64_t namespace_id, int opened) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE namespaces SET opened=?, update_time=? WHERE id=?")
                              .Bind(1, opened).Bind(2, NowMicros()).Bind(3, namespace_id).Run());
    if (db.Changes() == 0) return Status::NotFound("namespace " + std::to_string(namespace_id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetUiState(const std::string& key, const std::string& value) {
  return Write([&](SqliteDb& db) -> Status {
    return db.Prepare("INSERT OR REPLACE INTO ui_state VALUES(?, ?)").Bind(1, key).Bind(2, value).Run();
  });
}

Result<std::string> SqliteStore::GetUiState(const std::string& key) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare("SELECT value FROM ui_state WHERE key=?");
  q.Bind(1, key);
  std::optional<std::string> v;
  if (q.Step()) v = q.Text(0);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!v) return Status::NotFound("no ui state '" + key + "'");
  return *v;
}

Result<std::vector<ConsoleLine>> SqliteStore::TailConsole(int64_t experiment_id, int limit) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? "
      "ORDER BY line_no DESC LIMIT ?");
  q.Bind(1, experiment_id).Bind(2, limit);
  std::vector<ConsoleLine> out;
  while (q.Step()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.Done());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<MediaItem>> SqliteStore::ListMedia(int64_t experiment_id, const std::string& key,
                                                      int limit) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT id, experiment_id, key, step, filename, content_type, ts FROM media "
      "WHERE experiment_id=? AND key=? ORDER BY step DESC, id DESC LIMIT ?");
  q.Bind(1, experiment_id).Bind(2, key).Bind(3, limit);
  std::vector<MediaItem> out;
  while (q.Step()) {
    out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Text(4), q.Text(5), q.Int(6)});
  }
  LOUPE_RETURN_IF_ERROR(q.Done());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<ConsoleLine>> SqliteStore::ReadConsole(int64_t experiment_id, int64_t from_line, int limit) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? AND line_no>=? "
      "ORDER BY line_no LIMIT ?");
  q.Bind(1, experiment_id).Bind(2, from_line).Bind(3, limit);
  std::vector<ConsoleLine> out;
  while (q.Step()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<int64_t> SqliteStore::CountConsole(int64_t experiment_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare("SELECT COALESCE(MAX(line_no), 0) FROM console WHERE experiment_id=?");
  q.Bind(1, experiment_id);
  int64_t n = q.Step() ? q.Int(0) : 0;
  LOUPE_RETURN_IF_ERROR(q.Done());
  return n;
}

Result<std::vector<ConsoleLine>> SqliteStore::SearchConsole(int64_t experiment_id, const std::string& needle,
                                                            int stream, int limit) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  // instr on lower() keeps '%' and '_' in the needle literal, unlike LIKE.
  SqliteStmt& q = r->db().Prepare(
      "SELECT line_no, stream, ts, text FROM console WHERE experiment_id=? AND (?=-1 OR stream=?) "
      "AND (?='' OR instr(lower(text), lower(?))>0) ORDER BY line_no LIMIT ?");
  q.Bind(1, experiment_id).Bind(2, stream).Bind(3, stream).Bind(4, needle).Bind(5, needle).Bind(6, limit);
  std::vector<ConsoleLine> out;
  while (q.Step()) out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::ListProjectKeys(int64_t project_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT s.key, COUNT(*) AS n FROM experiments e JOIN series s ON s.experiment_id=e.id "
      "WHERE e.project_id=? AND s.type='line' GROUP BY s.key ORDER BY n DESC, MIN(s.id)");
  q.Bind(1, project_id);
  std::vector<std::pair<std::string, int64_t>> out;
  while (q.Step()) out.emplace_back(q.Text(0), q.Int(1));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<std::vector<std::pair<int64_t, double>>> SqliteStore::LastValues(int64_t project_id, const std::string& key) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT e.id, s.last_value FROM experiments e JOIN series s ON s.experiment_id=e.id AND s.key=? "
      "WHERE e.project_id=? AND s.last_step>=0");
  q.Bind(1, key).Bind(2, project_id);
  std::vector<std::pair<int64_t, double>> out;
  while (q.Step()) out.emplace_back(q.Int(0), q.IsNull(1) ? std::numeric_limits<double>::quiet_NaN() : q.Double(1));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

}  // namespace loupe
