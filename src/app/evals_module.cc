#include "app/evals_module.h"

#include <regex>

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

// Who registers the run endpoints: a name no user can have (user names hold no spaces), so
// only these models are re-pointed at start.
constexpr const char* kRunEndpointCreator = "loupe suites";

// "http://HOST:PORT/api/v1/run/ID/v1": the run id of a no-code run's chat endpoint, or 0.
static int64_t RunOfEndpoint(const std::string& url) {
  static const std::regex pattern(R"(^http://[^/]+/api/v1/run/([0-9]{1,18})/v1$)");
  std::smatch m;
  return std::regex_match(url, m, pattern) ? std::stoll(m[1].str()) : 0;
}

Status EvalsModule::ServeRunEndpoints() {
  if (self_url_.empty()) return Status::Ok();  // not serving (tests of the module alone)
  const std::string token = self_token_ ? self_token_() : "";
  llm::ModelRegistry& models = llm_.models();
  LOUPE_ASSIGN_OR_RETURN(std::vector<LlmModel> all, models.List());
  for (const LlmModel& m : all) {
    const int64_t run = RunOfEndpoint(m.base_url);
    if (m.created_by != kRunEndpointCreator || run == 0) continue;
    nlohmann::json patch = {{"base_url", self_url_ + "/api/v1/run/" + std::to_string(run) + "/v1"}};
    patch["api_key"] = token;  // the current local token ("": none, without sign-in)
    if (Result<LlmModel> moved = models.Update(m.id, patch, kRunEndpointCreator); !moved.ok()) {
      return Status::Internal("cannot point model '" + m.name + "' at this server: " + moved.status().message());
    }
  }
  const std::string base_url = self_url_;
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
    Result<LlmModel> made = models.Create(body, kRunEndpointCreator);
    if (!made.ok() && made.status().code() == Code::kConflict) {  // the name is someone else's
      body["name"] = body["name"].get<std::string>() + " (" + url + ")";
      made = models.Create(body, kRunEndpointCreator);
    }
    if (!made.ok()) return made.status();
    return made->id;
  });
  return Status::Ok();
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
