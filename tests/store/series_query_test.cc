// Chart queries checked against a brute-force model of the series, with appends,
// overwrites and out-of-order writes, at ranges that exercise every summary level.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <random>

#include "common/temp_dir.h"
#include "common/time_util.h"
#include "store/store.h"

namespace loupe {
namespace {

class SeriesQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.data_dir = dir_.path();
    o.sync_full = false;
    store_ = std::move(*OpenSqliteStore(o));
    NewExperiment e;
    e.project = "p";
    id_ = store_->CreateOrResumeExperiment(e)->experiment.id;
  }
  void Write(const std::vector<std::pair<int64_t, double>>& pts) {
    MetricBatch b;
    b.experiment_id = id_;
    b.ts = NowMicros();
    for (auto& [s, v] : pts) {
      b.points.push_back({"m", s, v});
      model_[s] = v;
    }
    ASSERT_TRUE(store_->WriteMetrics(b).ok());
  }
  void Check(int64_t from, int64_t to, int max_points) {
    auto s = store_->GetSeries(id_, "m");
    ASSERT_TRUE(s.ok());
    auto r = store_->QuerySeries(s->id, {from, to, max_points});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    int64_t n = 0;
    double mn = INFINITY, mx = -INFINITY;
    int64_t first = -1, last = -1;
    for (auto it = model_.lower_bound(from); it != model_.end() && it->first <= to; ++it) {
      ++n;
      if (first < 0) first = it->first;
      last = it->first;
      if (std::isfinite(it->second)) {
        mn = std::min(mn, it->second);
        mx = std::max(mx, it->second);
      }
    }
    SCOPED_TRACE("range [" + std::to_string(from) + ", " + std::to_string(to) + "]");
    ASSERT_EQ(r->count, n);
    if (n == 0) return;
    EXPECT_EQ(r->min, mn);
    EXPECT_EQ(r->max, mx);
    ASSERT_LE(r->points.size(), static_cast<size_t>(max_points));
    EXPECT_EQ(r->points.front().step, first);
    EXPECT_EQ(r->points.back().step, last);
    bool saw_min = false, saw_max = false;
    for (size_t i = 0; i < r->points.size(); ++i) {
      const SeriesPoint& p = r->points[i];
      auto it = model_.find(p.step);
      ASSERT_NE(it, model_.end()) << "step " << p.step << " was never written";
      if (std::isnan(it->second)) {
        EXPECT_TRUE(std::isnan(p.value));
      } else {
        EXPECT_EQ(p.value, it->second) << "at step " << p.step;
      }
      if (i) {
        ASSERT_LT(r->points[i - 1].step, p.step);
      }
      saw_min |= p.value == mn;
      saw_max |= p.value == mx;
    }
    EXPECT_TRUE(saw_min);
    EXPECT_TRUE(saw_max);
    if (n <= max_points) {
      EXPECT_EQ(static_cast<int64_t>(r->points.size()), n);
    }
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t id_ = 0;
  std::map<int64_t, double> model_;
};

TEST_F(SeriesQueryTest, AppendOnlySeriesMatchesModelAtEveryScale) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 1);
  for (int b = 0; b < 40; ++b) {
    std::vector<std::pair<int64_t, double>> pts;
    for (int i = 0; i < 5000; ++i) pts.push_back({b * 5000 + i, noise(rng)});
    Write(pts);
  }
  Write({{200000, 1e9}});  // a spike at the very end
  for (auto [from, to] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 200000}, {0, 100}, {1000, 9000}, {12345, 187654}, {63, 64}, {4095, 4097}, {199990, 300000}}) {
    Check(from, to, 1500);
  }
  Check(0, 200000, 10);
}

TEST_F(SeriesQueryTest, OverwritesAndOutOfOrderWritesKeepSummariesExact) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> step(0, 300000);
  std::uniform_real_distribution<double> val(-100, 100);
  for (int b = 0; b < 60; ++b) {
    std::vector<std::pair<int64_t, double>> pts;
    for (int i = 0; i < 2000; ++i) pts.push_back({step(rng), val(rng)});
    if (b == 30) pts.push_back({150000, std::numeric_limits<double>::quiet_NaN()});
    Write(pts);
  }
  // Overwrite the current extremes so stale summaries would show up as wrong min/max.
  auto mx = std::max_element(model_.begin(), model_.end(), [](auto& a, auto& b) { return a.second < b.second; });
  Write({{mx->first, 0.0}});
  std::uniform_int_distribution<int64_t> lo(0, 300000);
  for (int q = 0; q < 40; ++q) {
    int64_t a = lo(rng), b = lo(rng);
    Check(std::min(a, b), std::max(a, b), 1500);
  }
  Check(0, 300000, 1500);
  Check(0, 300000, 4);
  Check(0, 300000, 5);
}

// A downsampled query's first and last points are the stored ones, time included, also
// when the last step was overwritten later and holds NaN.
TEST_F(SeriesQueryTest, EdgePointsKeepTheirValueAndTime) {
  auto write_at = [&](int64_t ts, std::vector<std::pair<int64_t, double>> pts) {
    MetricBatch b;
    b.experiment_id = id_;
    b.ts = ts;
    for (auto& [st, v] : pts) b.points.push_back({"m", st, v});
    ASSERT_TRUE(store_->WriteMetrics(b).ok());
  };
  std::vector<std::pair<int64_t, double>> pts;
  for (int64_t i = 10; i < 50000; ++i) pts.push_back({i, std::sin(i * 0.01)});
  write_at(1700000000000000, pts);
  write_at(1700000001000000, {{49999, 7.5}});  // the last step again, later
  auto s = store_->GetSeries(id_, "m");
  ASSERT_TRUE(s.ok());
  auto r = store_->QuerySeries(s->id, {0, 100000, 50});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->downsampled);
  EXPECT_EQ(r->points.front().step, 10);
  EXPECT_EQ(r->points.front().value, std::sin(0.1));
  EXPECT_EQ(r->points.front().ts, 1700000000000000);
  EXPECT_EQ(r->points.back().step, 49999);
  EXPECT_EQ(r->points.back().value, 7.5);
  EXPECT_EQ(r->points.back().ts, 1700000001000000);
  write_at(1700000002000000, {{49999, std::numeric_limits<double>::quiet_NaN()}});
  r = store_->QuerySeries(s->id, {0, 100000, 50});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan(r->points.back().value));
  EXPECT_EQ(r->points.back().ts, 1700000002000000);
  // A range that ends before the last step reads its own last point.
  r = store_->QuerySeries(s->id, {0, 30000, 50});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->points.back().step, 30000);
  EXPECT_EQ(r->points.back().value, std::sin(300.0));
  EXPECT_EQ(r->points.back().ts, 1700000000000000);
  // An earlier first step written later becomes the first point, value and time.
  write_at(1700000003000000, {{3, -2.5}});
  r = store_->QuerySeries(s->id, {0, 100000, 50});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->points.front().step, 3);
  EXPECT_EQ(r->points.front().value, -2.5);
  EXPECT_EQ(r->points.front().ts, 1700000003000000);
  // A series from before the row kept its first point (first_ts NULL) reads it from the chunks.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/loupe.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE series SET first_value=NULL, first_ts=NULL", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  r = store_->QuerySeries(s->id, {0, 100000, 50});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->points.front().value, -2.5);
  EXPECT_EQ(r->points.front().ts, 1700000003000000);
}

TEST_F(SeriesQueryTest, SparseStepsOverAHugeRange) {
  std::vector<std::pair<int64_t, double>> pts;
  for (int64_t i = 0; i < 3000; ++i) pts.push_back({i * 1000003, std::sin(i * 0.1)});
  Write(pts);
  Check(0, int64_t{1} << 40, 1500);
  Check(500000000, 2000000000, 1500);
  Check(1000003, 1000003, 1500);
}

}  // namespace
}  // namespace loupe
