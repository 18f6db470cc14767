// SqliteStore: model sessions, runs, their metrics and search trials.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "common/time_util.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kRunColumns =
    "id, session_id, name, model, parameters, optimizer, optimizer_parameters, goal_metric, status, error, "
    "experiment_id, job_id, result, create_time, delivered_time, start_time, end_time";

RunRecord RunFromRow(const sql::Rows& q) {
  return {q.Int(0),   q.Int(1),   q.Text(2),  q.Text(3),  q.Text(4),  q.Text(5),  q.Text(6),  q.Text(7),
          sql::StatusFromRow(q, 8), q.Text(9),  q.Int(10),  q.Int(11),  q.Text(12), q.Int(13),  q.Int(14),  q.Int(15),
          q.Int(16)};
}

Result<RunRecord> LoadRun(SqliteDb& db, int64_t id) {
  static const std::string kSql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?";
  sql::Rows q(db, kSql, id);
  if (q.Next()) return RunFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("run " + std::to_string(id) + " not found");
}

ModelSessionRecord SessionFromRow(const sql::Rows& q) {
  return {q.Int(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4), q.Int(5)};
}

// Metric and trial values that are not finite are stored as NULL.
std::optional<double> FiniteOrNull(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

}  // namespace

Result<int64_t> SqliteStore::CreateModelSession(const ModelSessionRecord& s) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "INSERT INTO model_sessions(name, dataset_id, task, spec, create_time) VALUES(?, ?, ?, ?, ?)",
                  s.name, s.dataset_id, s.task, s.spec_json, NowMicros()));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<ModelSessionRecord> SqliteStore::GetModelSession(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, dataset_id, task, spec, create_time FROM model_sessions WHERE id=?", id);
  if (q.Next()) return SessionFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("model session " + std::to_string(id) + " not found");
}

Result<std::vector<ModelSessionRecord>> SqliteStore::ListModelSessions() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, dataset_id, task, spec, create_time FROM model_sessions ORDER BY id");
  std::vector<ModelSessionRecord> out;
  while (q.Next()) out.push_back(SessionFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<int64_t> SqliteStore::CreateRun(const RunRecord& r) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> exists = sql::QueryInt(db, "SELECT 1 FROM model_sessions WHERE id=?", r.session_id);
    if (!exists.ok()) return exists.status();
    if (!*exists) return Status::NotFound("model session " + std::to_string(r.session_id) + " not found");
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db,
                  "INSERT INTO runs(session_id, name, model, parameters, optimizer, optimizer_parameters, goal_metric, "
                  "status, create_time) VALUES(?, ?, ?, ?, ?, ?, ?, 'NOT_STARTED', ?)",
                  r.session_id, r.name, r.model, r.parameters_json, r.optimizer, r.optimizer_parameters_json,
                  r.goal_metric, NowMicros()));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<RunRecord> SqliteStore::GetRun(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return LoadRun(r.db(), id);
}

Result<std::vector<RunRecord>> SqliteStore::ListRuns(int64_t session_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kAll = std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id";
  static const std::string kOne = std::string("SELECT ") + kRunColumns + " FROM runs WHERE session_id=? ORDER BY id";
  std::optional<sql::Rows> q;
  if (session_id) {
    q.emplace(r.db(), kOne, session_id);
  } else {
    q.emplace(r.db(), kAll);
  }
  std::vector<RunRecord> out;
  while (q->Next()) out.push_back(RunFromRow(*q));
  LOUPE_RETURN_IF_ERROR(q->status());
  return out;
}

namespace {

Status MoveRun(SqliteDb& db, int64_t id, const std::vector<WorkStatus>& from, WorkStatus status,
               const std::string& error) {
  assert(status != WorkStatus::kCancelled);  // runs end FINISHED or ERROR; only jobs are cancelled
  LOUPE_ASSIGN_OR_RETURN(RunRecord run, LoadRun(db, id));
  if (std::find(from.begin(), from.end(), run.status) == from.end()) {
    return Status::Conflict("run " + std::to_string(id) + " is " + WorkStatusName(run.status) + "; it cannot become " +
                            WorkStatusName(status));
  }
  // The time of the new status is now; the times of later statuses are cleared.
  const bool stamped = status != WorkStatus::kNotStarted;
  const char* times = !stamped                           ? "delivered_time=0, start_time=0, end_time=0"
                      : status == WorkStatus::kDelivered ? "delivered_time=?, start_time=0, end_time=0"
                      : status == WorkStatus::kStarted   ? "start_time=?, end_time=0"
                                                         : "end_time=?";
  const std::string update = std::string("UPDATE runs SET status=?, error=?, ") + times + " WHERE id=?";
  if (stamped) return sql::Exec(db, update, WorkStatusName(status), error, NowMicros(), id);
  return sql::Exec(db, update, WorkStatusName(status), error, id);
}

}  // namespace

Status SqliteStore::TransitionRun(int64_t id, const std::vector<WorkStatus>& from, WorkStatus status,
                                  const std::string& error) {
  return Write([&](SqliteDb& db) -> Status { return MoveRun(db, id, from, status, error); });
}

Result<int64_t> SqliteStore::QueueRun(int64_t id, const std::vector<WorkStatus>& from, const std::string& job_type,
                                      const std::string& kwargs_json) {
  int64_t job_id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(MoveRun(db, id, from, WorkStatus::kDelivered, ""));
    LOUPE_ASSIGN_OR_RETURN(job_id, InsertJob(db, job_type, kwargs_json, options_.quotas.max_queued_jobs));
    return sql::Exec(db, "UPDATE runs SET job_id=? WHERE id=?", job_id, id);
  });
  if (!st.ok()) return st;
  return job_id;
}

Status SqliteStore::RequeueRun(int64_t id, const std::vector<WorkStatus>& from, int64_t job_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(MoveRun(db, id, from, WorkStatus::kDelivered, ""));
    LOUPE_RETURN_IF_ERROR(RequeueJob(db, job_id, options_.quotas.max_queued_jobs));
    return sql::Exec(db, "UPDATE runs SET job_id=? WHERE id=?", job_id, id);
  });
}

Status SqliteStore::SaveRunResult(int64_t id, const std::string& result_json, int64_t experiment_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "UPDATE runs SET result=?, experiment_id=? WHERE id=?", result_json, experiment_id, id));
    if (db.Changes() == 0) return Status::NotFound("run " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetRunJob(int64_t id, int64_t job_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE runs SET job_id=? WHERE id=?", job_id, id));
    if (db.Changes() == 0) return Status::NotFound("run " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

namespace {

Status DeleteRunRows(SqliteDb& db, int64_t id) {
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM run_metrics WHERE run_id=?", id));
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM run_trials WHERE run_id=?", id));
  return sql::Exec(db, "DELETE FROM runs WHERE id=?", id);
}

Status RefuseActive(const RunRecord& r) {
  if (r.status == WorkStatus::kDelivered || r.status == WorkStatus::kStarted) {
    return Status::Conflict("run " + std::to_string(r.id) + " is " + WorkStatusName(r.status) + "; cancel its job first");
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::DeleteRun(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(RunRecord run, LoadRun(db, id));
    LOUPE_RETURN_IF_ERROR(RefuseActive(run));
    return DeleteRunRows(db, id);
  });
}

Result<std::vector<int64_t>> SqliteStore::DeleteModelSession(int64_t id) {
  std::vector<int64_t> deleted;
  Status st = Write([&](SqliteDb& db) -> Status {
    deleted.clear();
    Result<std::optional<int64_t>> found = sql::QueryInt(db, "SELECT 1 FROM model_sessions WHERE id=?", id);
    if (!found.ok()) return found.status();
    if (!*found) return Status::NotFound("model session " + std::to_string(id) + " not found");
    sql::Rows q(db, "SELECT id FROM runs WHERE session_id=? ORDER BY id", id);
    while (q.Next()) deleted.push_back(q.Int(0));
    LOUPE_RETURN_IF_ERROR(q.status());
    for (int64_t run_id : deleted) {
      LOUPE_ASSIGN_OR_RETURN(RunRecord run, LoadRun(db, run_id));
      LOUPE_RETURN_IF_ERROR(RefuseActive(run));
    }
    for (int64_t run_id : deleted) LOUPE_RETURN_IF_ERROR(DeleteRunRows(db, run_id));
    return sql::Exec(db, "DELETE FROM model_sessions WHERE id=?", id);
  });
  if (!st.ok()) return st;
  return deleted;
}

Status SqliteStore::ClearRunResults(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM run_metrics WHERE run_id=?", id));
    return sql::Exec(db, "DELETE FROM run_trials WHERE run_id=?", id);
  });
}

Status SqliteStore::AddRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics) {
  return Write([&](SqliteDb& db) -> Status {
    for (const RunMetric& m : metrics) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "INSERT OR REPLACE INTO run_metrics(run_id, split, name, level, step, value) "
                                      "VALUES(?, ?, ?, ?, ?, ?)",
                                      run_id, m.split, m.name, m.level, m.step, FiniteOrNull(m.value)));
    }
    return Status::Ok();
  });
}

Result<std::vector<RunMetric>> SqliteStore::ListRunMetrics(int64_t run_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT split, name, level, step, value FROM run_metrics WHERE run_id=? ORDER BY level, split, name, step",
              run_id);
  std::vector<RunMetric> out;
  while (q.Next()) out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.OptionalDouble(4).value_or(std::nan(""))});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::map<int64_t, std::vector<RunMetric>>> SqliteStore::ListFinalRunMetrics(int64_t session_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT m.run_id, m.split, m.name, m.level, m.step, m.value FROM run_metrics m "
              "JOIN runs r ON r.id = m.run_id "
              "WHERE m.level = 'LAST' AND (?1 = 0 OR r.session_id = ?1) ORDER BY m.run_id, m.split, m.name",
              session_id);
  std::map<int64_t, std::vector<RunMetric>> out;
  while (q.Next()) {
    out[q.Int(0)].push_back({q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.OptionalDouble(5).value_or(std::nan(""))});
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::AddRunTrial(const TrialRecord& t) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db,
                     "INSERT OR REPLACE INTO run_trials(run_id, trial, parameters, value, error, metrics, seconds) "
                     "VALUES(?, ?, ?, ?, ?, ?, ?)",
                     t.run_id, t.trial, t.parameters_json, FiniteOrNull(t.value), t.error, t.metrics_json, t.seconds);
  });
}

Result<std::vector<TrialRecord>> SqliteStore::ListRunTrials(int64_t run_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT run_id, trial, parameters, value, error, metrics, seconds FROM run_trials "
              "WHERE run_id=? ORDER BY trial",
              run_id);
  std::vector<TrialRecord> out;
  while (q.Next()) {
    out.push_back({q.Int(0), q.Int(1), q.Text(2), q.OptionalDouble(3).value_or(std::nan("")), q.Text(4), q.Text(5),
                   q.Double(6)});
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<int> SqliteStore::FailInterruptedRuns(const std::string& reason) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "UPDATE runs SET status='ERROR', error=?, end_time=? WHERE status='STARTED'", reason, now));
    n = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

Result<std::vector<int64_t>> SqliteStore::ReleaseOrphanedRuns() {
  std::vector<int64_t> released;
  Status st = Write([&](SqliteDb& db) -> Status {
    released.clear();
    {
      sql::Rows q(db,
                  "SELECT id FROM runs WHERE status='DELIVERED' AND NOT EXISTS "
                  "(SELECT 1 FROM jobs WHERE jobs.id = runs.job_id AND jobs.status='NOT_STARTED') ORDER BY id");
      while (q.Next()) released.push_back(q.Int(0));
      LOUPE_RETURN_IF_ERROR(q.status());
    }
    for (int64_t id : released) {
      LOUPE_RETURN_IF_ERROR(MoveRun(db, id, {WorkStatus::kDelivered}, WorkStatus::kNotStarted, ""));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return released;
}

}  // namespace loupe
