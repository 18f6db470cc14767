// SqliteStore: the persistent job queue.
#include "common/time_util.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kJobColumns =
    "id, type, kwargs, status, error, result, attempts, create_time, start_time, finish_time";

JobRecord JobFromRow(const sql::Rows& q) {
  return {q.Int(0), q.Text(1), q.Text(2), sql::StatusFromRow(q, 3), q.Text(4), q.Text(5), q.Int(6), q.Int(7), q.Int(8), q.Int(9)};
}

Result<JobRecord> LoadJob(SqliteDb& db, int64_t id) {
  static const std::string kSql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?";
  sql::Rows q(db, kSql, id);
  if (q.Next()) return JobFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("job " + std::to_string(id) + " not found");
}

}  // namespace

Result<int64_t> SqliteStore::InsertJob(SqliteDb& db, const std::string& type, const std::string& kwargs_json,
                                       int64_t max_queued) {
  LOUPE_RETURN_IF_ERROR(CheckQuota(db, "SELECT count(*) FROM jobs WHERE status='NOT_STARTED'", max_queued,
                                   "queued jobs", "--max-queued-jobs"));
  LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                  "INSERT INTO jobs(type, kwargs, status, create_time) VALUES(?, ?, 'NOT_STARTED', ?)",
                                  type, kwargs_json, NowMicros()));
  return db.LastInsertId();
}

Status SqliteStore::RequeueJob(SqliteDb& db, int64_t id, int64_t max_queued) {
  LOUPE_ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
  if (job.status != WorkStatus::kError && job.status != WorkStatus::kCancelled) {
    return Status::Conflict("job " + std::to_string(id) + " is " + WorkStatusName(job.status) +
                            "; only failed or cancelled jobs can be retried");
  }
  LOUPE_RETURN_IF_ERROR(CheckQuota(db, "SELECT count(*) FROM jobs WHERE status='NOT_STARTED'", max_queued,
                                   "queued jobs", "--max-queued-jobs"));
  return sql::Exec(
      db, "UPDATE jobs SET status='NOT_STARTED', error='', result='null', start_time=0, finish_time=0 WHERE id=?", id);
}

Result<int64_t> SqliteStore::EnqueueJob(const std::string& type, const std::string& kwargs_json) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(id, InsertJob(db, type, kwargs_json, options_.quotas.max_queued_jobs));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<std::optional<JobRecord>> SqliteStore::ClaimJob() {
  std::optional<JobRecord> claimed;
  Status st = Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> id =
        sql::QueryInt(db, "SELECT id FROM jobs WHERE status='NOT_STARTED' ORDER BY id LIMIT 1");
    if (!id.ok()) return id.status();
    if (!*id) return Status::Ok();
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db, "UPDATE jobs SET status='STARTED', attempts=attempts+1, start_time=?, finish_time=0, error='' WHERE id=?",
        NowMicros(), **id));
    LOUPE_ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, **id));
    claimed = job;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return claimed;
}

Status SqliteStore::FinishJob(int64_t id, WorkStatus status, const std::string& error,
                              const std::string& result_json) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE jobs SET status=?, error=?, result=?, finish_time=? WHERE id=?",
                                    WorkStatusName(status), error, result_json, NowMicros(), id));
    if (db.Changes() == 0) return Status::NotFound("job " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Result<JobRecord> SqliteStore::GetJob(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return LoadJob(r.db(), id);
}

Result<std::vector<JobRecord>> SqliteStore::ListJobs(int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY id DESC LIMIT ?";
  sql::Rows q(r.db(), kSql, limit);
  std::vector<JobRecord> out;
  while (q.Next()) out.push_back(JobFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::CancelJob(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
    if (job.status != WorkStatus::kNotStarted) {
      return Status::Conflict("job " + std::to_string(id) + " is " + WorkStatusName(job.status) +
                              "; only queued jobs can be cancelled");
    }
    return sql::Exec(db, "UPDATE jobs SET status='CANCELLED', finish_time=? WHERE id=?", NowMicros(), id);
  });
}

Status SqliteStore::RetryJob(int64_t id) {
  return Write([&](SqliteDb& db) -> Status { return RequeueJob(db, id, options_.quotas.max_queued_jobs); });
}

Result<int> SqliteStore::FailInterruptedJobs(const std::string& reason) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "UPDATE jobs SET status='ERROR', error=?, finish_time=? WHERE status='STARTED'", reason, NowMicros()));
    n = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace loupe
