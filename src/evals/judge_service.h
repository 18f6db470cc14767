// JudgeService: any registered model judges a recorded answer. The judge sees the
// conversation, the answer, and the context and reference answer when given
// (evals/judge_rubric.h), is called at temperature 0 (its call is a prediction of source
// "judge"), and must reply with the rubric's JSON: a malformed reply is asked again once,
// then recorded as a judge error with the raw text — never scored by guesswork. A verdict
// becomes judgments (source "llm") on the judged prediction: one per criterion, and
// "overall" (the mean share of each scale, on 1-10). Agreement() says how well a judge's
// scores follow people's on the same answers.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/thread_pool.h"
#include "evals/judge_rubric.h"
#include "llm/chat_service.h"
#include "store/chat_store.h"
#include "store/feedback_store.h"

namespace loupe::evals {

struct JudgeRequest {
  int64_t prediction_id = 0;
  int64_t judge_model_id = 0;
  Rubric rubric;
  std::string context;
  std::string reference;
  std::string by;
};

// Quadratic-weighted Cohen's kappa of two raters' categories 1..k, distances those of the
// scale even for a category nobody used (scikit-learn's cohen_kappa_score(weights=
// "quadratic", labels=[1..k])); nothing without pairs or when chance disagreement is zero.
std::optional<double> QuadraticWeightedKappa(const std::vector<int>& a, const std::vector<int>& b, int k);

// A judge's score on [min, max] as a category 1..5 (the scale people rate on).
int ToFivePoint(double score, double min, double max);

class JudgeService {
 public:
  JudgeService(ChatStore& chats, FeedbackStore& feedback, llm::ChatService& chat);
  ~JudgeService() { Stop(); }
  // Writes the verdicts still queued, then ends the writer thread; verdicts that arrive
  // later are written on the thread that brings them.
  void Stop();

  // {judge_model_id, rubric?: {name, criteria: [{name, description, min, max, pass_at}]},
  //  groundedness?: bool (the built-in rubric's; on when context is given), context?,
  //  reference?}. The judged prediction must have answered (outcome ok).
  Result<JudgeRequest> ParseRequest(int64_t prediction_id, const nlohmann::json& body, const std::string& by);

  // A batch run's judge, {judge_model_id, rubric?}: checked (the model exists and its key
  // can be read, the rubric is sound) when the run is created.
  Status CheckBatchJudge(const nlohmann::json& spec, const std::string& by);
  // The rubric of that spec for one case: its own, or the built-in one (with groundedness
  // when the case has context).
  Result<Rubric> BatchRubric(const nlohmann::json& spec, bool with_context);

  // Starts the judge. `done` is called once: on the judge's writer thread when the judge
  // has answered (the verdict or the judge error, both recorded: the HTTP client's thread
  // never waits for those commits), or at once when the call cannot start (no such model,
  // an unreadable key).
  void Start(const JudgeRequest& request, std::function<void(Result<nlohmann::json>)> done);

  // Per criterion people and a judge both scored on the same answers (a person's latest
  // rating or stars 1-5; the judge's latest score, as a category 1-5): n, Spearman's rho
  // and the quadratic-weighted kappa. `judge_model_id`: one judge's scores (else any).
  Result<nlohmann::json> Agreement(std::optional<int64_t> judge_model_id);

 private:
  struct Run;
  void Attempt(const std::shared_ptr<Run>& run);
  void Ended(const std::shared_ptr<Run>& run);
  void Judged(const std::shared_ptr<Run>& run);  // Ended's work, on the writer thread

  ChatStore& chats_;
  FeedbackStore& feedback_;
  llm::ChatService& chat_;
  std::mutex writer_mu_;
  std::unique_ptr<ThreadPool> writer_;  // one thread; null once stopped
};

}  // namespace loupe::evals
