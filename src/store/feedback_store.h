// FeedbackStore: finding predictions again (filters, full-text search, paging) and the
// judgments attached to them — a person's thumbs and evaluations now, rules' and LLM
// judges' verdicts later, all in one table so they can be compared. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/chat_store.h"

namespace loupe {

// The seven failure tags of an evaluation.
inline const std::vector<std::string>& FailureTags() {
  static const std::vector<std::string> tags = {"hallucination", "wrong_tool",   "incomplete",   "incorrect_info",
                                                "off_topic",     "tone_issues",  "format_issues"};
  return tags;
}

struct PredictionFilter {
  std::string text;  // full-text search over the prompt and the response ("" : any)
  std::optional<int64_t> model_id;
  std::optional<int64_t> conversation_id;
  std::string outcome;        // ok | error | refused | cancelled ("" : any)
  std::string rating;         // up | down | rated | unrated ("" : any): the latest thumbs
  std::string failure_tag;    // one of FailureTags() ("" : any)
  std::string source;         // chat | comparison | batch | judge ("" : any)
  std::optional<int64_t> since;  // micros, inclusive
  std::optional<int64_t> until;  // micros, exclusive
  std::vector<int64_t> ids;      // only these (empty : any)
  std::string sort = "time";     // time | latency | cost | ttft
  bool ascending = false;
  int64_t limit = 50;
  int64_t offset = 0;
  std::optional<int64_t> after_id;  // keyset paging for exports: ids above this, ascending by id
};

// A prediction as lists show it, with its latest human thumbs and stars.
struct PredictionRow {
  Prediction p;
  std::optional<int64_t> thumbs;  // +1 | -1
  std::optional<double> stars;    // the latest evaluation's stars
  std::vector<std::string> failure_tags;
  std::string evaluation_json;  // the latest evaluation by a person: its evidence ("" : none)
};

struct Judgment {
  int64_t id = 0;
  int64_t prediction_id = 0;
  std::optional<int64_t> model_id;  // the model version judged (the prediction's)
  std::string model_name;
  std::string source = "human";  // human | rule | llm
  std::string criterion;         // thumbs | evaluation | a rule's or judge's name
  std::optional<double> score;   // thumbs: 1 or 0; evaluation: stars 1-5
  std::optional<bool> passed;    // thumbs: up; evaluation: success
  std::vector<std::string> tags; // failure tags
  std::string evidence_json = "{}";
  std::string created_by;
  int64_t create_time = 0;
  int64_t update_time = 0;
};

struct FeedbackFilter {
  std::optional<int64_t> model_id;
  std::optional<int64_t> since;  // micros
  std::optional<int64_t> until;
  std::string failure_tag;
  std::string text;  // predictions whose prompt or response matches
  int64_t bucket_micros = 86400LL * 1000000;  // trend buckets (a day or a week)
  int64_t bucket_offset_micros = 0;           // where buckets start (weeks: Mondays, 4 days after the epoch)
};

struct ModelFeedback {
  std::optional<int64_t> model_id;
  std::string model_name;
  int64_t predictions = 0;
  int64_t thumbs_up = 0;
  int64_t thumbs_down = 0;
  int64_t evaluations = 0;
  double stars_sum = 0;
  int64_t stars_count = 0;
  int64_t successes = 0;  // evaluations that said success
  int64_t success_answers = 0;  // evaluations that said anything about success
  std::vector<std::pair<std::string, int64_t>> tags;  // evaluations carrying each tag
};

struct FeedbackBucket {
  int64_t start = 0;  // micros
  std::optional<int64_t> model_id;
  std::string model_name;
  int64_t thumbs_up = 0;
  int64_t thumbs_down = 0;
  double stars_sum = 0;
  int64_t stars_count = 0;
};

struct FeedbackSummary {
  std::vector<ModelFeedback> models;
  std::vector<FeedbackBucket> trend;
};

class FeedbackStore {
 public:
  virtual ~FeedbackStore() = default;
  virtual Result<std::vector<PredictionRow>> ListPredictions(const PredictionFilter& f) = 0;
  // How many predictions the filter matches (limit and offset ignored).
  virtual Result<int64_t> CountPredictions(const PredictionFilter& f) = 0;

  // A person's judgment of a criterion replaces their earlier one of the same criterion
  // on the same prediction (a second thumbs is a change of mind, not a second vote);
  // other sources always add. NotFound for a missing prediction.
  virtual Result<Judgment> PutJudgment(const Judgment& j) = 0;
  // Several, in one transaction (a judge's verdict: a judgment per criterion).
  virtual Result<std::vector<Judgment>> PutJudgments(const std::vector<Judgment>& judgments) = 0;
  // The judgments of `source` (without their tags) on any of the predictions, by id.
  virtual Result<std::vector<Judgment>> JudgmentsOfMany(const std::vector<int64_t>& prediction_ids,
                                                        const std::string& source) = 0;
  // A person takes back their judgment of a criterion; NotFound when there was none.
  virtual Status RemoveJudgment(int64_t prediction_id, const std::string& criterion, const std::string& by) = 0;
  virtual Result<std::vector<Judgment>> JudgmentsOf(int64_t prediction_id) = 0;
  // Judgments in time order with their predictions, for exports and history queries;
  // `after_id` pages by judgment id.
  virtual Result<std::vector<std::pair<Judgment, Prediction>>> ListJudgments(const FeedbackFilter& f, int64_t after_id,
                                                                              int64_t limit) = 0;
  virtual Result<FeedbackSummary> SummarizeFeedback(const FeedbackFilter& f) = 0;
  // Predictions judged by a person (thumbs or evaluation) ordered by their prompt, then
  // id, for preference pairs: the judged answers to one prompt come together.
  // `after` pages by (prompt, id).
  virtual Result<std::vector<PredictionRow>> ListJudgedByPrompt(const PredictionFilter& f,
                                                                const std::optional<std::pair<std::string, int64_t>>& after,
                                                                int64_t limit) = 0;
};

}  // namespace loupe
