// Batch tests' pages (batch_pages.cc): /llm/batch, /llm/batch/:id, and a run's
// self-contained HTML report, /llm/batch/:id/report (streamed by `workers`).
#pragma once

#include <vector>

#include "evals/batch_service.h"
#include "llm/model_registry.h"
#include "web/http_types.h"
#include "web/stream_workers.h"

namespace loupe {

std::vector<Route> BatchPageRoutes(evals::BatchService& batches, llm::ModelRegistry& models, StreamWorkers& workers);

}  // namespace loupe
