// SqliteStore: dataset explorations.
#include "common/time_util.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kExplorerColumns =
    "id, dataset_id, name, type, columns, parameters, status, error, result, job_id, create_time, end_time";

ExplorerRecord ExplorerFromRow(const sql::Rows& q) {
  return {q.Int(0),  q.Int(1),  q.Text(2), q.Text(3), q.Text(4), q.Text(5), sql::StatusFromRow(q, 6), q.Text(7), q.Text(8),
          q.Int(9), q.Int(10), q.Int(11)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateExplorer(const ExplorerRecord& e) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO explorers(dataset_id, name, type, columns, parameters, status, "
                                    "create_time) VALUES(?, ?, ?, ?, ?, ?, ?)",
                                    e.dataset_id, e.name, e.type, e.columns_json, e.parameters_json, WorkStatusName(e.status),
                                    NowMicros()));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<ExplorerRecord> SqliteStore::GetExplorer(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kExplorerColumns + " FROM explorers WHERE id=?";
  sql::Rows q(r.db(), kSql, id);
  if (q.Next()) return ExplorerFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("explorer " + std::to_string(id) + " not found");
}

Result<std::vector<ExplorerRecord>> SqliteStore::ListExplorers(int64_t dataset_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kAll = std::string("SELECT ") + kExplorerColumns + " FROM explorers ORDER BY id";
  static const std::string kOne =
      std::string("SELECT ") + kExplorerColumns + " FROM explorers WHERE dataset_id=? ORDER BY id";
  std::optional<sql::Rows> q;
  if (dataset_id) {
    q.emplace(r.db(), kOne, dataset_id);
  } else {
    q.emplace(r.db(), kAll);
  }
  std::vector<ExplorerRecord> out;
  while (q->Next()) out.push_back(ExplorerFromRow(*q));
  LOUPE_RETURN_IF_ERROR(q->status());
  return out;
}

Status SqliteStore::UpdateExplorer(const ExplorerRecord& e) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE explorers SET status=?, error=?, result=?, end_time=? WHERE id=?",
                                    WorkStatusName(e.status), e.error, e.result_json, e.end_time, e.id));
    if (db.Changes() == 0) return Status::NotFound("explorer " + std::to_string(e.id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetExplorerJob(int64_t id, int64_t job_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE explorers SET job_id=?, status=CASE WHEN status='NOT_STARTED' THEN "
                                    "'DELIVERED' ELSE status END WHERE id=?",
                                    job_id, id));
    if (db.Changes() == 0) return Status::NotFound("explorer " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Result<int> SqliteStore::FailInterruptedExplorers(const std::string& reason) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE explorers SET status='ERROR', error=?, end_time=? WHERE status='STARTED'",
                                    reason, NowMicros()));
    n = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace loupe
