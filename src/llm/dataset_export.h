// "Save as a dataset": the SFT examples or preference pairs a filter selects, in their
// flat table form (llm/training_export.h), handed to the datasets subsystem as a JSONL
// file it parses and keeps like an upload. The LLM code does not know how datasets are
// stored: the module passes a sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/feedback_store.h"

namespace loupe::llm {

// Keeps `bytes` (JSONL) as a dataset named `name`; returns its id.
using DatasetSink =
    std::function<Result<int64_t>(const std::string& name, const std::string& file_name, const std::string& bytes)>;

enum class DatasetKind { kSft, kPreferences };

struct DatasetExportRequest {
  DatasetKind kind = DatasetKind::kSft;
  std::string name;
  PredictionFilter filter;
  bool use_expected = true;  // SFT: a person's expected behaviour replaces the answer
};

struct SavedDataset {
  int64_t id = 0;
  int64_t rows = 0;
  size_t bytes = 0;
};

// InvalidArgument when nothing matches; TooLarge (before the sink is called) when the
// file would pass `max_bytes`.
Result<SavedDataset> SaveAsDataset(FeedbackStore& store, const DatasetSink& sink, const DatasetExportRequest& request,
                                   size_t max_bytes);

}  // namespace loupe::llm
