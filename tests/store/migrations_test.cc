#include "store/migrations.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "store/store.h"

namespace loupe {
namespace {

TEST(Migrations, UpgradesAVersionOneDatabaseKeepingItsRows) {
  TempDir dir;
  {
    auto db = SqliteDb::Open(dir.path() + "/loupe.db", false, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, 1).ok());
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
}

}  // namespace
}  // namespace loupe
