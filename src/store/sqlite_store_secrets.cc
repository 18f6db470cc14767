// SqliteStore: sealed secrets.
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

Status SqliteStore::PutSecret(const SealedSecret& s, int64_t max_count) {
  return Write([&](SqliteDb& db) -> Status {
    sql::Rows exists(db, "SELECT 1 FROM secrets WHERE name=?", s.name);
    bool replace = exists.Next();
    LOUPE_RETURN_IF_ERROR(exists.status());
    if (replace) {
      return sql::Exec(db, "UPDATE secrets SET sealed=?, hint=?, update_time=?, updated_by=? WHERE name=?", s.sealed,
                       s.hint, s.update_time, s.updated_by, s.name);
    }
    sql::Rows count(db, "SELECT count(*) FROM secrets");
    if (count.Next() && count.Int(0) >= max_count) {
      return Status::TooLarge("the secret store holds its maximum of " + std::to_string(max_count) +
                             " secrets; delete one first");
    }
    LOUPE_RETURN_IF_ERROR(count.status());
    return sql::Exec(db, "INSERT INTO secrets(name, sealed, hint, update_time, updated_by) VALUES(?, ?, ?, ?, ?)",
                     s.name, s.sealed, s.hint, s.update_time, s.updated_by);
  });
}

Result<SealedSecret> SqliteStore::GetSecret(const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT name, sealed, hint, update_time, updated_by FROM secrets WHERE name=?", name);
  if (q.Next()) return SealedSecret{q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Text(4)};
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("no secret named '" + name + "'");
}

Result<std::vector<SealedSecret>> SqliteStore::ListSecrets() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT name, hint, update_time, updated_by FROM secrets ORDER BY name");
  std::vector<SealedSecret> out;
  while (q.Next()) out.push_back({q.Text(0), "", q.Text(1), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DeleteSecret(const std::string& name) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM secrets WHERE name=?", name));
    if (db.Changes() == 0) return Status::NotFound("no secret named '" + name + "'");
    return Status::Ok();
  });
}

}  // namespace loupe
