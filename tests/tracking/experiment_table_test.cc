#include "tracking/experiment_table.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "store/store.h"

namespace loupe {
namespace {

class ExperimentTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    TrackingOptions to;
    to.data_dir = dir_.path();
    to.heartbeat_timeout_seconds = 0;
    tracking_ = std::make_unique<TrackingService>(*store_, to);
    for (int i = 0; i < 30; ++i) {
      NewExperiment e;
      e.project = "p";
      e.name = "exp-" + std::to_string(i);
      e.config_json = R"({"lr": )" + std::to_string(i % 3) + R"(, "opt": {"name": ")" + (i % 2 ? "adam" : "sgd") + "\"}}";
      auto created = tracking_->StartRun(e);
      ids_.push_back(created->experiment.id);
      project_ = created->experiment.project_id;
      if (i % 5 != 0) {  // every fifth run logs no loss
        MetricBatch b;
        b.experiment_id = created->experiment.id;
        b.points = {{"loss", 0, 100.0 - i}, {"loss", 1, 50.0 - i}, {"acc", 0, i / 100.0}};
        ASSERT_TRUE(tracking_->LogMetrics(b).ok());
      }
      if (i >= 25) {
        ASSERT_TRUE(tracking_->Finish(created->experiment.id, RunStatus::kFinished).ok());
      }
    }
  }
  ExperimentTable Build(TableQuery q) {
    auto t = BuildExperimentTable(*tracking_, project_, q, 0);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return *t;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TrackingService> tracking_;
  std::vector<int64_t> ids_;
  int64_t project_ = 0;
};

TEST_F(ExperimentTableTest, DefaultColumnsAreTheCommonKeys) {
  ExperimentTable t = Build({});
  EXPECT_EQ(t.metric_columns, (std::vector<std::string>{"loss", "acc"}));
  EXPECT_EQ(t.page.total, 30);
  EXPECT_EQ(t.rows.size(), 30u);
  EXPECT_EQ(t.rows[0].experiment.name, "exp-29");  // newest first
}

TEST_F(ExperimentTableTest, SearchesNamesAndConfig) {
  TableQuery q;
  q.search = "EXP-2";
  EXPECT_EQ(Build(q).page.total, 11);  // exp-2, exp-20..29
  q.search = "lr=2";
  EXPECT_EQ(Build(q).page.total, 10);
  q.search = "opt.name=adam";
  EXPECT_EQ(Build(q).page.total, 15);
  q.search = "adam";
  EXPECT_EQ(Build(q).page.total, 15);
  q.search = "nope=1";
  EXPECT_EQ(Build(q).page.total, 0);
}

TEST_F(ExperimentTableTest, FiltersByStatus) {
  TableQuery q;
  q.status = "finished";
  EXPECT_EQ(Build(q).page.total, 5);
  q.status = "exploded";
  EXPECT_EQ(BuildExperimentTable(*tracking_, project_, q, 0).status().code(), Code::kInvalidArgument);
}

TEST_F(ExperimentTableTest, SortsByMetricWithMissingValuesLast) {
  TableQuery q;
  q.sort = "metric:loss";
  q.descending = false;
  q.per_page = 200;
  ExperimentTable t = Build(q);
  EXPECT_EQ(t.rows.front().experiment.name, "exp-29");  // last loss 50-29 = 21 is the smallest
  EXPECT_DOUBLE_EQ(*t.rows.front().metrics[0], 21.0);
  EXPECT_FALSE(t.rows.back().metrics[0].has_value());
  q.descending = true;
  t = Build(q);
  EXPECT_EQ(t.rows.front().experiment.name, "exp-1");
  EXPECT_FALSE(t.rows.back().metrics[0].has_value());
  q.sort = "bogus";
  EXPECT_FALSE(BuildExperimentTable(*tracking_, project_, q, 0).ok());
}

TEST_F(ExperimentTableTest, PagesAndExportsCsv) {
  TableQuery q;
  q.per_page = 7;
  q.page = 5;
  ExperimentTable t = Build(q);
  EXPECT_EQ(t.page.page, 5);
  EXPECT_EQ(t.rows.size(), 2u);
  q.all_rows = true;
  std::string csv = ExperimentTableCsv(Build(q));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 31);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "id,run_id,name,status,start,duration_seconds,loss,acc,config");
  EXPECT_NE(csv.find(R"("{""lr"": 2, ""opt"": {""name"": ""adam""}}")"), std::string::npos);
}

}  // namespace
}  // namespace loupe
