// Training memory estimates: how much memory training a model on a given data shape
// with given parameters takes, computed before anything is allocated, so a run that
// would exhaust the machine (fastText with dim 1000 and word n-grams: about 8 GB) is
// refused with a message that names the parameters driving it, instead of started.
// The formulas follow the libraries' own allocations (docs/api.md, "Training memory");
// they are upper bounds where the data leaves a choice (every cell present, every
// word kept). Pure functions: any thread may call them.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "training/params.h"
#include "training/task.h"

namespace loupe::training {

// What an estimate needs to know about the data. A session records it for all its
// rows (an upper bound for any split); a run measures its training split exactly.
struct DataShape {
  uint64_t train_rows = 0;  // rows the model trains on
  uint64_t held_rows = 0;   // rows of every split, held in memory while it trains
  uint64_t classes = 0;     // classification; 0 for regression
  // Tabular tasks: encoded features (one-hot columns count once per category) and
  // histogram bins over them (each feature's distinct values, at most 256).
  uint64_t features = 0;
  uint64_t bins = 0;
  // Text tasks: bytes of every split's texts; whitespace-separated words of the
  // training texts and how many distinct ones (lower-cased, as fastText reads them).
  uint64_t text_bytes = 0;
  uint64_t words = 0;
  uint64_t vocabulary = 0;

  nlohmann::json ToJson() const;
  static DataShape FromJson(const nlohmann::json& j);  // missing fields are 0
};

// The shape of `train` (what the model trains on); `also_held` (the other splits) add
// to held_rows and text_bytes.
DataShape MeasureShape(const Examples& train, size_t classes, const std::vector<const Examples*>& also_held = {});

struct MemoryPart {
  std::string what;  // "input matrix: (1,234 words + 2,000,000 buckets) x dim 100 x 4 bytes"
  uint64_t bytes = 0;
};

struct MemoryEstimate {
  uint64_t bytes = 0;
  std::vector<MemoryPart> parts;     // largest first
  std::vector<std::string> drivers;  // the parameters it grows with, most to least
};

// `params` holds every model parameter (ValidateAndTransform's values).
MemoryEstimate EstimateTrainingMemory(const std::string& model, const DataShape& shape, const nlohmann::json& params);

// The parameters a search may reach that need the most memory: each searched
// parameter at its upper bound (every estimate grows with each of them).
nlohmann::json WorstCaseParams(const ValidatedParams& params);

// Ok, or InvalidArgument (422) saying how much `model` needs, the budget, the
// parameters that drive it and a value that fits, e.g. "FastTextClassifier needs about
// 7.6 GiB of memory to train with these parameters, above the training memory budget
// of 4.0 GiB (loupe serve --training-memory-mb) ...". `budget` 0: no limit. With a
// search, `params.search_space` is checked at its upper bounds.
Status CheckTrainingMemory(const std::string& model, const DataShape& shape, const ValidatedParams& params,
                           uint64_t budget);

// The encoded input matrix of a tabular task (rows x features x 4 bytes) against the
// budget, before it is built; InvalidArgument naming the widest one-hot columns.
Status CheckEncodedSize(const FeatureSpec& spec, uint64_t rows, uint64_t budget);

// The default budget: half the physical memory, at most 4 GiB.
uint64_t DefaultTrainingMemoryBudget(uint64_t physical_bytes);
uint64_t PhysicalMemoryBytes();

// "512 KiB", "1.5 GiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace loupe::training
