#include "app/artifacts_module.h"

#include <spdlog/spdlog.h>

#include "ui/artifact_pages.h"
#include "web/api_routes.h"

namespace loupe::app {

namespace {
artifacts::ArtifactOptions OptionsFrom(const ServerConfig& config) {
  artifacts::ArtifactOptions o;
  o.data_dir = config.data_dir;
  o.min_free_bytes = static_cast<uint64_t>(config.min_free_mb) << 20;
  return o;
}
}  // namespace

ArtifactsModule::ArtifactsModule(ArtifactStore& store, const ServerConfig& config)
    : artifacts_(store, OptionsFrom(config)) {
  // Before the server listens, so no upload is between its blobs and its commit.
  Result<int> swept = artifacts_.Sweep();
  if (!swept.ok()) {
    spdlog::warn("artifact blob sweep failed: {}", swept.status().message());
  } else if (*swept > 0) {
    spdlog::info("removed {} artifact blob(s) no version refers to", *swept);
  }
}

void ArtifactsModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, ArtifactApiRoutes(artifacts_));
  AppendRoutes(routes, ArtifactPageRoutes(artifacts_));
}

}  // namespace loupe::app
