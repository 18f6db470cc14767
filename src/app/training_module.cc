#include "app/training_module.h"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "jobs/dataset_job.h"
#include "jobs/explorer_job.h"
#include "jobs/model_job.h"
#include "training/memory_estimate.h"
#include "ui/model_pages.h"
#include "web/api_routes.h"
#include "web/run_chat_api.h"

namespace loupe::app {

namespace {
runs::RunServiceOptions RunOptionsFrom(const ServerConfig& config) {
  runs::RunServiceOptions o;
  o.data_dir = config.data_dir;
  // Each job worker may use its share of the cores, so parallel jobs do not oversubscribe.
  o.threads_per_job = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, config.workers));
  o.training_memory_bytes = static_cast<uint64_t>(std::max<int64_t>(0, config.training_memory_mb)) << 20;
  return o;
}
}  // namespace

int64_t DefaultTrainingMemoryMb() {
  return static_cast<int64_t>(training::DefaultTrainingMemoryBudget(training::PhysicalMemoryBytes()) >> 20);
}

TrainingModule::TrainingModule(Store& store, datasets::DatasetService& datasets, TrackingService& tracking,
                               const ServerConfig& config)
    : datasets_(datasets),
      memory_budget_mb_(std::max<int64_t>(0, config.training_memory_mb)),
      runs_(store, datasets, tracking, RunOptionsFrom(config)),
      explorers_(store, datasets),
      jobs_(store, {config.workers}) {
  jobs_.Register("DatasetJob", jobs::DatasetJob(datasets_));
  jobs_.Register("ModelJob", jobs::ModelJob(runs_));
  jobs_.Register("ExplorerJob", jobs::ExplorerJob(explorers_));
}

void TrainingModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, JobApiRoutes(jobs_));
  AppendRoutes(routes, ModelApiRoutes(runs_, jobs_));
  AppendRoutes(routes, RunChatApiRoutes(runs_));
  AppendRoutes(routes, ExplorerApiRoutes(explorers_, jobs_));
  AppendRoutes(routes, ModelPageRoutes(runs_, datasets_));
}

Status TrainingModule::Start() {
  if (memory_budget_mb_ > 0) {
    spdlog::info("training runs estimated above {} MiB of memory are refused (--training-memory-mb)", memory_budget_mb_);
  } else {
    spdlog::warn("training runs are not limited by their estimated memory (--training-memory-mb 0)");
  }
  LOUPE_RETURN_IF_ERROR(runs_.RecoverInterrupted());
  LOUPE_RETURN_IF_ERROR(explorers_.RecoverInterrupted());
  return jobs_.Start();
}

void TrainingModule::Stop() { jobs_.Stop(); }

}  // namespace loupe::app
