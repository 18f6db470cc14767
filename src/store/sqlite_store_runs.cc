// SqliteStore: model sessions, runs, their metrics and search trials.
#include <cmath>

#include "common/time_util.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kRunColumns =
    "id, session_id, name, model, parameters, optimizer, optimizer_parameters, goal_metric, status, error, "
    "experiment_id, job_id, result, create_time, delivered_time, start_time, end_time";

RunRecord RunFromRow(const SqliteStmt& q) {
  return {q.Int(0),   q.Int(1),   q.Text(2),  q.Text(3),  q.Text(4),  q.Text(5),  q.Text(6),  q.Text(7), q.Text(8),
          q.Text(9),  q.Int(10),  q.Int(11),  q.Text(12), q.Int(13),  q.Int(14),  q.Int(15),  q.Int(16)};
}

Result<RunRecord> LoadRun(SqliteDb& db, int64_t id) {
  static const std::string kSql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?";
  SqliteStmt& q = db.Prepare(kSql);
  q.Bind(1, id);
  std::optional<RunRecord> r;
  if (q.Step()) r = RunFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!r) return Status::NotFound("run " + std::to_string(id) + " not found");
  return *r;
}

ModelSessionRecord SessionFromRow(const SqliteStmt& q) {
  return {q.Int(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4), q.Int(5)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateModelSession(const ModelSessionRecord& s) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("INSERT INTO model_sessions(name, dataset_id, task, spec, create_time) VALUES(?, ?, ?, ?, ?)")
            .Bind(1, s.name).Bind(2, s.dataset_id).Bind(3, s.task).Bind(4, s.spec_json).Bind(5, NowMicros()).Run());
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<ModelSessionRecord> SqliteStore::GetModelSession(int64_t id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare("SELECT id, name, dataset_id, task, spec, create_time FROM model_sessions WHERE id=?");
  q.Bind(1, id);
  std::optional<ModelSessionRecord> s;
  if (q.Step()) s = SessionFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!s) return Status::NotFound("model session " + std::to_string(id) + " not found");
  return *s;
}

Result<std::vector<ModelSessionRecord>> SqliteStore::ListModelSessions() {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare("SELECT id, name, dataset_id, task, spec, create_time FROM model_sessions ORDER BY id");
  std::vector<ModelSessionRecord> out;
  while (q.Step()) out.push_back(SessionFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<int64_t> SqliteStore::CreateRun(const RunRecord& r) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    SqliteStmt& session = db.Prepare("SELECT 1 FROM model_sessions WHERE id=?");
    session.Bind(1, r.session_id);
    bool exists = session.Step();
    LOUPE_RETURN_IF_ERROR(session.Done());
    if (!exists) return Status::NotFound("model session " + std::to_string(r.session_id) + " not found");
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("INSERT INTO runs(session_id, name, model, parameters, optimizer, optimizer_parameters, goal_metric, "
                   "status, create_time) VALUES(?, ?, ?, ?, ?, ?, ?, 'NOT_STARTED', ?)")
            .Bind(1, r.session_id).Bind(2, r.name).Bind(3, r.model).Bind(4, r.parameters_json).Bind(5, r.optimizer)
            .Bind(6, r.optimizer_parameters_json).Bind(7, r.goal_metric).Bind(8, NowMicros()).Run());
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<RunRecord> SqliteStore::GetRun(int64_t id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  return LoadRun(r->db(), id);
}

Result<std::vector<RunRecord>> SqliteStore::ListRuns(int64_t session_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kAll = std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id";
  static const std::string kOne = std::string("SELECT ") + kRunColumns + " FROM runs WHERE session_id=? ORDER BY id";
  SqliteStmt& q = r->db().Prepare(session_id ? kOne : kAll);
  if (session_id) q.Bind(1, session_id);
  std::vector<RunRecord> out;
  while (q.Step()) out.push_back(RunFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Status SqliteStore::TransitionRun(int64_t id, const std::vector<std::string>& from, const std::string& status,
                                  const std::string& error) {
  return Write([&](SqliteDb& db) -> Status {
    Result<RunRecord> run = LoadRun(db, id);
    if (!run.ok()) return run.status();
    bool allowed = false;
    for (const std::string& f : from) allowed = allowed || f == run->status;
    if (!allowed) {
      return Status::Conflict("run " + std::to_string(id) + " is " + run->status + "; it cannot become " + status);
    }
    // The time of the new status is now; the times of later statuses are cleared.
    const bool stamped = status != "NOT_STARTED";
    const char* times = !stamped                ? "delivered_time=0, start_time=0, end_time=0"
                        : status == "DELIVERED" ? "delivered_time=?, start_time=0, end_time=0"
                        : status == "STARTED"   ? "start_time=?, end_time=0"
                                                : "end_time=?";
    SqliteStmt& q = db.Prepare(std::string("UPDATE runs SET status=?, error=?, ") + times + " WHERE id=?");
    q.Bind(1, status).Bind(2, error);
    if (stamped) q.Bind(3, NowMicros());
    return q.Bind(stamped ? 4 : 3, id).Run();
  });
}

Status SqliteStore::SaveRunResult(int64_t id, const std::string& result_json, int64_t experiment_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE runs SET result=?, experiment_id=? WHERE id=?")
                              .Bind(1, result_json).Bind(2, experiment_id).Bind(3, id).Run());
    if (db.Changes() == 0) return Status::NotFound("run " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetRunJob(int64_t id, int64_t job_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE runs SET job_id=? WHERE id=?").Bind(1, job_id).Bind(2, id).Run());
    if (db.Changes() == 0) return Status::NotFound("run " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

namespace {

Status DeleteRunRows(SqliteDb& db, int64_t id) {
  LOUPE_RETURN_IF_ERROR(db.Prepare("DELETE FROM run_metrics WHERE run_id=?").Bind(1, id).Run());
  LOUPE_RETURN_IF_ERROR(db.Prepare("DELETE FROM run_trials WHERE run_id=?").Bind(1, id).Run());
  return db.Prepare("DELETE FROM runs WHERE id=?").Bind(1, id).Run();
}

Status RefuseActive(const RunRecord& r) {
  if (r.status == "DELIVERED" || r.status == "STARTED") {
    return Status::Conflict("run " + std::to_string(r.id) + " is " + r.status + "; cancel its job first");
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::DeleteRun(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    Result<RunRecord> run = LoadRun(db, id);
    if (!run.ok()) return run.status();
    LOUPE_RETURN_IF_ERROR(RefuseActive(*run));
    return DeleteRunRows(db, id);
  });
}

Result<std::vector<int64_t>> SqliteStore::DeleteModelSession(int64_t id) {
  std::vector<int64_t> deleted;
  Status st = Write([&](SqliteDb& db) -> Status {
    deleted.clear();
    SqliteStmt& exists = db.Prepare("SELECT 1 FROM model_sessions WHERE id=?");
    exists.Bind(1, id);
    bool found = exists.Step();
    LOUPE_RETURN_IF_ERROR(exists.Done());
    if (!found) return Status::NotFound("model session " + std::to_string(id) + " not found");
    SqliteStmt& q = db.Prepare("SELECT id FROM runs WHERE session_id=? ORDER BY id");
    q.Bind(1, id);
    while (q.Step()) deleted.push_back(q.Int(0));
    LOUPE_RETURN_IF_ERROR(q.Done());
    for (int64_t run_id : deleted) {
      Result<RunRecord> run = LoadRun(db, run_id);
      if (!run.ok()) return run.status();
      LOUPE_RETURN_IF_ERROR(RefuseActive(*run));
    }
    for (int64_t run_id : deleted) LOUPE_RETURN_IF_ERROR(DeleteRunRows(db, run_id));
    return db.Prepare("DELETE FROM model_sessions WHERE id=?").Bind(1, id).Run();
  });
  if (!st.ok()) return st;
  return deleted;
}

Status SqliteStore::ClearRunResults(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("DELETE FROM run_metrics WHERE run_id=?").Bind(1, id).Run());
    return db.Prepare("DELETE FROM run_trials WHERE run_id=?").Bind(1, id).Run();
  });
}

Status SqliteStore::AddRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics) {
  return Write([&](SqliteDb& db) -> Status {
    for (const RunMetric& m : metrics) {
      SqliteStmt& q = db.Prepare("INSERT OR REPLACE INTO run_metrics(run_id, split, name, level, step, value) "
                                 "VALUES(?, ?, ?, ?, ?, ?)");
      q.Bind(1, run_id).Bind(2, m.split).Bind(3, m.name).Bind(4, m.level).Bind(5, m.step);
      if (std::isfinite(m.value)) q.Bind(6, m.value);
      else q.BindNull(6);
      LOUPE_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

Result<std::vector<RunMetric>> SqliteStore::ListRunMetrics(int64_t run_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT split, name, level, step, value FROM run_metrics WHERE run_id=? ORDER BY level, split, name, step");
  q.Bind(1, run_id);
  std::vector<RunMetric> out;
  while (q.Step()) out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.IsNull(4) ? std::nan("") : q.Double(4)});
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<std::map<int64_t, std::vector<RunMetric>>> SqliteStore::ListFinalRunMetrics(int64_t session_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT m.run_id, m.split, m.name, m.level, m.step, m.value FROM run_metrics m JOIN runs r ON r.id = m.run_id "
      "WHERE m.level = 'LAST' AND (?1 = 0 OR r.session_id = ?1) ORDER BY m.run_id, m.split, m.name");
  q.Bind(1, session_id);
  std::map<int64_t, std::vector<RunMetric>> out;
  while (q.Step()) {
    out[q.Int(0)].push_back({q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.IsNull(5) ? std::nan("") : q.Double(5)});
  }
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Status SqliteStore::AddRunTrial(const TrialRecord& t) {
  return Write([&](SqliteDb& db) -> Status {
    SqliteStmt& q = db.Prepare(
        "INSERT OR REPLACE INTO run_trials(run_id, trial, parameters, value, error, metrics, seconds) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.Bind(1, t.run_id).Bind(2, t.trial).Bind(3, t.parameters_json);
    if (std::isfinite(t.value)) q.Bind(4, t.value);
    else q.BindNull(4);
    return q.Bind(5, t.error).Bind(6, t.metrics_json).Bind(7, t.seconds).Run();
  });
}

Result<std::vector<TrialRecord>> SqliteStore::ListRunTrials(int64_t run_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  SqliteStmt& q = r->db().Prepare(
      "SELECT run_id, trial, parameters, value, error, metrics, seconds FROM run_trials WHERE run_id=? ORDER BY trial");
  q.Bind(1, run_id);
  std::vector<TrialRecord> out;
  while (q.Step()) {
    out.push_back({q.Int(0), q.Int(1), q.Text(2), q.IsNull(3) ? std::nan("") : q.Double(3), q.Text(4), q.Text(5), q.Double(6)});
  }
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Result<int> SqliteStore::FailInterruptedRuns(const std::string& reason) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE runs SET status='ERROR', error=?, end_time=? WHERE status='STARTED'")
                              .Bind(1, reason).Bind(2, now).Run());
    n = db.Changes();
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE explorers SET status='ERROR', error=?, end_time=? WHERE status='STARTED'")
                              .Bind(1, reason).Bind(2, now).Run());
    n += db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace loupe
