// fastText inside Loupe against the `fasttext` command-line tool (Debian's package),
// same data, same parameters, same thread count, timed in one run:
//   fasttext_vs_cli SPAM_ASSASSIN_DATA_DIR [RUNS]
// Both times include writing the trained model to disk (the CLI always does); Loupe's
// also includes writing the training file, as a run pays for that too.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
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
    std::fprintf(stderr, "usage: fasttext_vs_cli SPAM_ASSASSIN_DATA_DIR [RUNS]\n");
    return 2;
  }
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  auto jsonl = datasets::SpamAssassinToJsonl(argv[1]);
  if (!jsonl.ok()) return std::fprintf(stderr, "%s\n", jsonl.status().message().c_str()), 1;
  auto raw = datasets::ParseTable(*jsonl, datasets::FileFormat::kJsonl);
  auto label = *datasets::ConvertColumn(raw->columns[1], datasets::ColumnType::kCategorical);
  std::vector<int> y(label.codes.begin(), label.codes.end());
  auto split = *training::MakeSplit(y.size(), {0.7, 0.15, 0.15}, 42, y);
  std::vector<std::string> xs;
  std::vector<int> ys;
  for (size_t i : split.train) {
    xs.push_back(raw->columns[0].cells[i].value_or(""));
    ys.push_back(y[i]);
  }
  const std::string dir = "/tmp";
  {
    std::ofstream f(dir + "/loupe-ft-cli.txt");
    for (size_t i = 0; i < xs.size(); ++i) f << "__label__" << ys[i] << ' ' << training::NormalizeText(xs[i]) << '\n';
  }
  auto now = [] { return std::chrono::steady_clock::now(); };
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  // The CLI always writes the model and a text file of word vectors (~280 MB here); a
  // 0-epoch run of each side measures that fixed cost, so the training itself can be
  // compared as (total - fixed).
  auto timed = [&](int epochs, double& loupe_s, double& cli_s) -> bool {
    training::FastTextParams params;
    params.epoch = epochs;
    auto t0 = now();
    auto model = training::FastTextModel::Train(xs, ys, 2, params, dir);
    if (!model.ok() || !model->Save(dir + "/loupe-ft.bin").ok()) return false;
    auto t1 = now();
    int rc = std::system(("fasttext supervised -input " + dir + "/loupe-ft-cli.txt -output " + dir +
                          "/loupe-ft-cli -thread 1 -verbose 0 -epoch " + std::to_string(epochs) + " > /dev/null").c_str());
    auto t2 = now();
    loupe_s = secs(t0, t1);
    cli_s = secs(t1, t2);
    return rc == 0;
  };
  for (int r = 0; r < runs; ++r) {
    double l5, c5, l0, c0;
    if (!timed(5, l5, c5) || !timed(0, l0, c0)) return std::fprintf(stderr, "training failed\n"), 1;
    std::printf("run %d: total loupe %.2f s, CLI %.2f s; fixed (0 epochs) loupe %.2f s, CLI %.2f s; "
                "training alone loupe %.2f s, CLI %.2f s, ratio %.3f\n",
                r + 1, l5, c5, l0, c0, l5 - l0, c5 - c0, (l5 - l0) / (c5 - c0));
  }
  std::remove((dir + "/loupe-ft-cli.txt").c_str());
  std::remove((dir + "/loupe-ft-cli.bin").c_str());
  std::remove((dir + "/loupe-ft.bin").c_str());
  std::remove((dir + "/loupe-ft-cli.vec").c_str());
  return 0;
}
