// Google Benchmark: chart queries against the store, in process, for series of 1e5,
// 1e6 and 1e7 points downsampled to 1500 (full range and a zoomed window). The cost
// should stay flat as the series grows: it follows the points returned.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "common/time_util.h"
#include "store/store.h"

namespace {

struct Fixture {
  std::unique_ptr<loupe::Store> store;
  std::map<int64_t, int64_t> series_by_size;
  std::string dir;

  Fixture() {
    dir = (std::filesystem::temp_directory_path() / "loupe-bench-query").string();
    std::filesystem::remove_all(dir);
    loupe::StoreOptions o;
    o.data_dir = dir;
    o.sync_full = false;
    store = std::move(*loupe::OpenSqliteStore(o));
    for (int64_t n : {100000, 1000000, 10000000}) {
      loupe::NewExperiment e;
      e.project = "bench";
      e.name = "n" + std::to_string(n);
      int64_t id = store->CreateOrResumeExperiment(e)->experiment.id;
      for (int64_t s0 = 0; s0 < n; s0 += 100000) {
        loupe::MetricBatch b;
        b.experiment_id = id;
        b.ts = loupe::NowMicros();
        for (int64_t s = s0; s < s0 + 100000 && s < n; ++s) b.points.push_back({"loss", s, std::sin(s * 1e-4) + (s % 9973 == 0 ? 5 : 0)});
        store->WriteMetrics(b);
      }
      series_by_size[n] = store->GetSeries(id, "loss")->id;
    }
  }
  ~Fixture() {
    store->Close();
    std::filesystem::remove_all(dir);
  }
};

Fixture& Get() {
  static Fixture f;
  return f;
}

void BM_FullRange(benchmark::State& state) {
  Fixture& f = Get();
  int64_t id = f.series_by_size[state.range(0)];
  size_t points = 0;
  for (auto _ : state) {
    auto r = f.store->QuerySeries(id, loupe::SeriesQuery{});
    points = r->points.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["points"] = static_cast<double>(points);
}

void BM_ZoomedTenPercent(benchmark::State& state) {
  Fixture& f = Get();
  int64_t n = state.range(0);
  int64_t id = f.series_by_size[n];
  for (auto _ : state) {
    auto r = f.store->QuerySeries(id, loupe::SeriesQuery{n / 3 + 17, n / 3 + n / 10, 1500});
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_FullRange)->Arg(100000)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ZoomedTenPercent)->Arg(100000)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
