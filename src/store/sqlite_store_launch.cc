// SqliteStore: training jobs Loupe launches, their segments, events and prices.
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kJobColumns =
    "id, name, project, experiment_id, spec, executor, state, stop_reason, exit_text, message, created_by, "
    "create_time, start_time, end_time, restarts, gpus, dir, segment, pid, pid_start, shim_pid, alerts, "
    "stop_requested, checkpoint_requests, resume_from, external_id";

LaunchJob JobFrom(const sql::Rows& q) {
  LaunchJob j;
  j.id = q.Int(0);
  j.name = q.Text(1);
  j.project = q.Text(2);
  j.experiment_id = q.Int(3);
  j.spec_json = q.Text(4);
  j.executor = q.Text(5);
  j.state = q.Text(6);
  j.stop_reason = q.Text(7);
  j.exit_text = q.Text(8);
  j.message = q.Text(9);
  j.created_by = q.Text(10);
  j.create_time = q.Int(11);
  j.start_time = q.Int(12);
  j.end_time = q.Int(13);
  j.restarts = static_cast<int>(q.Int(14));
  j.gpus = q.Text(15);
  j.dir = q.Text(16);
  j.segment = static_cast<int>(q.Int(17));
  j.pid = q.Int(18);
  j.pid_start = q.Int(19);
  j.shim_pid = q.Int(20);
  j.alerts = static_cast<int>(q.Int(21));
  j.stop_requested = q.Int(22);
  j.checkpoint_requests = static_cast<int>(q.Int(23));
  j.resume_from = q.Text(24);
  j.external_id = q.Text(25);
  return j;
}

Status UpdateJobIn(SqliteDb& db, const LaunchJob& j) {
  LOUPE_RETURN_IF_ERROR(sql::Exec(
      db,
      "UPDATE launch_jobs SET name=?, project=?, experiment_id=?, spec=?, state=?, stop_reason=?, exit_text=?, message=?, "
      "start_time=?, end_time=?, restarts=?, gpus=?, dir=?, segment=?, pid=?, pid_start=?, shim_pid=?, alerts=?, "
      "stop_requested=?, checkpoint_requests=?, resume_from=?, external_id=? WHERE id=?",
      j.name, j.project, j.experiment_id, j.spec_json, j.state, j.stop_reason, j.exit_text, j.message, j.start_time, j.end_time,
      int64_t{j.restarts}, j.gpus, j.dir, int64_t{j.segment}, j.pid, j.pid_start, j.shim_pid, int64_t{j.alerts},
      j.stop_requested, int64_t{j.checkpoint_requests}, j.resume_from, j.external_id, j.id));
  if (db.Changes() == 0) return Status::NotFound("job " + std::to_string(j.id) + " not found");
  return Status::Ok();
}

Status AddEventIn(SqliteDb& db, const LaunchEvent& e) {
  return sql::Exec(db, "INSERT INTO launch_events(job_id, time, kind, message) VALUES(?,?,?,?)", e.job_id, e.time,
                   e.kind, e.message);
}

}  // namespace

Result<int64_t> SqliteStore::CreateLaunchJob(const LaunchJob& j) {
  int64_t id = 0;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db,
        "INSERT INTO launch_jobs(name, project, experiment_id, spec, executor, state, created_by, create_time, dir) "
        "VALUES(?,?,?,?,?,?,?,?,?)",
        j.name, j.project, j.experiment_id, j.spec_json, j.executor, j.state, j.created_by, j.create_time, j.dir));
    id = db.LastInsertId();
    return AddEventIn(db, {id, j.create_time, "launched", "launched by " + (j.created_by.empty() ? "a user" : j.created_by)});
  }));
  return id;
}

Status SqliteStore::UpdateLaunchJob(const LaunchJob& j, const std::optional<LaunchEvent>& event) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(UpdateJobIn(db, j));
    if (event) return AddEventIn(db, *event);
    return Status::Ok();
  });
}

Result<LaunchJob> SqliteStore::GetLaunchJob(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kJobColumns + " FROM launch_jobs WHERE id=?", id);
  if (q.Next()) return JobFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("job " + std::to_string(id) + " not found");
}

Result<std::vector<LaunchJob>> SqliteStore::ListLaunchJobs(int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kJobColumns + " FROM launch_jobs ORDER BY id DESC LIMIT ?", limit);
  std::vector<LaunchJob> out;
  while (q.Next()) out.push_back(JobFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<LaunchJob>> SqliteStore::ActiveLaunchJobs() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kJobColumns +
                          " FROM launch_jobs WHERE state IN ('queued', 'pending', 'running', 'stopping') ORDER BY id");
  std::vector<LaunchJob> out;
  while (q.Next()) out.push_back(JobFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::optional<int64_t>> SqliteStore::LaunchJobOfExperiment(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return sql::QueryInt(r.db(), "SELECT max(id) FROM launch_jobs WHERE experiment_id=?", experiment_id);
}

Status SqliteStore::StartLaunchSegment(const LaunchSegment& s, const LaunchJob& j, const LaunchEvent& event) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db,
        "INSERT INTO launch_segments(job_id, seq, start_time, end_time, rate_per_hour, external_id) VALUES(?,?,?,0,?,?)",
        s.job_id, int64_t{s.seq}, s.start_time, s.rate_per_hour, s.external_id));
    LOUPE_RETURN_IF_ERROR(UpdateJobIn(db, j));
    return AddEventIn(db, event);
  });
}

Status SqliteStore::EndLaunchSegment(int64_t job_id, int seq, int64_t end_time, const std::string& end_text) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db, "UPDATE launch_segments SET end_time=?, end_text=? WHERE job_id=? AND seq=? AND end_time=0",
                     end_time, end_text, job_id, int64_t{seq});
  });
}

Status SqliteStore::SetLaunchSegmentTimes(int64_t job_id, int seq, int64_t start_time, int64_t end_time) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db, "UPDATE launch_segments SET start_time=?, end_time=? WHERE job_id=? AND seq=?", start_time,
                     end_time, job_id, int64_t{seq});
  });
}

Status SqliteStore::SetLaunchSegmentRate(int64_t job_id, int seq, double rate_per_hour) {
  return Write([&](SqliteDb& db) -> Status {
    return sql::Exec(db, "UPDATE launch_segments SET rate_per_hour=? WHERE job_id=? AND seq=?", rate_per_hour, job_id,
                     int64_t{seq});
  });
}

Result<std::vector<LaunchSegment>> SqliteStore::ListLaunchSegments(int64_t job_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT job_id, seq, start_time, end_time, rate_per_hour, end_text, external_id FROM launch_segments "
              "WHERE job_id=? ORDER BY seq",
              job_id);
  std::vector<LaunchSegment> out;
  while (q.Next()) {
    out.push_back({q.Int(0), static_cast<int>(q.Int(1)), q.Int(2), q.Int(3), q.Double(4), q.Text(5), q.Text(6)});
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<LaunchEvent>> SqliteStore::ListLaunchEvents(int64_t job_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT job_id, time, kind, message FROM launch_events WHERE job_id=? ORDER BY id", job_id);
  std::vector<LaunchEvent> out;
  while (q.Next()) out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::map<std::string, double>> SqliteStore::LaunchPrices() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT resource, usd_per_hour FROM launch_prices");
  std::map<std::string, double> out;
  while (q.Next()) out[q.Text(0)] = q.Double(1);
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::SetLaunchPrices(const std::map<std::string, double>& prices) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM launch_prices"));
    for (const auto& [resource, usd] : prices) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO launch_prices VALUES(?, ?)", resource, usd));
    }
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::ConsoleOffset(int64_t experiment_id, const std::string& client) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> top,
                         sql::QueryInt(r.db(),
                                       "SELECT max(seq) FROM applied_writes WHERE experiment_id=? AND client=? "
                                       "AND kind='console'",
                                       experiment_id, client));
  return top.value_or(0);
}

}  // namespace loupe
