// SuiteStore: regression suites — a named test set (a batch run's cases and options, as
// JSON) with a pass threshold, optionally tied to a base model whose new versions (models
// fine-tuned from it, directly or not) it runs on, and a schedule. The suite's runs are
// batch runs marked with it (store/batch_store.h). Thread-safe; writes are durable when
// they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/batch_store.h"

namespace loupe {

struct EvalSuite {
  int64_t id = 0;
  std::string name;  // unique
  std::string description;
  std::optional<int64_t> base_model_id;
  double threshold = 0.9;            // the share of cases that must pass
  std::string test_set_json = "{}";  // {cases, system?, params?, validators?, judge?, ...}: a batch run's body
                                     // (left empty by ListSuites())
  int64_t cases = 0;                 // in the test set
  bool judged = false;               // the test set has a judge
  std::string last_error;            // why the last automatic run could not start; "" once one has
  std::optional<int64_t> session_id; // a no-code model session: its runs that finish are tested
  int64_t session_since = 0;         // micros: runs finishing from then on (set with session_id)
  int64_t schedule_minutes = 0;      // 0: no schedule
  int64_t last_scheduled = 0;        // micros
  int64_t model_watermark = 0;       // models up to this id were considered
  std::string created_by;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct SessionRunToTest {
  int64_t run_id = 0;
  int64_t experiment_id = 0;
  int64_t end_time = 0;  // micros: the finish to test
};

class SuiteStore {
 public:
  virtual ~SuiteStore() = default;
  // Stored with its watermark at the highest model id now registered and session_since at
  // its create time (the models and finished runs that exist are not new). Conflict for a
  // name in use; NotFound for a base model or session that does not exist.
  virtual Result<EvalSuite> CreateSuite(const EvalSuite& s) = 0;
  // Replaces name, description, base model, session, threshold, test set and schedule. A
  // base model that changes moves the watermark to the newest model, and a session that
  // changes its session_since to the update time, as at creation: what exists then is not new.
  virtual Status UpdateSuite(const EvalSuite& s) = 0;
  virtual Result<EvalSuite> GetSuite(int64_t id) = 0;
  virtual Result<EvalSuite> GetSuiteByName(const std::string& name) = 0;
  // Every suite, by name, without its test set.
  virtual Result<std::vector<EvalSuite>> ListSuites() = 0;
  // The suite's runs stay, as batch runs of no suite.
  virtual Status DeleteSuite(int64_t id) = 0;
  // The suite's runs, newest first.
  virtual Result<std::vector<BatchRun>> ListSuiteRuns(int64_t suite_id, int64_t limit) = 0;
  // The suite's finished runs, newest first, as (run id, model id): what a baseline is
  // chosen from, without counting their cells.
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> FinishedSuiteRuns(int64_t suite_id, int64_t limit) = 0;
  // Models up to `model_id` were considered (none of them in the suite's lineage, or, with
  // `error`, one that could not be run, and why).
  virtual Status AdvanceSuiteWatermark(int64_t suite_id, int64_t model_id, const std::string& error = "") = 0;
  virtual Status SetSuiteError(int64_t suite_id, const std::string& error) = 0;
  // The runs of the suite's session that finished from its session_since on and that no
  // run of the suite has tested in that finish yet (by finish time, at most `limit`).
  virtual Result<std::vector<SessionRunToTest>> SessionRunsToTest(const EvalSuite& suite, int64_t limit) = 0;
};

}  // namespace loupe
