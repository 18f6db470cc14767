// SqliteStore: regression suites; their runs are batch runs marked with the suite.
#include <nlohmann/json.hpp>

#include "store/batch_rows.h"
#include "store/sql.h"
#include "store/sqlite_store.h"
#include "store/work_status.h"

namespace loupe {

namespace {

// Lists leave the test set out (it may be tens of MiB): the column is read as ''.
constexpr const char* kSuiteColumns =
    "id, name, description, base_model_id, threshold, test_set, schedule_minutes, last_scheduled, model_watermark, "
    "created_by, create_time, update_time, cases, judged, last_error, session_id, session_since";
constexpr const char* kSuiteListColumns =
    "id, name, description, base_model_id, threshold, '', schedule_minutes, last_scheduled, model_watermark, "
    "created_by, create_time, update_time, cases, judged, last_error, session_id, session_since";

EvalSuite SuiteFrom(const sql::Rows& q) {
  EvalSuite s;
  s.id = q.Int(0);
  s.name = q.Text(1);
  s.description = q.Text(2);
  s.base_model_id = q.OptionalInt(3);
  s.threshold = q.Double(4);
  s.test_set_json = q.Text(5);
  s.schedule_minutes = q.Int(6);
  s.last_scheduled = q.Int(7);
  s.model_watermark = q.Int(8);
  s.created_by = q.Text(9);
  s.create_time = q.Int(10);
  s.update_time = q.Int(11);
  s.cases = q.Int(12);
  s.judged = q.Int(13) != 0;
  s.last_error = q.Text(14);
  s.session_id = q.OptionalInt(15);
  s.session_since = q.Int(16);
  return s;
}

Status CheckSuite(SqliteDb& db, const EvalSuite& s) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> taken,
                         sql::QueryInt(db, "SELECT id FROM eval_suites WHERE name=? AND id<>?", s.name, s.id));
  if (taken) return Status::Conflict("a suite named '" + s.name + "' already exists");
  if (s.base_model_id) {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                           sql::QueryInt(db, "SELECT id FROM llm_models WHERE id=?", *s.base_model_id));
    if (!found) return Status::NotFound("model " + std::to_string(*s.base_model_id) + " not found");
  }
  if (s.session_id) {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> found,
                           sql::QueryInt(db, "SELECT id FROM model_sessions WHERE id=?", *s.session_id));
    if (!found) return Status::NotFound("model session " + std::to_string(*s.session_id) + " not found");
  }
  return Status::Ok();
}

}  // namespace

Result<EvalSuite> SqliteStore::CreateSuite(const EvalSuite& s) {
  EvalSuite created = s;
  created.id = 0;  // a new row: its name must be free of every suite
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(CheckSuite(db, created));
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> newest, sql::QueryInt(db, "SELECT coalesce(max(id), 0) FROM llm_models"));
    created.model_watermark = newest.value_or(0);
    created.session_since = created.session_id ? s.create_time : 0;
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO eval_suites(name, description, base_model_id, threshold, test_set, "
                                    "cases, judged, schedule_minutes, last_scheduled, model_watermark, created_by, "
                                    "create_time, update_time, session_id, session_since) "
                                    "VALUES(?,?,?,?,?,?,?,?,0,?,?,?,?,?,?)",
                                    s.name, s.description, s.base_model_id, s.threshold, s.test_set_json, s.cases,
                                    int64_t{s.judged ? 1 : 0}, s.schedule_minutes, created.model_watermark,
                                    s.created_by, s.create_time, s.update_time, s.session_id, created.session_since));
    created.id = db.LastInsertId();
    return Status::Ok();
  }));
  return created;
}

Status SqliteStore::UpdateSuite(const EvalSuite& s) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(CheckSuite(db, s));
    // A new base: the models that exist now are not its new versions.
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE eval_suites SET model_watermark=(SELECT coalesce(max(id), 0) FROM llm_models) "
                                    "WHERE id=? AND base_model_id IS NOT ?",
                                    s.id, s.base_model_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE eval_suites SET session_since=? WHERE id=? AND session_id IS NOT ?",
                                    s.update_time, s.id, s.session_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE eval_suites SET name=?, description=?, base_model_id=?, threshold=?, "
                                    "test_set=?, cases=?, judged=?, schedule_minutes=?, update_time=?, session_id=? "
                                    "WHERE id=?",
                                    s.name, s.description, s.base_model_id, s.threshold, s.test_set_json, s.cases,
                                    int64_t{s.judged ? 1 : 0}, s.schedule_minutes, s.update_time, s.session_id, s.id));
    if (db.Changes() == 0) return Status::NotFound("suite " + std::to_string(s.id) + " not found");
    return Status::Ok();
  });
}

Result<EvalSuite> SqliteStore::GetSuite(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kSuiteColumns + " FROM eval_suites WHERE id=?", id);
  if (q.Next()) return SuiteFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("suite " + std::to_string(id) + " not found");
}

Result<EvalSuite> SqliteStore::GetSuiteByName(const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kSuiteColumns + " FROM eval_suites WHERE name=?", name);
  if (q.Next()) return SuiteFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("no suite named '" + name + "'");
}

Result<std::vector<EvalSuite>> SqliteStore::ListSuites() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kSuiteListColumns + " FROM eval_suites ORDER BY name");
  std::vector<EvalSuite> out;
  while (q.Next()) out.push_back(SuiteFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DeleteSuite(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM eval_suites WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("suite " + std::to_string(id) + " not found");
    return sql::Exec(db, "UPDATE batch_runs SET suite_id=NULL WHERE suite_id=?", id);
  });
}

Result<std::vector<BatchRun>> SqliteStore::ListSuiteRuns(int64_t suite_id, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              std::string("SELECT ") + BatchRunColumns() +
                  " FROM batch_runs r WHERE r.suite_id=? ORDER BY r.id DESC LIMIT ?",
              suite_id, limit);
  std::vector<BatchRun> out;
  while (q.Next()) out.push_back(BatchRunFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<std::pair<int64_t, int64_t>>> SqliteStore::FinishedSuiteRuns(int64_t suite_id, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT id, models FROM batch_runs WHERE suite_id=? AND status='done' ORDER BY id DESC LIMIT ?",
              suite_id, limit);
  std::vector<std::pair<int64_t, int64_t>> out;
  while (q.Next()) {
    const nlohmann::json models = nlohmann::json::parse(q.Text(1), nullptr, false);
    const int64_t model = models.is_array() && !models.empty() && models[0].is_object()
                              ? models[0].value("id", int64_t{0})
                              : 0;
    out.push_back({q.Int(0), model});
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::AdvanceSuiteWatermark(int64_t suite_id, int64_t model_id, const std::string& error) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE eval_suites SET model_watermark=max(model_watermark, ?) WHERE id=?",
                                    model_id, suite_id));
    if (error.empty()) return Status::Ok();
    return sql::Exec(db, "UPDATE eval_suites SET last_error=? WHERE id=?", error, suite_id);
  });
}

Result<std::vector<SessionRunToTest>> SqliteStore::SessionRunsToTest(const EvalSuite& suite, int64_t limit) {
  if (!suite.session_id) return std::vector<SessionRunToTest>();
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT x.id, x.experiment_id, x.end_time FROM runs x WHERE x.session_id=? AND x.status=? AND "
              "x.end_time>=? AND NOT EXISTS(SELECT 1 FROM batch_runs b WHERE b.suite_id=? AND b.reason='new_run' AND "
              "b.trigger_id=x.id AND b.trigger_time=x.end_time) ORDER BY x.end_time, x.id LIMIT ?",
              *suite.session_id, std::string(WorkStatusName(WorkStatus::kFinished)), suite.session_since, suite.id,
              limit);
  std::vector<SessionRunToTest> out;
  while (q.Next()) out.push_back({q.Int(0), q.Int(1), q.Int(2)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::SetSuiteError(int64_t suite_id, const std::string& error) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db, "UPDATE eval_suites SET last_error=? WHERE id=?", error, suite_id);
  });
}

}  // namespace loupe
