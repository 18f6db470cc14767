#include "app/evals_module.h"

#include "ui/batch_pages.h"
#include "ui/comparison_pages.h"
#include "ui/suite_pages.h"
#include "web/batch_api.h"
#include "web/comparison_api.h"
#include "web/judge_api.h"
#include "web/suite_api.h"

namespace loupe::app {

EvalsModule::EvalsModule(ComparisonStore& comparisons, BatchStore& batches, SuiteStore& suites, ChatStore& chats,
                         FeedbackStore& feedback, LlmStore& models, LlmModule& llm)
    : llm_(llm),
      comparisons_(comparisons, feedback, models, llm.chat()),
      judges_(chats, feedback, llm.chat()),
      batches_(batches, chats, models, llm.chat(), judges_),
      suites_(suites, batches, models, batches_) {
  llm.models().OnCreated([this] { suites_.ModelCreated(); });
}

void EvalsModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, ComparisonApiRoutes(comparisons_, downloads_));
  AppendRoutes(routes, JudgeApiRoutes(judges_));
  AppendRoutes(routes, BatchApiRoutes(batches_, downloads_, evals::BatchOptions{}.max_cases));
  AppendRoutes(routes, BatchPageRoutes(batches_, llm_.models(), downloads_));
  AppendRoutes(routes, ComparisonPageRoutes(comparisons_, llm_.models()));
  AppendRoutes(routes, SuiteApiRoutes(suites_, llm_.models()));
  AppendRoutes(routes, SuitePageRoutes(suites_, llm_.models()));
}

}  // namespace loupe::app
