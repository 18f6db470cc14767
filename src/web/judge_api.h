// The LLM judge's API (judge_api.cc): POST /api/v1/llm/predictions/{id}/judge answers
// when the judge has (the response is held open meanwhile, no thread waits), and
// GET /api/v1/llm/judges/agreement compares a judge's scores with people's.
#pragma once

#include <vector>

#include "evals/judge_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> JudgeApiRoutes(evals::JudgeService& judges);

}  // namespace loupe
