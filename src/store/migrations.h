// Schema migrations, one numbered list per domain (schema.cc). Migrate() brings every
// domain to its newest version inside one transaction and records each domain's
// version in schema_versions; a database whose domain is newer than this binary is
// refused rather than guessed at. A database from before domains had versions (a
// single PRAGMA user_version of 1 to 5) is mapped onto the domains first.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace loupe {

struct SchemaModule {
  std::string name;                // "tracking", "datasets", ...
  std::vector<std::string> steps;  // steps[i] takes the domain from version i to i + 1
};

const SchemaModule& TrackingSchema();
const SchemaModule& DatasetSchema();
const SchemaModule& JobSchema();
const SchemaModule& RunSchema();
const SchemaModule& ExplorerSchema();
const SchemaModule& AuthSchema();
const SchemaModule& SecretSchema();
const SchemaModule& ArtifactSchema();
// Every domain, in the order their steps apply.
const std::vector<SchemaModule>& StoreSchema();

// PRAGMA user_version of a database whose versions live in schema_versions; binaries
// from before per-domain versions (which knew 1 to 5) refuse it as "newer".
inline constexpr int kPerDomainSchema = 100;

// Migrates to the modules given (tests pass shortened lists to build old databases).
[[nodiscard]] Status Migrate(SqliteDb& db, const std::vector<SchemaModule>& modules = StoreSchema());

}  // namespace loupe
