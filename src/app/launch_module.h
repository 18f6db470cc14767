// LaunchModule: training jobs Loupe launches and supervises (issue 14) — the service and
// its supervisor thread, the API, the jobs pages, and a link from a job's run to its job.
// Built after TrackingModule (jobs log to runs); stopped before it. The jobs keep running
// while Loupe is down and are found again at the next start.
#pragma once

#include <functional>
#include <string>

#include "app/module.h"
#include "auth/auth_service.h"
#include "auth/secret_service.h"
#include "launch/launch_service.h"
#include "store/artifact_store.h"
#include "store/launch_store.h"
#include "tracking/tracking_service.h"
#include "ui/tracking_pages.h"

namespace loupe::app {

class LaunchModule final : public Module {
 public:
  LaunchModule(LaunchStore& store, ArtifactStore& artifacts, TrackingService& tracking, auth::AuthService& auth,
               auth::SecretService& secrets, const ServerConfig& config);
  const char* name() const override { return "launch"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Jobs' SDKs reach this server at `base_url` with the local token `token()` gives ("":
  // none, without sign-in). Set before Start().
  void SetSelf(const std::string& base_url, std::function<std::string()> token);
  Status Start() override { return launches_.Start(); }
  void Stop() override { launches_.Stop(); }
  launch::LaunchService& service() { return launches_; }
  // "Job 3: running" on a launched run's page.
  ExperimentLinks JobLinks();

 private:
  std::function<std::string()> token_;
  launch::LaunchService launches_;
};

}  // namespace loupe::app
