// EvalsModule: automated evaluation over the LLM workbench's models — the comparison lab
// (its service and scheduler thread, API, pages), the LLM judge, batch tests (their
// scheduler thread, API, pages), and regression suites (their thread starts scheduled
// runs and runs on new model versions, which the model registry reports). Built after LlmModule, whose
// chat service makes the calls; stopped before it, so no call starts on a stopped client.
#pragma once

#include <functional>
#include <string>

#include "app/llm_module.h"
#include "app/module.h"
#include "evals/batch_service.h"
#include "evals/comparison_service.h"
#include "evals/judge_service.h"
#include "evals/suite_service.h"
#include "store/batch_store.h"
#include "store/chat_store.h"
#include "store/comparison_store.h"
#include "store/feedback_store.h"
#include "store/llm_store.h"
#include "store/suite_store.h"
#include "web/stream_workers.h"

namespace loupe::app {

class EvalsModule final : public Module {
 public:
  EvalsModule(ComparisonStore& comparisons, BatchStore& batches, SuiteStore& suites, ChatStore& chats,
              FeedbackStore& feedback, LlmStore& models, LlmModule& llm);
  const char* name() const override { return "evals"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Comparisons' answers and batch runs that a stop interrupted are asked again.
  Status Start() override {
    LOUPE_RETURN_IF_ERROR(ServeRunEndpoints());
    LOUPE_RETURN_IF_ERROR(comparisons_.Resume());
    LOUPE_RETURN_IF_ERROR(batches_.Resume());
    suites_.Start();
    return Status::Ok();
  }
  // The server listens at `base_url` (set before Start()): suites that follow a no-code
  // model session register each new finished run as a model endpoint there (its chat
  // endpoint), called with the local token `token()` gives ("" without sign-in). At start,
  // before any call, the endpoints registered so (created by "loupe suites") are pointed at this
  // address with the current token: a restart on another port never calls the old one.
  void SetSelf(const std::string& base_url, std::function<std::string()> token) {
    self_url_ = base_url;
    self_token_ = std::move(token);
  }
  void Stop() override {
    suites_.Stop();
    comparisons_.Stop();
    batches_.Stop();
    judges_.Stop();
    downloads_.Stop();
  }

 private:
  Status ServeRunEndpoints();

  std::string self_url_;
  std::function<std::string()> self_token_;
  LlmModule& llm_;
  evals::ComparisonService comparisons_;
  evals::JudgeService judges_;
  evals::BatchService batches_;
  evals::SuiteService suites_;
  StreamWorkers downloads_;
};

}  // namespace loupe::app
