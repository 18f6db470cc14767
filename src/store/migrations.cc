#include "store/migrations.h"

#include <algorithm>
#include <map>

#include "store/sql.h"

namespace loupe {

namespace {

// The single user_version binaries used before per-domain versions went up to 5.
constexpr int64_t kLastLegacyVersion = 5;

// What the single user_version of 1 to 5 meant, domain by domain.
std::map<std::string, int> LegacyVersions(int v) {
  return {{"tracking", v >= 2 ? 2 : 1}, {"datasets", v >= 3 ? 1 : 0}, {"jobs", v >= 4 ? 1 : 0},
          {"runs", v >= 5 ? 1 : 0},     {"explorers", v >= 5 ? 1 : 0}};
}

Status MigrateInTransaction(SqliteDb& db, const std::vector<SchemaModule>& modules) {
  Result<std::optional<int64_t>> user_version = sql::QueryInt(db, "PRAGMA user_version");
  if (!user_version.ok()) return user_version.status();
  const int64_t uv = user_version->value_or(0);
  if (uv > kLastLegacyVersion && uv != kPerDomainSchema) {
    return Status::Corrupt("the database has schema format " + std::to_string(uv) +
                           ", newer than this Loupe understands; upgrade Loupe");
  }
  LOUPE_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_versions(module TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  std::map<std::string, int> versions;
  if (uv > 0 && uv <= kLastLegacyVersion) {
    versions = LegacyVersions(static_cast<int>(uv));
  } else {
    sql::Rows q(db, "SELECT module, version FROM schema_versions");
    while (q.Next()) versions[q.Text(0)] = static_cast<int>(q.Int(1));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  for (const SchemaModule& m : modules) {
    const int have = versions.count(m.name) ? versions[m.name] : 0;
    const int want = static_cast<int>(m.steps.size());
    if (have > want) {
      return Status::Corrupt("the database's " + m.name + " schema has version " + std::to_string(have) +
                             ", newer than this Loupe (" + std::to_string(want) + "); upgrade Loupe");
    }
    for (int v = have; v < want; ++v) {
      Status st = db.Exec(m.steps[static_cast<size_t>(v)]);
      if (!st.ok()) {
        return Status::Internal("migration of " + m.name + " to version " + std::to_string(v + 1) +
                                " failed: " + st.message());
      }
    }
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db, "INSERT INTO schema_versions(module, version) VALUES(?, ?) "
            "ON CONFLICT(module) DO UPDATE SET version=excluded.version",
        m.name, std::max(have, want)));
  }
  return db.Exec("PRAGMA user_version=" + std::to_string(kPerDomainSchema));
}

Status CheckForeignKeys(SqliteDb& db) {
  sql::Rows broken(db, "PRAGMA foreign_key_check");
  if (broken.Next()) return Status::Corrupt("migration left a row of " + broken.Text(0) + " without its parent");
  return broken.status();
}

Status MigrateWithoutForeignKeys(SqliteDb& db, const std::vector<SchemaModule>& modules) {
  LOUPE_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = MigrateInTransaction(db, modules);
  if (st.ok()) st = CheckForeignKeys(db);
  if (!st.ok()) {
    db.Exec("ROLLBACK").IgnoreError();  // the failure being returned is what matters
    return st;
  }
  return db.Exec("COMMIT");
}

}  // namespace

// Steps that rebuild a table (SQLite's way to change a column) must not cascade the
// DROP into its children, so foreign keys are off while they run; the check above
// proves nothing was orphaned before the commit.
Status Migrate(SqliteDb& db, const std::vector<SchemaModule>& modules) {
  LOUPE_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=OFF"));
  Status st = MigrateWithoutForeignKeys(db, modules);
  Status on = db.Exec("PRAGMA foreign_keys=ON");
  LOUPE_RETURN_IF_ERROR(st);
  return on;
}

}  // namespace loupe
