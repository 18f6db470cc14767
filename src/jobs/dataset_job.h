// DatasetJob: imports a dataset in the background (as DashAI does), from a file under
// the import root {"path", "name"?, "format"?} or a built-in sample {"sample"}.
#pragma once

#include "datasets/dataset_service.h"
#include "jobs/job_queue.h"

namespace loupe::jobs {

JobHandler DatasetJob(datasets::DatasetService& datasets);

}  // namespace loupe::jobs
