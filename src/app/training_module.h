// TrainingModule: no-code training (model sessions, runs, explorers) and the persistent
// job queue that runs their work, with their API routes and pages.
#pragma once

#include "app/module.h"
#include "datasets/dataset_service.h"
#include "explorers/explorer_service.h"
#include "jobs/job_queue.h"
#include "runs/run_service.h"
#include "store/store.h"
#include "tracking/tracking_service.h"

namespace loupe::app {

class TrainingModule final : public Module {
 public:
  TrainingModule(Store& store, datasets::DatasetService& datasets, TrackingService& tracking,
                 const ServerConfig& config);
  const char* name() const override { return "training"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Marks work interrupted by an earlier crash, then starts the job workers.
  Status Start() override;
  // Finishes the running jobs (queued ones stay queued).
  void Stop() override;

 private:
  datasets::DatasetService& datasets_;
  int64_t memory_budget_mb_;
  runs::RunService runs_;
  explorers::ExplorerService explorers_;
  jobs::JobQueue jobs_;  // last: its workers stop before the services they call go
};

}  // namespace loupe::app
