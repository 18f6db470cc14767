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
  llm.models().OnCreated([this] { suites_.Wake(); });
}

void EvalsModule::Serving(const std::string& base_url, const std::string& token) {
  llm::ModelRegistry& models = llm_.models();
  suites_.SetRunEndpoint([&models, base_url, token](int64_t session_id, int64_t run_id,
                                                    int64_t experiment_id) -> Result<int64_t> {
    const std::string url = base_url + "/api/v1/run/" + std::to_string(run_id) + "/v1";
    LOUPE_ASSIGN_OR_RETURN(std::vector<LlmModel> all, models.List());
    for (const LlmModel& m : all) {
      if (m.base_url == url) return m.id;  // registered before (a restart, or another suite)
    }
    nlohmann::json body = {{"name", "session " + std::to_string(session_id) + " run " + std::to_string(run_id)},
                           {"api", "openai"},
                           {"base_url", url},
                           {"model", "run-" + std::to_string(run_id)},
                           {"capabilities", {{"streaming", true}}}};
    if (!token.empty()) body["api_key"] = token;
    if (experiment_id > 0) body["experiment_id"] = experiment_id;
    Result<LlmModel> made = models.Create(body, "suite");
    if (!made.ok() && made.status().code() == Code::kConflict) {  // the name is someone else's
      body["name"] = body["name"].get<std::string>() + " (" + url + ")";
      made = models.Create(body, "suite");
    }
    if (!made.ok()) return made.status();
    return made->id;
  });
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
