// ModelJob: trains a run (DashAI's flow: POST /api/v1/job/ {"job_type": "ModelJob",
// "kwargs": {"run_id": N}}). Queueing (or retrying) moves the run to DELIVERED with the
// job in one transaction, cancelling puts it back to NOT_STARTED, and a failure is kept
// on the run as well as on the job.
#pragma once

#include "jobs/job_queue.h"
#include "runs/run_service.h"

namespace loupe::jobs {

JobType ModelJob(runs::RunService& runs);

}  // namespace loupe::jobs
