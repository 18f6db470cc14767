// SqliteStore: dataset explorations.
#include "common/time_util.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kExplorerColumns =
    "id, dataset_id, name, type, columns, parameters, status, error, result, job_id, create_time, end_time";

ExplorerRecord ExplorerFromRow(const SqliteStmt& q) {
  return {q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6), q.Text(7), q.Text(8),
          q.Int(9), q.Int(10), q.Int(11)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateExplorer(const ExplorerRecord& e) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("INSERT INTO explorers(dataset_id, name, type, columns, parameters, status, create_time) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?)")
            .Bind(1, e.dataset_id).Bind(2, e.name).Bind(3, e.type).Bind(4, e.columns_json).Bind(5, e.parameters_json)
            .Bind(6, e.status).Bind(7, NowMicros()).Run());
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<ExplorerRecord> SqliteStore::GetExplorer(int64_t id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kExplorerColumns + " FROM explorers WHERE id=?";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, id);
  std::optional<ExplorerRecord> e;
  if (q.Step()) e = ExplorerFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!e) return Status::NotFound("explorer " + std::to_string(id) + " not found");
  return *e;
}

Result<std::vector<ExplorerRecord>> SqliteStore::ListExplorers(int64_t dataset_id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kAll = std::string("SELECT ") + kExplorerColumns + " FROM explorers ORDER BY id";
  static const std::string kOne =
      std::string("SELECT ") + kExplorerColumns + " FROM explorers WHERE dataset_id=? ORDER BY id";
  SqliteStmt& q = r->db().Prepare(dataset_id ? kOne : kAll);
  if (dataset_id) q.Bind(1, dataset_id);
  std::vector<ExplorerRecord> out;
  while (q.Step()) out.push_back(ExplorerFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Status SqliteStore::UpdateExplorer(const ExplorerRecord& e) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("UPDATE explorers SET status=?, error=?, result=?, end_time=? WHERE id=?")
            .Bind(1, e.status).Bind(2, e.error).Bind(3, e.result_json).Bind(4, e.end_time).Bind(5, e.id).Run());
    if (db.Changes() == 0) return Status::NotFound("explorer " + std::to_string(e.id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetExplorerJob(int64_t id, int64_t job_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("UPDATE explorers SET job_id=?, status=CASE WHEN status='NOT_STARTED' THEN 'DELIVERED' ELSE status END "
                   "WHERE id=?")
            .Bind(1, job_id).Bind(2, id).Run());
    if (db.Changes() == 0) return Status::NotFound("explorer " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
