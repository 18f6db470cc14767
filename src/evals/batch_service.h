// BatchService: batch tests. A test set (uploaded as CSV or JSONL: a prompt or messages,
// the expected output, labels, context, per-row assertions) runs against 1-8 models with
// real parallelism: at most `concurrency` calls in flight per model and run, at most
// `provider_concurrency` per provider (base URL) across runs, requests-per-minute limits
// per model, retries (429/5xx, by the chat call). Every answer is a prediction (source
// "batch") checked by the row's assertions and the run's validators, plus latency and
// cost limits. A response cache keyed by the model's endpoint, parameters and messages
// answers a re-run without calling (errors are never cached).
//
// Runs are stored with their status: one cancelled keeps its pending cells for Resume(),
// and one running when the server stopped runs on after the restart (calls a stop cut
// short are kept as cancelled predictions and asked again). Thread-safe; one scheduler
// thread starts calls, the HTTP client's thread checks their answers, one recorder thread
// writes them (all that wait, in one transaction).
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "evals/judge_service.h"
#include "llm/chat_service.h"
#include "store/batch_store.h"
#include "store/llm_store.h"

namespace loupe::evals {

struct BatchOptions {
  size_t max_cases = 10000;
  size_t max_models = 8;
  size_t max_message_bytes = 32 << 10;
  int max_concurrency = 64;           // per model and run, as a run may ask
  int provider_concurrency = 64;      // per provider (base URL), across runs
  size_t fetch = 2000;                // pending cells read at a time
};

// Cases from an uploaded test set: CSV (a header row; columns prompt, expected, labels
// (separated by ';' or '|'), context, assertions (a JSON list)) or JSONL (one object a
// line: prompt or messages [{role, content}], expected, labels [..] or text, context,
// assertions [..]). InvalidArgument naming the line or row that is wrong.
Result<nlohmann::json> ParseTestSet(const std::string& file_name, const std::string& bytes, size_t max_cases);

class BatchService {
 public:
  BatchService(BatchStore& store, ChatStore& chats, LlmStore& models, llm::ChatService& chat, JudgeService& judges,
               BatchOptions options = {});
  ~BatchService();

  // {title?, model_ids: [1-8], cases: [{prompt | messages, expected?, labels?, context?,
  //  assertions?}] (1-10,000), system?, params?, concurrency?: 1-64 (8), rpm?: per model
  //  (0: none), cache?: true, validators?: [...] (every case), max_latency_ms?,
  //  max_cost_usd?, judge?: {judge_model_id, rubric?}}: stored with every cell pending;
  //  the calls start at once. With a judge, every answer is judged too (the case's
  //  context and expected output shown to it), within the same limits on the judge model.
  //  A regression suite's run (`suite`) is marked with it and why it ran.
  struct SuiteLink {
    int64_t suite_id = 0;
    std::string reason;
    int64_t trigger_id = 0;    // new_run: the no-code run tested
    int64_t trigger_time = 0;  // ... and the finish tested (micros)
    std::optional<double> threshold;  // the bar this run is judged against, when not the suite's
  };
  Result<BatchRun> Create(const nlohmann::json& body, const std::string& by, const SuiteLink& suite);
  Result<BatchRun> Create(const nlohmann::json& body, const std::string& by) { return Create(body, by, SuiteLink{}); }
  // Whether `body` is a valid run but for its models and title (a suite's test set), as
  // Create() would find it.
  Status CheckTestSet(const nlohmann::json& body, const std::string& by);
  Status Resume();  // at start: runs that were running go on
  void Stop();
  Status Cancel(int64_t id);
  Status Continue(int64_t id);
  Status Delete(int64_t id);

  // The run with its progress and (`summary`) the per-model summary, which reads every
  // answer: pollers that want the progress alone leave it out.
  Result<nlohmann::json> Get(int64_t id, bool summary = true);
  Result<nlohmann::json> List(int64_t limit, int64_t offset);
  // Model `a` against model `b` on the run's cases (evals/ab_compare.h): pass rates,
  // McNemar, latency by Wilcoxon, Holm, verdicts. InvalidArgument for a model the run
  // did not ask.
  Result<nlohmann::json> Compare(int64_t id, int64_t a, int64_t b);
  // A page of results (answered only, or all) by case, then model.
  Result<nlohmann::json> Results(int64_t id, bool answered_only, int64_t after_cell, int64_t limit);

  BatchStore& store() { return store_; }

 private:
  struct Parsed {
    BatchRun run;  // title, model ids and options
    std::vector<BatchCase> cases;
  };
  Result<Parsed> Parse(const nlohmann::json& body, const std::string& by, bool need_models);
  struct Queued {
    PendingBatchCell cell;
    int64_t model = 0;  // the model called: the cell's, or the judge's for judge work
    std::string provider;
  };
  void Schedule();
  bool Fill();  // reads pending cells; false when there are none to read
  void StartCell(const Queued& q, const nlohmann::json& options);
  void StartJudge(const Queued& q, const nlohmann::json& options);
  // Answers are written by the recorder thread, all that wait in one transaction, so the
  // HTTP client's thread never waits for a commit; a cell ends once its answer is stored.
  struct PendingWrite {
    BatchWrite write;
    int64_t run_id = 0;
    int64_t model = 0;
    std::string provider;
  };
  void Record(PendingWrite w);
  void Write(std::vector<PendingWrite>& batch);
  void RecordLoop();
  void Ended(int64_t cell_id, int64_t run_id, int64_t model_id, const std::string& provider);
  Result<nlohmann::json> OptionsOf(int64_t run_id);

  BatchStore& store_;
  ChatStore& chats_;
  LlmStore& models_;
  llm::ChatService& chat_;
  JudgeService& judges_;
  BatchOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  std::set<int64_t> known_;  // cells queued or running
  std::map<std::pair<int64_t, int64_t>, int> in_flight_;  // (run, model) -> calls
  std::map<std::string, int> provider_in_flight_;
  std::map<std::pair<int64_t, int64_t>, int64_t> next_start_micros_;  // requests-per-minute pacing
  std::map<int64_t, std::vector<std::weak_ptr<llm::ChatCall>>> calls_;  // run -> running calls
  std::map<int64_t, nlohmann::json> run_options_;  // cache of runs' options
  std::set<int64_t> stopped_runs_;  // cancelled or deleted since their cells were read
  bool more_ = false;  // the store may hold pending cells not read yet (from Resume() on: keys are readable then)
  bool stopping_ = false;
  std::thread scheduler_;

  std::mutex record_mu_;
  std::condition_variable record_wake_;
  std::vector<PendingWrite> record_queue_;
  bool record_stopping_ = false;
  std::thread recorder_;
};

}  // namespace loupe::evals
