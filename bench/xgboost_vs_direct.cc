// XGBoost inside Loupe against calling XGBoost's C API directly, same data, split and
// parameters, timed in one process, runs interleaved:
//   xgboost_vs_direct SKLEARN_DATA_DIR [RUNS]
// Both sides build their DMatrix from the same float matrix and train the same number
// of rounds. "direct" evaluates train and validation loss after every round, as
// xgb.train(evals=...) does; "no-eval" never evaluates, the cheapest way to call
// XGBoost. Loupe evaluates about 50 times per run, for its learning curves.
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "datasets/column_types.h"
#include "datasets/samples.h"
#include "datasets/table_parser.h"
#include "training/metrics.h"
#include "training/model_catalog.h"
#include "training/params.h"
#include "training/splits.h"
#include "training/task.h"

using namespace loupe;
using nlohmann::json;

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Data {
  training::PreparedData d;
  training::Examples train, val, test;
  std::vector<int> ytr, yval, yte;
};

Data Load(const std::string& dir, const std::string& name, const std::string& target) {
  for (const auto& s : datasets::BuiltinSamples()) {
    if (s.name != name) continue;
    auto csv = *datasets::SklearnCsvToCsv(*ReadFileUpTo(dir + "/" + s.file, 1 << 24), s);
    auto raw = *datasets::ParseTable(csv, datasets::FileFormat::kCsv);
    datasets::Table t;
    std::vector<std::string> inputs;
    for (const auto& rc : raw.columns) {
      t.columns.push_back(*datasets::ConvertColumn(rc, datasets::InferColumnType(rc)));
      if (rc.name != target) inputs.push_back(rc.name);
    }
    Data out{*training::PrepareForTask(t, training::TaskKind::kTabularClassification, inputs, {target}), {}, {}, {}, {}, {}, {}};
    auto split = *training::MakeSplit(out.d.examples.rows, {0.7, 0.15, 0.15}, 0, out.d.labels);
    out.train = out.d.examples.Take(split.train);
    out.val = out.d.examples.Take(split.validation);
    out.test = out.d.examples.Take(split.test);
    for (size_t i : split.train) out.ytr.push_back(out.d.labels[i]);
    for (size_t i : split.validation) out.yval.push_back(out.d.labels[i]);
    for (size_t i : split.test) out.yte.push_back(out.d.labels[i]);
    return out;
  }
  std::fprintf(stderr, "no sample %s\n", name.c_str());
  std::exit(1);
}

DMatrixHandle Matrix(const training::Examples& x, const std::vector<int>& y) {
  DMatrixHandle h;
  XGDMatrixCreateFromMat(x.x.data(), x.rows, x.cols, std::nanf(""), &h);
  std::vector<float> labels(y.begin(), y.end());
  XGDMatrixSetFloatInfo(h, "label", labels.data(), labels.size());
  return h;
}

// The direct call: what a user of XGBoost's C API writes.
double Direct(const Data& d, int k, int rounds, bool evaluate, double& accuracy) {
  auto t0 = std::chrono::steady_clock::now();
  DMatrixHandle train = Matrix(d.train, d.ytr), val = Matrix(d.val, d.yval);
  DMatrixHandle evals[] = {train, val};
  const char* names[] = {"train", "validation"};
  BoosterHandle b;
  XGBoosterCreate(evals, 2, &b);
  XGBoosterSetParam(b, "objective", k == 2 ? "binary:logistic" : "multi:softprob");
  if (k > 2) XGBoosterSetParam(b, "num_class", std::to_string(k).c_str());
  XGBoosterSetParam(b, "eval_metric", k == 2 ? "logloss" : "mlogloss");
  XGBoosterSetParam(b, "max_depth", "6");
  XGBoosterSetParam(b, "learning_rate", "0.3");
  XGBoosterSetParam(b, "tree_method", "hist");
  XGBoosterSetParam(b, "verbosity", "0");
  for (int i = 0; i < rounds; ++i) {
    XGBoosterUpdateOneIter(b, i, train);
    if (evaluate) {
      const char* out;
      XGBoosterEvalOneIter(b, i, evals, names, 2, &out);
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  DMatrixHandle test = Matrix(d.test, d.yte);
  bst_ulong len;
  const float* p;
  XGBoosterPredict(b, test, 0, 0, 0, &len, &p);
  int right = 0;
  for (size_t r = 0; r < d.test.rows; ++r) {
    int best = 0;
    if (k == 2) best = p[r] > 0.5f;
    else for (int c = 1; c < k; ++c) if (p[r * k + c] > p[r * k + best]) best = c;
    right += best == d.yte[r];
  }
  accuracy = static_cast<double>(right) / static_cast<double>(d.test.rows);
  XGDMatrixFree(test);
  XGDMatrixFree(train);
  XGDMatrixFree(val);
  XGBoosterFree(b);
  return secs;
}

double ThroughLoupe(const Data& d, int k, int rounds, double& accuracy) {
  const auto* info = training::FindModel("XGBoostClassifier");
  auto params = *training::ValidateAndTransform(info->params, {{"n_estimators", rounds}});
  auto t0 = std::chrono::steady_clock::now();
  auto m = std::move(*training::MakeModel("XGBoostClassifier", training::TaskKind::kTabularClassification, k, params.values, "/tmp"));
  training::TrainData train{&d.train, &d.ytr, nullptr}, val{&d.val, &d.yval, nullptr};
  int points = 0;
  m->Train(train, &val, [&](const std::string&, int64_t, double) { ++points; });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto p = *m->Predict(d.test);
  accuracy = *training::Accuracy({k, d.yte, p.classes, p.proba});
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: xgboost_vs_direct SKLEARN_DATA_DIR [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  std::printf("%-14s %7s %6s | %10s %10s %10s | %7s %7s | %s\n", "dataset", "rows", "rounds", "loupe ms", "direct ms",
              "no-eval ms", "ratio", "vs fast", "test accuracy (loupe / direct)");
  for (auto [name, target] : {std::pair{"breast_cancer", "diagnosis"}, std::pair{"wine", "cultivar"}}) {
    Data d = Load(argv[1], name, target);
    const int k = static_cast<int>(d.d.spec.classes.size());
    for (int rounds : {100, 1000}) {
      std::vector<double> lt, dt, ft;
      double la = 0, da = 0, fa = 0;
      for (int r = 0; r < runs; ++r) {
        lt.push_back(ThroughLoupe(d, k, rounds, la));
        dt.push_back(Direct(d, k, rounds, true, da));
        ft.push_back(Direct(d, k, rounds, false, fa));
      }
      double l = Median(lt), di = Median(dt), f = Median(ft);
      std::printf("%-14s %7zu %6d | %10.2f %10.2f %10.2f | %7.3f %7.3f | %.4f / %.4f\n", name, d.d.examples.rows, rounds,
                  l * 1e3, di * 1e3, f * 1e3, l / di, l / f, la, da);
    }
  }
  return 0;
}
