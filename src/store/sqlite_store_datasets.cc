// SqliteStore: the datasets catalogue.
#include "common/time_util.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kDatasetColumns =
    "id, name, format, source, rows, columns, bytes, create_time, update_time";

DatasetRecord DatasetFromRow(const sql::Rows& q) {
  return {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Text(5), q.Int(6), q.Int(7), q.Int(8)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateDataset(const DatasetRecord& d) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> taken = sql::QueryInt(db, "SELECT 1 FROM datasets WHERE name=?", d.name);
    if (!taken.ok()) return taken.status();
    if (*taken) return Status::Conflict("a dataset named \"" + d.name + "\" already exists");
    LOUPE_RETURN_IF_ERROR(CheckQuota(db, "SELECT count(*) FROM datasets", options_.quotas.max_datasets, "datasets",
                                     "--max-datasets"));
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO datasets(name, format, source, rows, columns, bytes, create_time, "
                                    "update_time) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                                    d.name, d.format, d.source, d.rows, d.columns_json, d.bytes, now, now));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Status SqliteStore::UpdateDataset(const DatasetRecord& d) {
  return Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> taken =
        sql::QueryInt(db, "SELECT 1 FROM datasets WHERE name=? AND id<>?", d.name, d.id);
    if (!taken.ok()) return taken.status();
    if (*taken) return Status::Conflict("a dataset named \"" + d.name + "\" already exists");
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE datasets SET name=?, rows=?, columns=?, update_time=? WHERE id=?",
                                    d.name, d.rows, d.columns_json, NowMicros(), d.id));
    if (db.Changes() == 0) return Status::NotFound("dataset " + std::to_string(d.id) + " not found");
    return Status::Ok();
  });
}

Result<DatasetRecord> SqliteStore::GetDataset(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE id=?";
  sql::Rows q(r.db(), kSql, id);
  if (q.Next()) return DatasetFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("dataset " + std::to_string(id) + " not found");
}

Result<std::vector<DatasetRecord>> SqliteStore::ListDatasets() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kDatasetColumns + " FROM datasets ORDER BY id";
  sql::Rows q(r.db(), kSql);
  std::vector<DatasetRecord> out;
  while (q.Next()) out.push_back(DatasetFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DeleteDataset(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM datasets WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("dataset " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
