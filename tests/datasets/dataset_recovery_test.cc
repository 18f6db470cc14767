// The dataset catalogue and the data folder agree after a crash: the states a kill -9
// during an upload, a retype or a delete leaves are prepared on disk and in the store,
// then the datasets module starts as the server would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/datasets_module.h"
#include "common/temp_dir.h"
#include "datasets/column_file.h"
#include "store/store.h"

namespace loupe::datasets {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DatasetRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    app::ServerConfig config;
    config.data_dir = dir_.path();
    module_ = std::make_unique<app::DatasetsModule>(*store_, config);
  }

  // Kill -9, then the server starts again on the same data dir.
  void Restart() {
    module_.reset();
    store_->Close();
    store_.reset();
    Open();
    ASSERT_TRUE(module_->Start().ok());
  }

  DatasetService& datasets() { return module_->service(); }

  int64_t Upload(const std::string& name) {
    Result<DatasetRecord> d = datasets().Create(name, name + ".csv", "", "a,b\n1,x\n2,y\n3,x\n4,y\n");
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? d->id : 0;
  }

  std::string Folder(int64_t id) const { return dir_.path() + "/datasets/" + std::to_string(id); }

  // The catalogue's column types and the column file's, each as [[name, type, overridden]].
  json CatalogueTypes(int64_t id) {
    json out = json::array();
    for (const json& c : json::parse(store_->GetDataset(id)->columns_json)) {
      out.push_back({c["name"], c["type"], c["overridden"]});
    }
    return out;
  }
  json FileTypes(int64_t id) {
    json out = json::array();
    Result<Table> t = ReadColumnFile(Folder(id) + "/columns.bin");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!t.ok()) return out;
    for (const Column& c : t->columns) out.push_back({c.name, ColumnTypeName(c.type), c.type_overridden});
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<app::DatasetsModule> module_;
};

// Issue 19.15: killed while an upload wrote its files, a catalogue row without data
// stayed and failed every load.
TEST_F(DatasetRecoveryTest, StartRemovesCatalogueRowsWithoutData) {
  const int64_t kept = Upload("kept");
  const int64_t no_folder = Upload("no_folder");
  const int64_t no_columns = Upload("no_columns");
  fs::remove_all(Folder(no_folder));
  fs::remove(Folder(no_columns) + "/columns.bin");
  Restart();
  EXPECT_EQ(store_->GetDataset(no_folder).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetDataset(no_columns).status().code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(Folder(no_columns)));
  EXPECT_TRUE(datasets().Load(kept).ok());
  // The name of a removed row is free again.
  EXPECT_GT(Upload("no_folder"), 0);
}

TEST_F(DatasetRecoveryTest, StartRemovesDataNoCatalogueRowRefersTo) {
  const int64_t kept = Upload("kept");
  const int64_t deleted = Upload("deleted");
  // A delete that removed the row and was killed before the folder went.
  ASSERT_TRUE(store_->DeleteDataset(deleted).ok());
  fs::create_directories(dir_.path() + "/datasets/.upload-1234");
  std::ofstream(dir_.path() + "/datasets/.upload-1234/columns.bin") << "half";
  std::ofstream(Folder(kept) + "/columns.bin.tmp") << "half";
  Restart();
  EXPECT_FALSE(fs::exists(Folder(deleted)));
  EXPECT_FALSE(fs::exists(dir_.path() + "/datasets/.upload-1234"));
  EXPECT_FALSE(fs::exists(Folder(kept) + "/columns.bin.tmp"));
  EXPECT_TRUE(datasets().Load(kept).ok());
  EXPECT_TRUE(fs::exists(Folder(kept) + "/source.csv"));
}

// Killed between the column file and the catalogue row of a retype: the file has the
// new types, the catalogue the old ones.
TEST_F(DatasetRecoveryTest, StartMakesTheCatalogueAgreeWithARetypedColumnFile) {
  const int64_t id = Upload("retyped");
  const DatasetRecord before = *store_->GetDataset(id);
  ASSERT_TRUE(datasets().SetTypes(id, {{"a", "categorical"}}).ok());
  ASSERT_TRUE(store_->UpdateDataset(before).ok());  // the catalogue as it was
  ASSERT_NE(CatalogueTypes(id), FileTypes(id));
  Restart();
  EXPECT_EQ(CatalogueTypes(id), FileTypes(id));
  EXPECT_EQ(FileTypes(id)[0], (json{"a", "categorical", true}));
}

// A retype writes its column file under a new name, then the catalogue row, then
// moves the file into place. Killed after the row: the retype is finished at start.
TEST_F(DatasetRecoveryTest, StartFinishesARetypeTheCatalogueAlreadyHas) {
  const int64_t id = Upload("retyped");
  const std::string current = Folder(id) + "/columns.bin", next = Folder(id) + "/columns.next.bin";
  fs::copy_file(current, Folder(id) + "/old");
  ASSERT_TRUE(datasets().SetTypes(id, {{"a", "categorical"}}).ok());
  fs::rename(current, next);
  fs::rename(Folder(id) + "/old", current);
  Restart();
  EXPECT_EQ(CatalogueTypes(id), FileTypes(id));
  EXPECT_EQ(FileTypes(id)[0], (json{"a", "categorical", true}));
  EXPECT_FALSE(fs::exists(next));
}

// Killed before the row: the new column file is dropped and nothing changes.
TEST_F(DatasetRecoveryTest, StartDropsARetypeTheCatalogueNeverHad) {
  const int64_t id = Upload("retyped");
  const DatasetRecord before = *store_->GetDataset(id);
  const std::string current = Folder(id) + "/columns.bin", next = Folder(id) + "/columns.next.bin";
  fs::copy_file(current, Folder(id) + "/old");
  ASSERT_TRUE(datasets().SetTypes(id, {{"a", "categorical"}}).ok());
  ASSERT_TRUE(store_->UpdateDataset(before).ok());
  fs::rename(current, next);
  fs::rename(Folder(id) + "/old", current);
  Restart();
  EXPECT_EQ(CatalogueTypes(id), FileTypes(id));
  EXPECT_EQ(FileTypes(id)[0], (json{"a", "numeric", false}));
  EXPECT_FALSE(fs::exists(next));
}

TEST_F(DatasetRecoveryTest, StartKeepsConsistentDatasetsAsTheyAre) {
  const int64_t id = Upload("plain");
  ASSERT_TRUE(datasets().SetTypes(id, {{"b", "text"}}).ok());
  const DatasetRecord before = *store_->GetDataset(id);
  Restart();
  const DatasetRecord after = *store_->GetDataset(id);
  EXPECT_EQ(after.columns_json, before.columns_json);
  EXPECT_EQ(after.update_time, before.update_time);
  EXPECT_EQ(CatalogueTypes(id), FileTypes(id));
}

}  // namespace
}  // namespace loupe::datasets
