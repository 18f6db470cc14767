// fastText's test macro-F1 on SpamAssassin over several split seeds, for the epoch
// counts given: what backs FastTextClassifier's default epoch (docs/benchmarks.md).
//   fasttext_seeds SPAM_ASSASSIN_DATA_DIR [SEEDS=6] [EPOCHS=5,25]
// Each seed splits 70/15/15 stratified, as a session with that seed does, and trains
// on the train split with one thread (fastText's result is then reproducible).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/column_types.h"
#include "datasets/samples.h"
#include "datasets/table_parser.h"
#include "training/fasttext_model.h"
#include "training/metrics.h"
#include "training/splits.h"

using namespace loupe;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fasttext_seeds SPAM_ASSASSIN_DATA_DIR [SEEDS] [EPOCHS,...]\n");
    return 2;
  }
  const int seeds = argc > 2 ? std::atoi(argv[2]) : 6;
  std::vector<int> epochs;
  std::stringstream list(argc > 3 ? argv[3] : "5,25");
  for (std::string e; std::getline(list, e, ',');) epochs.push_back(std::atoi(e.c_str()));
  auto jsonl = datasets::SpamAssassinToJsonl(argv[1]);
  if (!jsonl.ok()) return std::fprintf(stderr, "%s\n", jsonl.status().message().c_str()), 1;
  auto raw = datasets::ParseTable(*jsonl, datasets::FileFormat::kJsonl);
  auto label = *datasets::ConvertColumn(raw->columns[1], datasets::ColumnType::kCategorical);
  std::vector<int> y(label.codes.begin(), label.codes.end());
  const std::string dir = "/tmp";
  std::printf("%-6s", "seed");
  for (int e : epochs) std::printf("  epoch %-3d F1  secs", e);
  std::printf("\n");
  std::vector<std::vector<double>> f1s(epochs.size());
  for (int seed = 0; seed < seeds; ++seed) {
    auto split = *training::MakeSplit(y.size(), {0.7, 0.15, 0.15}, static_cast<uint64_t>(seed), y);
    std::vector<std::string> xs;
    std::vector<int> ys;
    for (size_t i : split.train) {
      xs.push_back(std::string(raw->columns[0].cells[i].value_or("")));
      ys.push_back(y[i]);
    }
    std::printf("%-6d", seed);
    for (size_t k = 0; k < epochs.size(); ++k) {
      training::FastTextParams params;
      params.epoch = epochs[k];
      const auto t0 = std::chrono::steady_clock::now();
      auto model = training::FastTextModel::Train(xs, ys, 2, params, dir);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().message().c_str()), 1;
      training::ClassificationData d{2, {}, {}, {}};
      for (size_t i : split.test) {
        std::vector<double> p = model->PredictProba(std::string(raw->columns[0].cells[i].value_or("")));
        d.truth.push_back(y[i]);
        d.predicted.push_back(p[1] > p[0] ? 1 : 0);
      }
      const double f1 = *training::F1(d, training::Average::kMacro);
      f1s[k].push_back(f1);
      std::printf("  %14.4f %5.1f", f1, secs);
    }
    std::printf("\n");
  }
  for (size_t k = 0; k < epochs.size(); ++k) {
    double lo = 1, hi = 0, sum = 0;
    for (double v : f1s[k]) lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
    std::printf("epoch %d: test macro-F1 %.4f-%.4f over seeds 0-%d, mean %.4f\n", epochs[k], lo, hi, seeds - 1,
                sum / static_cast<double>(f1s[k].size()));
  }
  return 0;
}
