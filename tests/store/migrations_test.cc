#include "store/migrations.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "store/sql.h"
#include "store/store.h"

namespace loupe {
namespace {

// Builds a database as a binary from before per-domain versions left it: the first
// `version` legacy steps and PRAGMA user_version = version.
void MakeLegacyDatabase(const std::string& path, int version) {
  auto db = SqliteDb::Open(path, false, false);
  ASSERT_TRUE(db.ok());
  // The legacy steps were, in order: tracking v1, tracking v2, datasets, jobs, runs + explorers.
  std::vector<std::string> steps = {TrackingSchema().steps[0], TrackingSchema().steps[1], DatasetSchema().steps[0],
                                    JobSchema().steps[0], RunSchema().steps[0] + ExplorerSchema().steps[0]};
  for (int v = 0; v < version; ++v) ASSERT_TRUE((*db)->Exec(steps[static_cast<size_t>(v)]).ok());
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version=" + std::to_string(version)).ok());
}

std::map<std::string, int64_t> Versions(const std::string& path) {
  auto db = SqliteDb::Open(path, true, false);
  std::map<std::string, int64_t> out;
  sql::Rows q(**db, "SELECT module, version FROM schema_versions");
  while (q.Next()) out[q.Text(0)] = q.Int(1);
  EXPECT_TRUE(q.status().ok());
  return out;
}

TEST(Migrations, UpgradesALegacyVersionOneDatabaseKeepingItsRows) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  MakeLegacyDatabase(path, 1);
  {
    auto db = SqliteDb::Open(path, false, false);
    ASSERT_TRUE((*db)->Exec("INSERT INTO projects VALUES(1, 'old', '', 1, 1);"
                            "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, "
                            "update_time, last_seen) VALUES(1, 1, 'r', 'r', 'finished', 1, 1, 1);"
                            "INSERT INTO series(id, experiment_id, key, type, chart_id, create_time) "
                            "VALUES(1, 1, 'loss', 'line', 1, 1);").ok());
  }
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto s = (*store)->GetSeries(1, "loss");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, 0);
  EXPECT_EQ((*store)->GetExperiment(1)->name, "r");
  (*store)->Close();
  EXPECT_EQ(Versions(path), (std::map<std::string, int64_t>{
                                {"tracking", 2}, {"datasets", 1}, {"jobs", 1}, {"runs", 1}, {"explorers", 1}}));
}

// A database at the last legacy version has every table already: nothing is re-run
// (a re-run CREATE TABLE would fail), and each domain gets its version.
TEST(Migrations, MapsTheLastLegacyVersionOntoDomainsWithoutRerunningSteps) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  MakeLegacyDatabase(path, 5);
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  (*store)->Close();
  EXPECT_EQ(Versions(path)["explorers"], 1);
  auto db = SqliteDb::Open(path, true, false);
  EXPECT_EQ(*sql::QueryInt(**db, "PRAGMA user_version"), kPerDomainSchema);
}

TEST(Migrations, AddsANewDomainToAnExistingDatabase) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  {
    auto db = SqliteDb::Open(path, false, false);
    ASSERT_TRUE(Migrate(**db, {TrackingSchema()}).ok());
    EXPECT_EQ(Versions(path).count("jobs"), 0u);
    ASSERT_TRUE(Migrate(**db).ok());
  }
  EXPECT_EQ(Versions(path)["jobs"], 1);
  EXPECT_EQ(Versions(path)["tracking"], 2);
}

TEST(Migrations, RefusesADomainNewerThanThisBinary) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  auto db = SqliteDb::Open(path, false, false);
  ASSERT_TRUE(Migrate(**db).ok());
  ASSERT_TRUE((*db)->Exec("UPDATE schema_versions SET version=99 WHERE module='jobs'").ok());
  Status st = Migrate(**db);
  EXPECT_EQ(st.code(), Code::kCorrupt);
  EXPECT_NE(st.message().find("jobs schema has version 99"), std::string::npos) << st.message();
  EXPECT_FALSE((*db)->InTransaction());
}

}  // namespace
}  // namespace loupe
