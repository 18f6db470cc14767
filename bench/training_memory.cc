// Training memory: Loupe's estimate (training/memory_estimate.h) against the peak
// resident memory one training really takes, in a fresh process each time:
//   training_memory MODEL ROWS FEATURES CLASSES 'PARAMS_JSON' [VOCABULARY WORDS_PER_TEXT]
// Tabular models train on ROWS x FEATURES uniform random floats; text models (give
// VOCABULARY) on ROWS texts of WORDS_PER_TEXT words drawn from w0..w<VOCABULARY-1>.
// The model is trained on all rows, then saved, as a run does. Prints one JSON line:
// the estimate without the data (which is resident before training starts) and the
// growth of the peak resident size (VmHWM) over training and saving.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "training/memory_estimate.h"
#include "training/model_catalog.h"

using namespace loupe;
using nlohmann::json;

namespace {

uint64_t StatusKb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::string(field).size()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s MODEL ROWS FEATURES CLASSES PARAMS_JSON [VOCABULARY WORDS_PER_TEXT]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  const size_t rows = std::stoull(argv[2]), features = std::stoull(argv[3]), classes = std::stoull(argv[4]);
  const json input = json::parse(argv[5]);
  const size_t vocabulary = argc > 6 ? std::stoull(argv[6]) : 0, words = argc > 7 ? std::stoull(argv[7]) : 20;
  const training::ModelInfo* info = training::FindModel(model);
  if (!info) return 2;
  Result<training::ValidatedParams> params = training::ValidateAndTransform(info->params, input);
  if (!params.ok()) {
    std::fprintf(stderr, "%s\n", params.status().message().c_str());
    return 2;
  }
  std::mt19937_64 rng(7);
  training::Examples x;
  x.rows = rows;
  std::vector<int> labels;
  std::vector<double> targets;
  if (vocabulary > 0) {
    std::uniform_int_distribution<size_t> word(0, vocabulary - 1);
    for (size_t r = 0; r < rows; ++r) {
      std::string t;
      for (size_t w = 0; w < words; ++w) t += (w ? " w" : "w") + std::to_string(word(rng));
      x.texts.push_back(std::move(t));
    }
  } else {
    std::uniform_real_distribution<float> u(0, 1);
    x.cols = features;
    x.x.resize(rows * features);
    for (float& v : x.x) v = u(rng);
  }
  // Labels and targets as random as the features: trees grow as large as they can.
  std::uniform_real_distribution<double> target(0, 100);
  for (size_t r = 0; r < rows; ++r) {
    if (classes > 0) labels.push_back(static_cast<int>(rng() % classes));
    else targets.push_back(target(rng));
  }
  training::DataShape shape = training::MeasureShape(x, classes);
  training::MemoryEstimate e = training::EstimateTrainingMemory(model, shape, params->values);
  uint64_t data_part = 0;
  for (const auto& p : e.parts) {
    if (p.what.rfind("encoded inputs", 0) == 0 || p.what.rfind("texts", 0) == 0) data_part += p.bytes;
  }
  const std::string dir = "/tmp/loupe-training-memory-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const training::TaskKind task = classes == 0 ? training::TaskKind::kRegression
                                  : vocabulary > 0 ? training::TaskKind::kTextClassification
                                                   : training::TaskKind::kTabularClassification;
  const uint64_t before_kb = StatusKb("VmHWM:");
  auto m = training::MakeModel(model, task, static_cast<int>(classes), params->values, dir);
  if (!m.ok()) return 1;
  training::TrainData data{&x, classes > 0 ? &labels : nullptr, classes > 0 ? nullptr : &targets};
  Status st = (*m)->Train(data, nullptr, {});
  if (st.ok()) st = (*m)->Save(dir + "/model." + info->file_extension);
  const uint64_t after_kb = StatusKb("VmHWM:");
  std::error_code ec;
  const uint64_t file = std::filesystem::file_size(dir + "/model." + info->file_extension, ec);
  std::filesystem::remove_all(dir, ec);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  json out = {{"model", model}, {"rows", rows}, {"features", features}, {"classes", classes},
              {"vocabulary", shape.vocabulary}, {"params", input},
              {"estimate_mb", (e.bytes - data_part) >> 20}, {"measured_mb", (after_kb - before_kb) >> 10},
              {"model_file_mb", file >> 20}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
