// SqliteStore: the datasets catalogue.
#include "common/time_util.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kDatasetColumns =
    "id, name, format, source, rows, columns, bytes, create_time, update_time";

DatasetRecord DatasetFromRow(const SqliteStmt& q) {
  return {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Text(5), q.Int(6), q.Int(7), q.Int(8)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateDataset(const DatasetRecord& d) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    SqliteStmt& clash = db.Prepare("SELECT 1 FROM datasets WHERE name=?");
    clash.Bind(1, d.name);
    bool taken = clash.Step();
    LOUPE_RETURN_IF_ERROR(clash.Done());
    if (taken) return Status::Conflict("a dataset named \"" + d.name + "\" already exists");
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(
        db.Prepare("INSERT INTO datasets(name, format, source, rows, columns, bytes, create_time, update_time) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
            .Bind(1, d.name).Bind(2, d.format).Bind(3, d.source).Bind(4, d.rows).Bind(5, d.columns_json)
            .Bind(6, d.bytes).Bind(7, now).Bind(8, now).Run());
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Status SqliteStore::UpdateDataset(const DatasetRecord& d) {
  return Write([&](SqliteDb& db) -> Status {
    SqliteStmt& clash = db.Prepare("SELECT 1 FROM datasets WHERE name=? AND id<>?");
    clash.Bind(1, d.name).Bind(2, d.id);
    bool taken = clash.Step();
    LOUPE_RETURN_IF_ERROR(clash.Done());
    if (taken) return Status::Conflict("a dataset named \"" + d.name + "\" already exists");
    LOUPE_RETURN_IF_ERROR(db.Prepare("UPDATE datasets SET name=?, rows=?, columns=?, update_time=? WHERE id=?")
                              .Bind(1, d.name).Bind(2, d.rows).Bind(3, d.columns_json).Bind(4, NowMicros())
                              .Bind(5, d.id).Run());
    if (db.Changes() == 0) return Status::NotFound("dataset " + std::to_string(d.id) + " not found");
    return Status::Ok();
  });
}

Result<DatasetRecord> SqliteStore::GetDataset(int64_t id) {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kDatasetColumns + " FROM datasets WHERE id=?";
  SqliteStmt& q = r->db().Prepare(kSql);
  q.Bind(1, id);
  std::optional<DatasetRecord> d;
  if (q.Step()) d = DatasetFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.Done());
  if (!d) return Status::NotFound("dataset " + std::to_string(id) + " not found");
  return *d;
}

Result<std::vector<DatasetRecord>> SqliteStore::ListDatasets() {
  Result<Reader> r = Borrow();
  if (!r.ok()) return r.status();
  static const std::string kSql = std::string("SELECT ") + kDatasetColumns + " FROM datasets ORDER BY id";
  SqliteStmt& q = r->db().Prepare(kSql);
  std::vector<DatasetRecord> out;
  while (q.Step()) out.push_back(DatasetFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.Done());
  return out;
}

Status SqliteStore::DeleteDataset(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(db.Prepare("DELETE FROM datasets WHERE id=?").Bind(1, id).Run());
    if (db.Changes() == 0) return Status::NotFound("dataset " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
