#include "tracking/experiment_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "id,run_id,name,status,start,duration_seconds,config.lr,config.opt.name,loss,min(loss),max(loss),acc,"
            "min(acc),max(acc),config");
  // exp-29 (first, newest): loss 100-29 at step 0 then 50-29 at step 1; acc 0.29 once.
  std::string first = csv.substr(csv.find('\n') + 1);
  EXPECT_NE(first.find(",21,21,71,0.29,0.29,0.29,"), std::string::npos)
      << first.substr(0, first.find('\n'));
  EXPECT_NE(csv.find(R"("{""lr"": 2, ""opt"": {""name"": ""adam""}}")"), std::string::npos);

  // NaN and infinities are spelled as the series export spells them; 1e-05 stays 1e-05.
  MetricBatch b;
  b.experiment_id = ids_[29];
  b.points = {{"loss", 2, std::nan("")}, {"acc", 1, 1e-05}};
  ASSERT_TRUE(tracking_->LogMetrics(b).ok());
  csv = ExperimentTableCsv(Build(q));
  first = csv.substr(csv.find('\n') + 1);
  first = first.substr(0, first.find('\n'));
  EXPECT_NE(first.find(R"(,"NaN",21,71,1e-05,1e-05,0.29,)"), std::string::npos) << first;
}

// Config values are compared as numbers: 1 and 1.0, 0.00001 and 1e-05 are the same, both
// for "which keys differ" and for the search.
TEST_F(ExperimentTableTest, NumbersInConfigsAreComparedAsNumbers) {
  int64_t project = 0;
  for (const char* config : {R"({"f": 1, "lr": 0.00001, "seed": 1})", R"({"f": 1.0, "lr": 1e-05, "seed": 2})"}) {
    NewExperiment e;
    e.project = "numbers";
    e.config_json = config;
    auto created = tracking_->StartRun(e);
    ASSERT_TRUE(created.ok());
    project = created->experiment.project_id;
  }
  auto t = BuildExperimentTable(*tracking_, project, {}, 0);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->config_columns, (std::vector<std::string>{"seed"}));
  // The CSV writes them as the metrics are written: shortest form.
  TableQuery all;
  all.all_rows = true;
  all.config_columns = std::vector<std::string>{"lr", "f"};
  std::string csv = ExperimentTableCsv(*BuildExperimentTable(*tracking_, project, all, 0));
  size_t rows = 0;
  for (size_t at = csv.find(",1e-05,1,"); at != std::string::npos; at = csv.find(",1e-05,1,", at + 1)) ++rows;
  EXPECT_EQ(rows, 2u) << csv;
  for (const char* search : {"lr=0.00001", "lr=1e-05", "f=1", "f=1.0", "lr<=1e-5"}) {
    TableQuery q;
    q.search = search;
    auto found = BuildExperimentTable(*tracking_, project, q, 0);
    ASSERT_TRUE(found.ok()) << search;
    EXPECT_EQ(found->rows.size(), 2u) << search;
  }
}

TEST_F(ExperimentTableTest, ConfigColumnsDefaultToTheKeysThatDiffer) {
  ExperimentTable t = Build({});
  EXPECT_EQ(t.config_columns, (std::vector<std::string>{"lr", "opt.name"}));
  EXPECT_EQ(t.available_config_keys, (std::vector<std::string>{"lr", "opt.name"}));
  const TableRow& newest = t.rows[0];  // exp-29: lr 2, adam
  ASSERT_EQ(newest.config.size(), 2u);
  EXPECT_EQ(newest.config[0].text, "2");
  EXPECT_EQ(newest.config[0].number, 2.0);
  EXPECT_EQ(newest.config[1].text, "adam");
  EXPECT_FALSE(newest.config[1].number);
  TableQuery none;
  none.config_columns = std::vector<std::string>{};
  EXPECT_TRUE(Build(none).config_columns.empty());
}

TEST_F(ExperimentTableTest, SortsByAConfigValueAsNumbers) {
  TableQuery q;
  q.sort = "config:lr";
  q.descending = false;
  q.all_rows = true;
  ExperimentTable t = Build(q);
  ASSERT_EQ(t.rows.size(), 30u);
  EXPECT_EQ(t.rows.front().config[0].number, 0.0);
  EXPECT_EQ(t.rows.back().config[0].number, 2.0);
  for (size_t i = 1; i < t.rows.size(); ++i) EXPECT_LE(*t.rows[i - 1].config[0].number, *t.rows[i].config[0].number);
}

TEST_F(ExperimentTableTest, GroupsByAConfigKeyWithEachGroupsStatistics) {
  TableQuery q;
  q.group_by = "opt.name";
  q.per_page = 200;
  ExperimentTable t = Build(q);
  ASSERT_EQ(t.groups.size(), 2u);
  EXPECT_EQ(t.groups[0].value, "adam");
  EXPECT_EQ(t.groups[0].count, 15);
  EXPECT_EQ(t.groups[1].value, "sgd");
  // adam: the odd runs; those logging a loss end at 50 - i for i = 1, 3, 7, 9, 11, 13,
  // 17, 19, 21, 23, 27, 29: mean 35, sample sd sqrt(920 / 11), min 21, max 49.
  const MetricSummary& loss = t.groups[0].metrics[0];
  EXPECT_EQ(loss.n, 12);
  EXPECT_DOUBLE_EQ(loss.mean, 35.0);
  EXPECT_NEAR(loss.stddev, std::sqrt(920.0 / 11.0), 1e-12);
  EXPECT_EQ(loss.min, 21.0);
  EXPECT_EQ(loss.max, 49.0);
  // The rows come group by group.
  for (size_t i = 0; i < 15; ++i) EXPECT_EQ(t.rows[i].group, "adam");
  for (size_t i = 15; i < 30; ++i) EXPECT_EQ(t.rows[i].group, "sgd");
}

TEST_F(ExperimentTableTest, OneNumberWrittenTwoWaysIsOneGroupAndCsvKeepsSigns) {
  int64_t project = 0;
  for (const char* cfg : {R"({"bs": 32, "wd": -0.5})", R"({"bs": 32.0, "wd": -0.5})", R"({"bs": "—", "wd": 1e-4})",
                          R"({"wd": 2})"}) {
    NewExperiment e;
    e.project = "forms";
    e.config_json = cfg;
    auto created = tracking_->StartRun(e);
    ASSERT_TRUE(created.ok());
    project = created->experiment.project_id;
  }
  TableQuery q;
  q.group_by = "bs";
  auto t = BuildExperimentTable(*tracking_, project, q, 0);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->groups.size(), 3u);  // 32 (two runs), the text "—", and the run without bs
  EXPECT_EQ(t->groups[0].value, "32");
  EXPECT_EQ(t->groups[0].count, 2);
  EXPECT_TRUE(t->groups[0].present);
  EXPECT_EQ(t->groups[1].value, "—");
  EXPECT_TRUE(t->groups[1].present);
  EXPECT_FALSE(t->groups[2].present);
  TableQuery all;
  all.all_rows = true;
  all.config_columns = std::vector<std::string>{"wd"};
  std::string csv = ExperimentTableCsv(*BuildExperimentTable(*tracking_, project, all, 0));
  EXPECT_NE(csv.find(",-0.5,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",1e-04,"), std::string::npos) << csv;  // as every export writes numbers
  EXPECT_EQ(csv.find("'-0.5"), std::string::npos) << csv;
}

TEST_F(ExperimentTableTest, EachRowHasItsMinAndMaxOverAllSteps) {
  NewExperiment e;
  e.project = "ranges";
  e.name = "ranged";
  auto created = tracking_->StartRun(e);
  ASSERT_TRUE(created.ok());
  const int64_t id = created->experiment.id;
  const double nan = std::nan(""), inf = INFINITY;
  const int64_t far = (int64_t{1} << 27) + 5;  // the next bucket of the coarsest summary level
  MetricBatch b;
  b.experiment_id = id;
  // Extremes that are neither the first nor the last point; NaN and infinities are left
  // out of the range; equal values keep their first step.
  b.points = {{"loss", 0, 5.0},      {"loss", 10, -2.5},      {"loss", 11, nan},       {"loss", 12, inf},
              {"loss", 13, -inf},    {"loss", 20, 7.25},      {"loss", far, 9.5},      {"loss", far + 1, 3.0},
              {"acc", 0, 0.5},       {"acc", 3, 0.5},         {"acc", 4, 0.1},         {"acc", 7, 0.1},
              {"nan_only", 0, nan},  {"nan_only", 1, inf}};
  ASSERT_TRUE(tracking_->LogMetrics(b).ok());
  TableQuery q;
  q.metric_columns = {"loss", "acc", "nan_only", "absent"};
  auto t = BuildExperimentTable(*tracking_, created->experiment.project_id, q, 0);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 1u);
  const TableRow& row = t->rows[0];
  EXPECT_EQ(row.metrics[0], 3.0);
  ASSERT_TRUE(row.ranges[0]);
  EXPECT_EQ(row.ranges[0]->min, -2.5);
  EXPECT_EQ(row.ranges[0]->min_step, 10);
  EXPECT_EQ(row.ranges[0]->max, 9.5);
  EXPECT_EQ(row.ranges[0]->max_step, far);
  ASSERT_TRUE(row.ranges[1]);
  EXPECT_EQ(row.ranges[1]->min, 0.1);
  EXPECT_EQ(row.ranges[1]->min_step, 4);
  EXPECT_EQ(row.ranges[1]->max, 0.5);
  EXPECT_EQ(row.ranges[1]->max_step, 0);
  EXPECT_FALSE(row.ranges[2]);  // no finite value
  EXPECT_FALSE(row.ranges[3]);  // never logged
  // Rewriting the step that held the minimum moves it.
  MetricBatch again;
  again.experiment_id = id;
  again.points = {{"loss", 10, 4.0}};
  ASSERT_TRUE(tracking_->LogMetrics(again).ok());
  t = BuildExperimentTable(*tracking_, created->experiment.project_id, q, 0);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->rows[0].ranges[0]);
  EXPECT_EQ(t->rows[0].ranges[0]->min, 3.0);
  EXPECT_EQ(t->rows[0].ranges[0]->min_step, far + 1);
  EXPECT_EQ(t->rows[0].ranges[0]->max, 9.5);
}

TEST_F(ExperimentTableTest, SortsByEachRunsMinOrMaxWithMissingValuesLast) {
  // exp-i (i not a multiple of 5) logs loss 100 - i then 50 - i: min 50 - i, max 100 - i.
  TableQuery q;
  q.sort = "min:loss";
  q.descending = false;
  q.per_page = 3;
  ExperimentTable t = Build(q);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].experiment.name, "exp-29");
  EXPECT_EQ(t.rows[1].experiment.name, "exp-28");
  EXPECT_EQ(t.rows[2].experiment.name, "exp-27");
  EXPECT_EQ(t.rows[0].ranges[0]->min, 21.0);
  q.sort = "max:loss";
  q.descending = true;
  t = Build(q);
  EXPECT_EQ(t.rows[0].experiment.name, "exp-1");
  EXPECT_EQ(t.rows[0].ranges[0]->max, 99.0);
  q.page = 10;  // the last page: runs without a loss, whichever way the sort goes
  t = Build(q);
  ASSERT_EQ(t.rows.size(), 3u);
  for (const TableRow& r : t.rows) EXPECT_FALSE(r.ranges[0]);
  q.descending = false;
  t = Build(q);
  for (const TableRow& r : t.rows) EXPECT_FALSE(r.ranges[0]);
  q.sort = "max:";
  EXPECT_EQ(BuildExperimentTable(*tracking_, project_, q, 0).status().code(), Code::kInvalidArgument);
}

TEST(MetricNames, LossAndErrorLikeMetricsAreLowerIsBetter) {
  EXPECT_TRUE(MetricLowerIsBetter("val/Loss"));
  EXPECT_TRUE(MetricLowerIsBetter("test_error"));
  EXPECT_TRUE(MetricLowerIsBetter("ppl"));
  EXPECT_FALSE(MetricLowerIsBetter("val/acc"));
  EXPECT_FALSE(MetricLowerIsBetter("f1"));
}

TEST_F(ExperimentTableTest, DefaultMetricsPutLossAndAccuracyLikeKeysFirst) {
  NewExperiment e;
  e.project = "headline";
  auto created = tracking_->StartRun(e);
  ASSERT_TRUE(created.ok());
  MetricBatch b;
  b.experiment_id = created->experiment.id;
  b.points = {{"epoch", 0, 1}, {"lr", 0, 0.1}, {"grad_norm", 0, 2}, {"val/loss", 0, 0.5}, {"system/cpu", 0, 3},
              {"test_accuracy", 0, 0.9}};
  ASSERT_TRUE(tracking_->LogMetrics(b).ok());
  auto t = BuildExperimentTable(*tracking_, created->experiment.project_id, {}, 0);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->metric_columns.size(), 5u);
  std::vector<std::string> first(t->metric_columns.begin(), t->metric_columns.begin() + 2);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<std::string>{"test_accuracy", "val/loss"}));
  EXPECT_EQ(std::count(t->metric_columns.begin(), t->metric_columns.end(), "system/cpu"), 0);
}

}  // namespace
}  // namespace loupe
