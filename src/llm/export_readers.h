// Training data read from the store a page at a time: each Next() appends the lines of
// one page to `out` (never the whole file) and says whether more remain. The streamed
// downloads and "save as a dataset" read through the same readers, so both hold the
// same examples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llm/training_export.h"
#include "store/feedback_store.h"

namespace loupe::llm {

constexpr int64_t kExportPage = 500;
// Bounds for one prompt that was answered (and judged) a great many times.
constexpr size_t kMaxPairsPerPrompt = 100;
constexpr size_t kMaxAnswersPerPrompt = 1000;

// Every answered call the filter matches as an SFT example; with `use_expected` a
// person's expected behaviour replaces an answer they corrected.
class SftReader {
 public:
  SftReader(FeedbackStore& store, PredictionFilter filter, SftFormat format, bool use_expected);
  Result<bool> Next(std::string& out);
  int64_t lines() const { return lines_; }

 private:
  FeedbackStore& store_;
  PredictionFilter filter_;
  SftFormat format_;
  bool use_expected_;
  int64_t after_ = 0;
  int64_t lines_ = 0;
};

// Preference pairs among the judged answers to each prompt (llm::PairsOf).
class PreferenceReader {
 public:
  PreferenceReader(FeedbackStore& store, PredictionFilter filter, PreferenceFormat format);
  Result<bool> Next(std::string& out);
  int64_t lines() const { return lines_; }

 private:
  void Flush(std::string& out);

  FeedbackStore& store_;
  PredictionFilter filter_;
  PreferenceFormat format_;
  std::optional<std::pair<std::string, int64_t>> after_;
  std::vector<PredictionRow> group_;
  int64_t lines_ = 0;
};

}  // namespace loupe::llm
