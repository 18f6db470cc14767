// Versioned schema migrations for the SQLite store. Migrate() brings a database of
// any older version to the current one inside one transaction; a database newer than
// this binary is refused rather than guessed at.
#pragma once

#include "common/status.h"
#include "store/sqlite_db.h"

namespace loupe {

inline constexpr int kSchemaVersion = 5;

// Migrates to `target` (tests use an older target to build old databases).
Status Migrate(SqliteDb& db, int target = kSchemaVersion);

}  // namespace loupe
