#include "store/migrations.h"

#include <gtest/gtest.h>

#include <set>

#include "common/temp_dir.h"
#include "common/time_util.h"
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

std::map<std::string, int64_t> Newest() {
  std::map<std::string, int64_t> out;
  for (const SchemaModule& m : StoreSchema()) out[m.name] = static_cast<int64_t>(m.steps.size());
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
  EXPECT_EQ(Versions(path), Newest());
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
  EXPECT_EQ(Versions(path), Newest());
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
  EXPECT_EQ(Versions(path), Newest());
}

// v9 adds the mark the importer sets and guesses nothing from run ids: a user's run named
// like an imported one is ended by the heartbeat monitor as any silent run is (the
// importer marks its own runs again on its first pass).
TEST(Migrations, V9MarksNoRunFromItsId) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  MakeLegacyDatabase(path, 5);
  {
    auto db = SqliteDb::Open(path, false, false);
    ASSERT_TRUE((*db)->Exec("INSERT INTO projects VALUES(1, 'my-project', '', 1, 1);"
                            "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, "
                            "update_time, last_seen) VALUES(1, 1, 'claas-eval-my-own-sweep', 'a', 'running', 1, 1, 1), "
                            "(2, 1, 'sdk-run', 'b', 'running', 1, 1, 1);").ok());
  }
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->CrashStaleRuns(NowMicros()), 2);
  EXPECT_EQ((*store)->GetExperiment(1)->status, RunStatus::kCrashed);
}

// The tables are rebuilt to never reuse ids: every row and every child row survives
// (the DROP of a parent must not cascade), a retry the old seq table knew is still a
// duplicate, and the next id after a deleted last one is new.
TEST(Migrations, IdsNeverReusedAfterUpgradeAndNothingCascades) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  MakeLegacyDatabase(path, 5);
  {
    auto db = SqliteDb::Open(path, false, false);
    ASSERT_TRUE((*db)->Exec("INSERT INTO projects VALUES(1, 'p', '', 1, 1);"
                            "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, "
                            "update_time, last_seen) VALUES(1, 1, 'a', 'a', 'finished', 1, 1, 1), "
                            "(2, 1, 'b', 'b', 'finished', 1, 1, 1);"
                            "INSERT INTO namespaces VALUES(1, 2, 'default', 1, 0, 1, 1);"
                            "INSERT INTO charts VALUES(1, 2, 1, 'loss', 'line', 0, 0, 1, 1);"
                            "INSERT INTO series(id, experiment_id, key, type, chart_id, create_time, version) "
                            "VALUES(1, 2, 'loss', 'line', 1, 1, 4);"
                            "INSERT INTO media VALUES(1, 2, 'img', 0, 'x.png', 'image/png', 1);"
                            "INSERT INTO applied_batches VALUES(2, 77);"
                            "INSERT INTO datasets VALUES(5, 'd', 'csv', 'x', 1, '[]', 1, 1, 1);").ok());
  }
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->GetSeries(2, "loss")->version, 4);
  EXPECT_EQ((*store)->ListCharts(2)->size(), 1u);
  EXPECT_EQ((*store)->ListMedia(2, "img", 10)->size(), 1u);
  MetricBatch retry;
  retry.experiment_id = 2;
  retry.from.seq = 77;
  retry.points = {{"loss", 1, 0.5, 1}};
  EXPECT_TRUE((*store)->WriteMetrics(retry)->duplicate);
  ConsoleBatch console_retry;
  console_retry.experiment_id = 2;
  console_retry.from.seq = 77;  // old clients shared one space for both kinds
  EXPECT_TRUE((*store)->AppendConsole(console_retry)->duplicate);

  ASSERT_TRUE((*store)->DeleteExperiment(2).ok());
  NewExperiment e;
  e.project = "p";
  e.run_id = "c";
  auto created = (*store)->CreateOrResumeExperiment(e);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->experiment.id, 3);
  EXPECT_EQ((*store)->SetStatus(2, RunStatus::kFinished).status().code(), Code::kGone);
  EXPECT_EQ((*store)->SetStatus(99, RunStatus::kFinished).status().code(), Code::kNotFound);
  ASSERT_TRUE((*store)->DeleteDataset(5).ok());
  (*store)->Close();
  auto db = SqliteDb::Open(path, false, false);
  ASSERT_TRUE((*db)->Exec("INSERT INTO datasets(name, format, source, rows, columns, bytes, create_time, "
                          "update_time) VALUES('e', 'csv', 'x', 1, '[]', 1, 1, 1)").ok());
  EXPECT_EQ((*db)->LastInsertId(), 6);
}

// Tracking v5 (SwanLab's board, issue 10): the project gets its own chart and group per
// key (new ids, after every id ever given out), pins keep their place, experiments get
// their place in the project, and duplicate names become unique without touching the
// oldest.
TEST(Migrations, V5GivesProjectsTheirOwnChartsAndMakesNamesUnique) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  {
    auto db = SqliteDb::Open(path, false, false);
    SchemaModule v4 = TrackingSchema();
    v4.steps.resize(4);
    ASSERT_TRUE(Migrate(**db, {v4}).ok());
    ASSERT_TRUE((*db)->Exec(
        "INSERT INTO projects VALUES(1, 'p', '', 1, 1);"
        "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, update_time, last_seen) "
        "VALUES(1, 1, 'a', 'dup', 'finished', 1, 1, 1), (2, 1, 'b', 'dup', 'finished', 1, 1, 1), "
        "(3, 1, 'c', 'dup-2', 'finished', 1, 1, 1);"
        "INSERT INTO projects VALUES(2, 'q', '', 1, 1);"
        "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, update_time, last_seen) "
        "VALUES(4, 2, 'a1', 'a', 'finished', 1, 1, 1), (5, 2, 'a2', 'a-9', 'finished', 1, 1, 1), "
        "(6, 2, 'a3', 'a-9-9', 'finished', 1, 1, 1), (7, 2, 'a4', 'a-9-9-9', 'finished', 1, 1, 1), "
        "(8, 2, 'a5', 'filler', 'finished', 1, 1, 1), (9, 2, 'a6', 'a', 'finished', 1, 1, 1);"
        "INSERT INTO namespaces VALUES(10, 1, 'train', 0, 0, 1, 1), (11, 2, 'train', 1, 0, 1, 1);"
        "INSERT INTO charts VALUES(20, 1, 10, 'train/loss', 'line', 1, 3, 1, 1), "
        "(21, 2, 11, 'train/loss', 'line', 0, 0, 1, 1);"
        "UPDATE sqlite_sequence SET seq=50 WHERE name='charts';"
        "UPDATE sqlite_sequence SET seq=60 WHERE name='namespaces';").ok());
  }
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto exps = (*store)->ListExperiments(1);
  ASSERT_TRUE(exps.ok());
  ASSERT_EQ(exps->size(), 3u);
  EXPECT_EQ((*exps)[0].name, "dup");
  EXPECT_EQ((*exps)[1].name, "dup-2");
  EXPECT_EQ((*exps)[2].name.substr(0, 6), "dup-2-");  // dup-2 was taken by then
  // Suffixes that collide again and again (each renamed name is an older run's) still
  // end unique: the migration must never stop the server from starting.
  auto chain = (*store)->ListExperiments(2);
  ASSERT_TRUE(chain.ok());
  std::set<std::string> names;
  for (const Experiment& x : *chain) names.insert(x.name);
  EXPECT_EQ(names.size(), 6u);
  EXPECT_EQ((*chain)[0].name, "a");
  EXPECT_EQ((*exps)[2].sort, 3);
  EXPECT_EQ((*store)->GetProject(1)->sum, 3);
  auto mine = (*store)->ListCharts(1);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].id, 20);
  EXPECT_EQ((*mine)[0].pin_sort, 3);
  EXPECT_EQ((*store)->ListCharts(2)->at(0).pin_sort, std::nullopt);
  auto project_charts = (*store)->ListProjectCharts(1);
  ASSERT_EQ(project_charts->size(), 1u);
  EXPECT_EQ((*project_charts)[0].name, "train/loss");
  EXPECT_EQ((*project_charts)[0].experiment_id, 0);
  EXPECT_GT((*project_charts)[0].id, 50);
  auto project_spaces = (*store)->ListProjectNamespaces(1);
  ASSERT_EQ(project_spaces->size(), 1u);
  EXPECT_GT((*project_spaces)[0].id, 60);
  EXPECT_EQ((*project_charts)[0].namespace_id, (*project_spaces)[0].id);
  // The next experiment is the project's fourth, and a taken name gets a free one.
  NewExperiment e;
  e.project = "p";
  e.name = "dup";
  auto created = (*store)->CreateOrResumeExperiment(e);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->experiment.name, "dup-3");
  EXPECT_EQ(created->experiment.sort, 4);
  EXPECT_EQ((*store)->PatchExperiment(1, {std::string("dup-2"), std::nullopt, std::nullopt}).code(),
            Code::kConflict);
  (*store)->Close();
  EXPECT_EQ(Versions(path), Newest());
}

// Tracking v6: tags, and runs the heartbeat monitor ended end at their last sign of life.
TEST(Migrations, V6AddsTagsAndEndsSilentRunsAtTheirLastSignOfLife) {
  TempDir dir;
  const std::string path = dir.path() + "/loupe.db";
  {
    auto db = SqliteDb::Open(path, false, false);
    SchemaModule v5 = TrackingSchema();
    v5.steps.resize(5);
    ASSERT_TRUE(Migrate(**db, {v5}).ok());
    ASSERT_TRUE((*db)->Exec(
        "INSERT INTO projects(id, name, description, create_time, update_time) VALUES(1, 'p', '', 1, 1);"
        "INSERT INTO experiments(id, project_id, run_id, name, status, create_time, update_time, last_seen, "
        "finish_time, error) VALUES"
        "(1, 1, 'a', 'killed', 'crashed', 1000, 9000, 5000, 128000000, ''),"       // the monitor ended it
        "(2, 1, 'b', 'raised', 'crashed', 1000, 9000, 9000, 8000, 'Traceback'),"   // the client reported it
        "(3, 1, 'c', 'done', 'finished', 1000, 9000, 9000, 7000, '')").ok());
  }
  StoreOptions o;
  o.data_dir = dir.path();
  auto store = OpenSqliteStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->GetExperiment(1)->finish_time, 5000);
  EXPECT_EQ((*store)->GetExperiment(2)->finish_time, 8000);
  EXPECT_EQ((*store)->GetExperiment(3)->finish_time, 7000);
  EXPECT_TRUE((*store)->GetExperiment(1)->tags.empty());
  ExperimentPatch patch;
  patch.tags = std::vector<std::string>{"best", "resnet"};
  ASSERT_TRUE((*store)->PatchExperiment(1, patch).ok());
  EXPECT_EQ((*store)->GetExperiment(1)->tags, (std::vector<std::string>{"best", "resnet"}));
  (*store)->Close();
  EXPECT_EQ(Versions(path), Newest());
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
