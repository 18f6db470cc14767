#include "app/training_module.h"

#include <algorithm>
#include <thread>

#include "jobs/dataset_job.h"
#include "jobs/explorer_job.h"
#include "jobs/model_job.h"
#include "ui/model_pages.h"
#include "web/api_routes.h"

namespace loupe::app {

namespace {
runs::RunServiceOptions RunOptionsFrom(const ServerConfig& config) {
  runs::RunServiceOptions o;
  o.data_dir = config.data_dir;
  // Each job worker may use its share of the cores, so parallel jobs do not oversubscribe.
  o.threads_per_job = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, config.workers));
  return o;
}
}  // namespace

TrainingModule::TrainingModule(Store& store, datasets::DatasetService& datasets, TrackingService& tracking,
                               const ServerConfig& config)
    : datasets_(datasets),
      runs_(store, datasets, tracking, RunOptionsFrom(config)),
      explorers_(store, datasets),
      jobs_(store, {config.workers}) {
  jobs_.Register("DatasetJob", jobs::DatasetJob(datasets_));
  jobs_.Register("ModelJob", jobs::ModelJob(runs_));
  jobs_.Register("ExplorerJob", jobs::ExplorerJob(explorers_));
}

void TrainingModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, JobApiRoutes(jobs_));
  AppendRoutes(routes, ModelApiRoutes(runs_));
  AppendRoutes(routes, ExplorerApiRoutes(explorers_, jobs_));
  AppendRoutes(routes, ModelPageRoutes(runs_, datasets_));
}

Status TrainingModule::Start() {
  LOUPE_RETURN_IF_ERROR(runs_.RecoverInterrupted());
  LOUPE_RETURN_IF_ERROR(explorers_.RecoverInterrupted());
  return jobs_.Start();
}

void TrainingModule::Stop() { jobs_.Stop(); }

}  // namespace loupe::app
