// SqliteStore: the persistent job queue.
#include "common/time_util.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kJobColumns =
    "id, type, kwargs, status, error, result, attempts, create_time, start_time, finish_time";

JobRecord JobFromRow(const SqliteStmt& q) {
  return {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Int(6), q.Int(7), q.Int(8), q.Int(9)};
}

Result<JobRecord> LoadJob(SqliteDb& db, int64_t id) {
  static const std::string kSql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?";
  SqliteStmt& q = db.Prepare(kSql);
  q.Bind(1, id);
  std::optional<JobRecord> j;
  if (q.Step()) j = JobFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!j) return Status::NotFound("job " + std::to_string(id) + " not found");
  return *j;
}

}  // namespace

Result<int64_t> SqliteStore::EnqueueJob(const std::string& type, const std::string& kwargs_json) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("INSERT INTO jobs(type, kwargs, status, create_time) VALUES(?, ?, 'NOT_STARTED', ?)")
                              .Bind(1, type).Bind(2, kwargs_json).Bind(3, NowMicros()).Run());
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<std::optional<JobRecord>> SqliteStore::ClaimJob() {
  std::optional<JobRecord> claimed;
  Status st = Write([&](SqliteDb& db) -> Status {
    SqliteStmt& next = db.Prepare("SELECT id FROM jobs WHERE status='NOT_STARTED' ORDER BY id LIMIT 1");
    std::optional<int64_t> id;
    if (next.Step()) id = next.Int(0);
    LOUPE_RETURN_IF_ERROR(next.Done());
    if (!id) return Status::Ok();
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("UPDATE jobs SET status='STARTED', attempts=attempts+1, start_time=?, finish_time=0, error='' "
                   "WHERE id=?")
            .Bind(1, NowMicros()).Bind(2, *id).Run());
    Result<JobRecord> job = LoadJob(db, *id);
    if (!job.ok()) return job.status();
    claimed = *job;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return claimed;
}

Status SqliteStore::FinishJob(int64_t id, const std::string& status, const std::string& error,
                              const std::string& result_json) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE jobs SET status=?, error=?, result=?, finish_time=? WHERE id=?")
                              .Bind(1, status).Bind(2, error).Bind(3, result_json).Bind(4, NowMicros()).Bind(5, id).Run());
    if (db.Changes() == 0) return Status::NotFound("job " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Result<JobRecord> SqliteStore::GetJob(int64_t id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  return LoadJob(r->db(), id);
}

Result<std::vector<JobRecord>> SqliteStore::ListJobs(int limit) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY id DESC LIMIT ?";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, limit);
  std::vector<JobRecord> out;
  while (q.Step()) out.push_back(JobFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Status SqliteStore::CancelJob(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    Result<JobRecord> job = LoadJob(db, id);
    if (!job.ok()) return job.status();
    if (job->status != "NOT_STARTED") {
      return Status::Conflict("job " + std::to_string(id) + " is " + job->status + "; only queued jobs can be cancelled");
    }
    return db.Prepare("UPDATE jobs SET status='CANCELLED', finish_time=? WHERE id=?").Bind(1, NowMicros()).Bind(2, id).Run();
  });
}

Status SqliteStore::RetryJob(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    Result<JobRecord> job = LoadJob(db, id);
    if (!job.ok()) return job.status();
    if (job->status != "ERROR" && job->status != "CANCELLED") {
      return Status::Conflict("job " + std::to_string(id) + " is " + job->status + "; only failed or cancelled jobs can be retried");
    }
    return db.Prepare("UPDATE jobs SET status='NOT_STARTED', error='', result='null', start_time=0, finish_time=0 WHERE id=?")
        .Bind(1, id).Run();
  });
}

Result<int> SqliteStore::FailInterruptedJobs(const std::string& reason) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE jobs SET status='ERROR', error=?, finish_time=? WHERE status='STARTED'")
                              .Bind(1, reason).Bind(2, NowMicros()).Run());
    n = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace loupe
