// Batch tests' API under /api/v1/batches (batch_api.cc): a test set parsed, runs created,
// read, paged, cancelled, resumed, deleted, and their results downloaded (CSV, JSONL)
// by `workers`.
#pragma once

#include <cstddef>
#include <vector>

#include "evals/batch_service.h"
#include "web/http_types.h"
#include "web/stream_workers.h"

namespace loupe {

std::vector<Route> BatchApiRoutes(evals::BatchService& batches, StreamWorkers& workers, size_t max_cases);

}  // namespace loupe
