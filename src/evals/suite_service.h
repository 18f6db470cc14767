// SuiteService: regression suites. A suite is a named test set (a batch run's cases,
// assertions, validators, judge and options) with a pass threshold: the share of cases
// that must pass. Each run of it is a batch run against one model, so it has the batch
// run's parallelism, progress, restart safety and exports.
//
// A suite runs on demand (the API, the page, `loupe eval run` in CI); on a schedule (every
// N minutes, first at once: against the newest version of its base model); and by itself
// when a new version of its base model is registered — a model whose lineage (base model,
// its base, ...) reaches the suite's base model. Which models were considered is stored
// with the suite in the same transaction that starts their runs, so a restart neither
// misses a version nor runs one twice.
//
// A run's result compares it with the previous version's: the latest finished run of the
// suite on an earlier-registered model of the lineage, else the latest earlier finished
// run on the same model (a suite without a base model: its latest earlier finished run). Cases are matched by their messages; newly failing cases come
// first, then newly passing ones; the A/B statistics of the two runs on the cases both
// decided follow (evals/ab_compare.h: McNemar on pass/fail, Wilcoxon on judge scores). A case passes when the model answered, every check
// passed and (with a judge) the judge passed it — a judge error is not a pass.
//
// A suite may also follow a no-code model session: every run of it that finishes after the
// suite is made (in whatever order; again when it is trained again) is registered as a
// model endpoint (the run's OpenAI-compatible chat endpoint, web/run_chat_api.h) and
// tested, reason new_run; the batch run keeps which finish it tested.
//
// Thread-safe; one thread starts scheduled, new-version and new-run runs (woken by
// Wake(), each minute, and every 5 s while a suite follows a session).
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "evals/batch_service.h"
#include "store/batch_store.h"
#include "store/llm_store.h"
#include "store/suite_store.h"

namespace loupe::evals {

// When a suite that runs every `minutes` and last ran at `last` (micros; 0: never) runs
// next: at once when it never ran, else one interval after its last run.
int64_t NextScheduledRun(int64_t last, int64_t minutes);

// Whether `model` is `base` or descends from it through base_model_id links (cycles and
// chains longer than 64 are cut).
bool InLineage(int64_t model, int64_t base, const std::vector<LlmModel>& models);

// One case of a finished or running suite run, as the comparison sees it.
struct SuiteCase {
  std::string key;  // the messages and assertions as JSON, and which repeat: how cases are matched across runs
  int64_t position = 0;
  std::string prompt;
  bool answered = false;
  bool passed = false;
  std::string why;  // what failed: the error, the checks, or the judge
  std::optional<double> judge_score;
};

// `now` against `before` (the baseline): newly failing, newly passing, still failing, and
// cases the baseline lacked. Pure, for tests.
nlohmann::json DiffSuiteRuns(const std::vector<SuiteCase>& now, const std::vector<SuiteCase>* before);

class SuiteService {
 public:
  SuiteService(SuiteStore& store, BatchStore& batches_store, LlmStore& models, BatchService& batches);
  ~SuiteService();

  // {name, description?, threshold?: 0-1 (0.9), base_model_id?, session_id?, schedule_minutes?: 0 |
  //  5-525600, test_set: {cases, system?, params?, validators?, judge?, concurrency?, rpm?,
  //  cache? (false), max_latency_ms?, max_cost_usd?}}. A schedule needs a base model.
  Result<EvalSuite> Create(const nlohmann::json& body, const std::string& by);
  Result<EvalSuite> Update(int64_t id, const nlohmann::json& patch, const std::string& by);
  Status Delete(int64_t id) { return store_.DeleteSuite(id); }
  Result<nlohmann::json> Get(int64_t id);
  Result<nlohmann::json> List();
  Result<EvalSuite> Find(const std::string& name) { return store_.GetSuiteByName(name); }
  // Starts a run against `model_id`; `reason`: manual or ci; `threshold`: the bar this run
  // is judged against (kept with it), when not the suite's.
  Result<BatchRun> Run(int64_t suite_id, int64_t model_id, const std::string& reason, const std::string& by,
                       std::optional<double> threshold = std::nullopt);
  // The run's progress, score, verdict against the threshold and the diff against the
  // previous version. InvalidArgument when the run is not the suite's.
  Result<nlohmann::json> RunResult(int64_t suite_id, int64_t run_id);
  Result<nlohmann::json> Runs(int64_t suite_id, int64_t limit);
  // Per model version of the lineage (in registration order), its latest finished run's
  // score: what the benchmark-tracking chart plots.
  Result<nlohmann::json> History(int64_t suite_id);

  // Something changed (a model registered, a suite made or changed): the scheduler looks
  // for runs to start now rather than at its next tick.
  void Wake();
  // How a no-code run becomes a model endpoint (registered once, found after): the model's
  // id. Set once the server listens (the endpoint is the server's own URL); until then,
  // suites on a session wait.
  using RunEndpoint = std::function<Result<int64_t>(int64_t session_id, int64_t run_id, int64_t experiment_id)>;
  void SetRunEndpoint(RunEndpoint f);
  void Start();
  void Stop();

 private:
  struct Scored {
    BatchRun run;
    std::vector<SuiteCase> cases;
    int64_t passed = 0;
    int64_t errors = 0;  // cases whose call failed
  };
  Result<Scored> Score(const BatchRun& run);
  Result<std::optional<BatchRun>> Baseline(const EvalSuite& suite, const BatchRun& run);
  nlohmann::json SuiteJson(const EvalSuite& s);
  Status Apply(const nlohmann::json& body, EvalSuite& s, const std::string& by, bool creating);
  Result<BatchRun> StartRun(const EvalSuite& suite, int64_t model_id, const std::string& reason,
                                   const std::string& by, int64_t trigger_id = 0,
                                   std::optional<double> threshold = std::nullopt, int64_t trigger_time = 0);
  void RunSessions(const std::vector<EvalSuite>& suites);
  void Loop();
  bool Tick();  // whether a suite follows a no-code session (the next look comes sooner)

  SuiteStore& store_;
  BatchStore& batches_store_;
  LlmStore& models_;
  BatchService& batches_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool poke_ = false;
  RunEndpoint run_endpoint_;  // guarded by mu_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace loupe::evals
