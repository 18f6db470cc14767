// ExplorerJob: computes an exploration ({"explorer_id": N}).
#pragma once

#include "explorers/explorer_service.h"
#include "jobs/job_queue.h"

namespace loupe::jobs {

JobHandler ExplorerJob(explorers::ExplorerService& explorers);

}  // namespace loupe::jobs
