// ComparisonStore: the comparison lab — prompts answered by 2-4 models side by side, the
// column order each row was shown in (blind rows are shuffled, so position bias can be
// measured), and each row's decision (one preferred over the rejected, or a tie). The
// answers are predictions (store/chat_store.h) and per-answer ratings are judgments
// (store/feedback_store.h); a cell links its row to its prediction. Thread-safe; writes
// are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/chat_store.h"

namespace loupe {

struct Comparison {
  int64_t id = 0;
  std::string title;
  bool blind = false;
  bool revealed = false;
  std::vector<int64_t> model_ids;       // as chosen
  std::vector<std::string> model_names;  // at creation (a model renamed later keeps its column)
  std::string system;                    // "" : each model's default
  std::string params_json = "{}";        // sampling parameters over each model's defaults
  std::string created_by;
  int64_t create_time = 0;
  // Filled by reads.
  int64_t rows = 0;
  int64_t cells = 0;
  int64_t answered = 0;  // cells with a prediction
  int64_t decided = 0;   // rows preferred or tied
  int64_t ties = 0;
};

struct ComparisonCell {
  int64_t id = 0;
  int64_t row_id = 0;
  int64_t model_id = 0;
  std::string model_name;
  std::optional<Prediction> prediction;  // none while the call runs
};

struct ComparisonRow {
  int64_t id = 0;
  int64_t comparison_id = 0;
  int64_t position = 0;               // 0-based, the prompt's place in the list
  std::string prompt;
  std::vector<int64_t> order;         // model ids left to right as the row is shown
  std::string decision;               // "" | prefer | tie
  std::optional<int64_t> preferred;   // prefer: the model preferred
  std::vector<int64_t> rejected;      // prefer: the models it was preferred over
  bool decided_blind = false;         // the names were hidden when it was decided
  std::string decided_by;
  int64_t decided_time = 0;
  std::vector<ComparisonCell> cells;  // in `order`
};

struct RowDecision {
  std::string decision;  // "" (undecided) | prefer | tie
  std::optional<int64_t> preferred;
  std::vector<int64_t> rejected;
  bool blind = false;
  std::string by;
  int64_t time = 0;
};

// A cell whose call has not been recorded (for running and for resuming after a restart).
struct PendingCell {
  int64_t cell_id = 0;
  int64_t comparison_id = 0;
  int64_t model_id = 0;
  std::string prompt;
};

class ComparisonStore {
 public:
  virtual ~ComparisonStore() = default;
  // The comparison, its rows (prompt and shown order each) and a pending cell per row and
  // model, in one transaction. NotFound for a model that does not exist.
  virtual Result<Comparison> CreateComparison(const Comparison& c, const std::vector<ComparisonRow>& rows) = 0;
  virtual Result<Comparison> GetComparison(int64_t id) = 0;
  // Newest first.
  virtual Result<std::vector<Comparison>> ListComparisons(int64_t limit, int64_t offset) = 0;
  virtual Result<int64_t> CountComparisons() = 0;
  // Rows by position with their cells and answers; `decided_only` for exports and the
  // leaderboard. `comparison_id` 0: every comparison's rows (by comparison, then position).
  virtual Result<std::vector<ComparisonRow>> ListComparisonRows(int64_t comparison_id, bool decided_only,
                                                                int64_t after_row_id, int64_t limit) = 0;
  virtual Result<ComparisonRow> GetComparisonRow(int64_t row_id) = 0;
  // The prediction of a cell's call and the cell's link to it, in one transaction.
  // Conflict when the cell already has one (a call never counts twice); a cell deleted
  // meanwhile (its comparison was) keeps the prediction alone.
  virtual Result<int64_t> RecordComparisonAnswer(int64_t cell_id, const Prediction& p) = 0;
  // Cells without an answer: of one comparison, or of all (0), oldest first.
  virtual Result<std::vector<PendingCell>> PendingComparisonCells(int64_t comparison_id) = 0;
  virtual Status DecideComparisonRow(int64_t row_id, const RowDecision& d) = 0;
  virtual Status RevealComparison(int64_t id) = 0;
  // With its rows and cells; the predictions and their judgments stay.
  virtual Status DeleteComparison(int64_t id) = 0;
};

}  // namespace loupe
