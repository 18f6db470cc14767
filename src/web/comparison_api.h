// The comparison lab's API under /api/v1/comparisons (comparison_api.cc): create, list,
// read, rate answers, decide rows, reveal, delete, the leaderboard, and the preference
// pairs of decided rows (TRL, OpenAI DPO or a flat table) streamed by `workers`.
#pragma once

#include <vector>

#include "evals/comparison_service.h"
#include "web/http_types.h"
#include "web/stream_workers.h"

namespace loupe {

std::vector<Route> ComparisonApiRoutes(evals::ComparisonService& comparisons, StreamWorkers& workers);

}  // namespace loupe
