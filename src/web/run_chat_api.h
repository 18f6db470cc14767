// A trained no-code run as an OpenAI-compatible chat endpoint (run_chat_api.cc), so any
// OpenAI client — and Loupe's own model registry, batch tests, comparisons and regression
// suites — can call it: POST /api/v1/run/{id}/v1/chat/completions answers the last user
// message's prediction (a class label, or a number for regression), streamed or whole;
// GET /api/v1/run/{id}/v1/models lists it. A run of one input column reads the message as
// that column's value; a run of several reads it as a JSON object of columns.
#pragma once

#include <vector>

#include "runs/run_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> RunChatApiRoutes(runs::RunService& runs);

}  // namespace loupe
