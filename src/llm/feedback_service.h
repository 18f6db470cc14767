// FeedbackService: people's thumbs and evaluations of answers, automated verdicts, and
// what they add up to per model and over time. Every kind lands in the judgments table
// (store/feedback_store.h) with who judged, when, and the model version judged.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/status.h"
#include "store/feedback_store.h"

namespace loupe::llm {

// The Wilson score interval of a proportion (95 % by default); nullopt when n is 0.
struct Interval {
  double low = 0;
  double high = 0;
};
std::optional<Interval> WilsonInterval(int64_t successes, int64_t n, double z = 1.959963984540054);

nlohmann::json JudgmentJson(const Judgment& j);

class FeedbackService {
 public:
  explicit FeedbackService(FeedbackStore& store) : store_(store) {}

  // {"up": true|false}: the caller's thumbs on an answer (a second one replaces the first).
  Result<Judgment> Thumbs(int64_t prediction_id, const nlohmann::json& body, const std::string& by);
  // {stars 1-5, success, failure_tags [...], strengths, notes, expected, groundedness 0-100,
  //  citations [{source, correct}]}: at least one of them; the caller's evaluation.
  Result<Judgment> Evaluate(int64_t prediction_id, const nlohmann::json& body, const std::string& by);
  // {source: rule|llm, criterion, score?, passed?, evidence?}: an automated verdict.
  Result<Judgment> Judge(int64_t prediction_id, const nlohmann::json& body, const std::string& by);
  Status Remove(int64_t prediction_id, const std::string& criterion, const std::string& by) {
    return store_.RemoveJudgment(prediction_id, criterion, by);
  }

  // Per model: predictions, thumbs up/down with the up-rate's Wilson interval, stars,
  // success rate, failure tags as counts and shares of evaluations; and the trend.
  Result<nlohmann::json> Summary(const FeedbackFilter& f);

  FeedbackStore& store() { return store_; }

 private:
  FeedbackStore& store_;
};

}  // namespace loupe::llm
