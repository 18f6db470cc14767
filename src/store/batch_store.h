// BatchStore: batch tests — a test set's cases (a prompt or messages, the expected output,
// labels, context, assertions) run against one or more models, a cell per case and model.
// A cell's answer is a prediction (a cached one is the earlier prediction, linked again),
// with the assertions' results. The run's status is kept, so a run that was running when
// the server stopped runs on after the restart. Thread-safe; writes are durable when
// they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/chat_store.h"

namespace loupe {

struct BatchRun {
  int64_t id = 0;
  std::string title;
  std::vector<int64_t> model_ids;
  std::vector<std::string> model_names;  // at creation
  std::string status;                    // running | cancelled | done
  std::string options_json = "{}";       // system, params, limits, cache, validators, judge
  std::string created_by;
  int64_t create_time = 0;
  int64_t finish_time = 0;  // 0 while not done
  // A regression suite's run (store/suite_store.h): the suite, and why it ran (manual,
  // schedule, new_version, ci).
  std::optional<int64_t> suite_id;
  std::string reason;
  int64_t trigger_id = 0;    // new_run: the no-code run tested
  int64_t trigger_time = 0;  // ... and the finish (micros) tested
  // Filled by reads.
  int64_t cases = 0;
  int64_t cells = 0;
  int64_t answered = 0;  // cells with a result
  int64_t ok = 0;        // ... whose call answered
  int64_t cached = 0;    // ... from the cache
  int64_t passed = 0;    // ... whose assertions all passed (cells without assertions count)
  int64_t judging = 0;   // answers waiting for the judge
  int64_t judged = 0;    // answers the judge has scored (or failed to)
  int64_t fully_passed = 0;           // ... whose checks passed and, when judged, the judge passed
  std::optional<double> judge_mean;   // the judge's mean overall score
};

struct BatchCase {
  int64_t id = 0;
  int64_t position = 0;
  std::string messages_json;  // [{role, content}], the prompt as sent (system prompt aside)
  std::string expected;
  std::string labels_json = "[]";
  std::string context;
  std::string assertions_json = "[]";  // validators' descriptions
};

struct BatchCell {
  int64_t id = 0;
  int64_t run_id = 0;
  int64_t case_id = 0;
  int64_t model_id = 0;
  std::string model_name;
  std::optional<Prediction> prediction;  // none while pending
  bool cached = false;
  std::string checks_json = "[]";  // the assertions' results
  std::optional<bool> passed;
  std::string judge;  // "" (not asked) | "pending" | the verdict's JSON
  std::optional<double> judge_score;  // the verdict's overall (1-10)
  std::optional<bool> judge_passed;
};

struct BatchResult {
  BatchCase c;
  BatchCell cell;
};

// A cell to run, with what its call needs; or (`judge_prediction`) its answer to judge.
struct PendingBatchCell {
  int64_t cell_id = 0;
  int64_t run_id = 0;
  int64_t model_id = 0;
  BatchCase c;
  std::optional<int64_t> judge_prediction;
};

// One cell's result, as RecordBatchResults() writes it.
struct BatchWrite {
  int64_t cell_id = 0;
  Prediction p;
  bool cached = false;
  std::string checks_json = "[]";
  std::optional<bool> passed;
  std::string cache_key;  // kept for a later run's cache (not by a cached cell)
  bool judge = false;
};

class BatchStore {
 public:
  virtual ~BatchStore() = default;
  // The run (status running), its cases and a pending cell per case and model, in one
  // transaction. NotFound for a model (or suite) that does not exist. A suite's run moves
  // the suite's marks in the same transaction, so a restart never runs it twice: reason
  // new_version raises its model watermark to the model's id, schedule sets its
  // last_scheduled to the run's create time; a new_run keeps the finish it tested.
  virtual Result<BatchRun> CreateBatchRun(const BatchRun& run, const std::vector<BatchCase>& cases) = 0;
  virtual Result<BatchRun> GetBatchRun(int64_t id) = 0;
  virtual Result<std::vector<BatchRun>> ListBatchRuns(int64_t limit, int64_t offset) = 0;
  // Results by case position, then model order; `answered_only` leaves pending cells out.
  virtual Result<std::vector<BatchResult>> ListBatchResults(int64_t run_id, bool answered_only, int64_t after_cell,
                                                            int64_t limit) = 0;
  // Pending cells of running runs (of one run, or all: 0), in case order: those to ask,
  // then answers waiting for the judge.
  virtual Result<std::vector<PendingBatchCell>> PendingBatchCells(int64_t run_id, int64_t limit) = 0;
  // Cells' results, in one transaction: each a new prediction (`p.id` 0, inserted) or a
  // cached one (`p.id` set) with its checks (`judge`: the answer waits for the judge); a
  // cell that has its result already (or is gone with its run) keeps it, and the new
  // prediction is kept alone. A run is done when nothing is left to ask or judge.
  virtual Status RecordBatchResults(const std::vector<BatchWrite>& writes, int64_t now) = 0;
  // The judge's verdict (or error, `score` unset) on a cell's answer.
  virtual Status RecordBatchJudge(int64_t cell_id, const std::string& verdict_json, std::optional<double> score,
                                  std::optional<bool> passed, int64_t now) = 0;
  // The latest answered (outcome ok) prediction stored under `cache_key` by a cell that
  // called the model itself.
  virtual Result<std::optional<int64_t>> FindCachedAnswer(const std::string& cache_key) = 0;
  // running -> cancelled (pending cells wait), cancelled -> running (they run on).
  virtual Status SetBatchRunStatus(int64_t id, const std::string& status, int64_t now) = 0;
  virtual Status DeleteBatchRun(int64_t id) = 0;
};

}  // namespace loupe
