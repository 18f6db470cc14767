// ComparisonService: the comparison lab. A comparison asks 2-4 models every one of a
// list of prompts, the calls running in parallel (at most `max_parallel` at once across
// all comparisons); each answer is a prediction (source "comparison"). Blind rows show
// the answers in a shuffled order, recorded, so position bias can be measured. People
// rate answers (clarity, accuracy, conciseness, overall: 1-5, judgments on the answer's
// prediction) and decide rows (one preferred over the rejected, or a tie); decided rows
// give preference pairs and a Bradley-Terry leaderboard.
//
// Everything is stored: after a restart, Resume() runs the calls that had not ended.
// Thread-safe; one scheduler thread starts calls, the HTTP client's thread ends them.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "llm/chat_service.h"
#include "llm/training_export.h"
#include "store/comparison_store.h"
#include "store/feedback_store.h"
#include "store/llm_store.h"

namespace loupe::evals {

struct ComparisonOptions {
  size_t max_prompts = 500;
  size_t max_prompt_bytes = 32 << 10;
  size_t max_parallel = 16;  // calls in flight across every comparison
  int bootstrap = 1000;      // the leaderboard's resamples
};

// The four ratings of an answer, 1-5 each.
const std::vector<std::string>& RatingCriteria();

class ComparisonService {
 public:
  ComparisonService(ComparisonStore& store, FeedbackStore& feedback, LlmStore& models, llm::ChatService& chat,
                    ComparisonOptions options = {});
  ~ComparisonService();

  // {title?, model_ids: [2-4 distinct], prompts: [1-max_prompts strings], blind?: bool,
  //  system?, params?}: stored with every cell pending, then the calls start.
  Result<Comparison> Create(const nlohmann::json& body, const std::string& by);
  // The calls of every comparison that had not ended when the server stopped.
  Status Resume();
  // Ends the scheduler; calls in flight end with the HTTP client (their cells stay
  // pending for the next Resume()).
  void Stop();

  // The comparison with its summary (progress, decisions, position bias) and a page of
  // rows: `after_row` pages by row id. Names are hidden in a blind comparison until it is
  // revealed (columns are then "A", "B", ... in each row's shown order).
  Result<nlohmann::json> Get(int64_t id, int64_t after_row, int64_t limit);
  Result<nlohmann::json> List(int64_t limit, int64_t offset);

  // {clarity?, accuracy?, conciseness?, overall?: 1-5 or null to take back}: the caller's
  // ratings of the answer in `row_id`'s column for `model_id`... named by its `cell_id`.
  Result<nlohmann::json> Rate(int64_t comparison_id, int64_t cell_id, const nlohmann::json& body,
                              const std::string& by);
  // {decision: "prefer", preferred: cell_id, rejected?: [cell_id...]} (rejected: every
  // other answer by default), {decision: "tie"} or {decision: ""} (undecided).
  Result<nlohmann::json> Decide(int64_t comparison_id, int64_t row_id, const nlohmann::json& body,
                                const std::string& by);
  Status Reveal(int64_t id);
  Status Delete(int64_t id);

  // Bradley-Terry ratings with bootstrap 95% intervals, win-rate and battle-count
  // matrices, from every decided row (of one comparison, or of all: 0).
  Result<nlohmann::json> Leaderboard(int64_t comparison_id);

  // Model `a` against model `b` (default: the first two chosen) as people judged them on
  // the same prompts (evals/ab_compare.h CompareRatings): the preference by the sign test,
  // each rating criterion by Wilcoxon signed-rank, Holm across them, verdicts. Conflict
  // while blind; InvalidArgument for a model the comparison did not ask.
  Result<nlohmann::json> Ab(int64_t comparison_id, std::optional<int64_t> a, std::optional<int64_t> b);

  ComparisonStore& store() { return store_; }

 private:
  void Enqueue(const std::vector<PendingCell>& cells);
  void Schedule();  // the scheduler thread
  void StartCell(const PendingCell& cell);
  void Ended(int64_t cell_id);

  ComparisonStore& store_;
  FeedbackStore& feedback_;
  LlmStore& models_;
  llm::ChatService& chat_;
  ChatStore& chats_;
  ComparisonOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<PendingCell> queue_;
  std::set<int64_t> known_;  // cells queued or running
  std::map<int64_t, std::pair<int64_t, std::weak_ptr<llm::ChatCall>>> running_;  // cell -> comparison, call
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::thread scheduler_;
};

// Preference pairs of decided rows: one per (preferred, rejected) answer, both answered
// (outcome ok); ties and undecided rows give none. Pages by row id; one line per pair.
class ComparisonPreferenceReader {
 public:
  ComparisonPreferenceReader(ComparisonStore& store, int64_t comparison_id, llm::PreferenceFormat format);
  Result<bool> Next(std::string& out);
  int64_t lines() const { return lines_; }

 private:
  ComparisonStore& store_;
  int64_t comparison_id_;
  llm::PreferenceFormat format_;
  int64_t after_ = 0;
  int64_t lines_ = 0;
};

// The pairs of one decided row (for the reader and its tests).
std::vector<llm::PreferencePair> RowPreferencePairs(const ComparisonRow& row);

}  // namespace loupe::evals
