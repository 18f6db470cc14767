// ArtifactsModule: versioned artifacts and the model registry, their API and pages.
#pragma once

#include "app/module.h"
#include "artifacts/artifact_service.h"
#include "store/artifact_store.h"

namespace loupe::app {

class ArtifactsModule final : public Module {
 public:
  ArtifactsModule(ArtifactStore& store, const ServerConfig& config);
  const char* name() const override { return "artifacts"; }
  void AddRoutes(std::vector<Route>& routes) override;
  artifacts::ArtifactService& service() { return artifacts_; }

 private:
  artifacts::ArtifactService artifacts_;
};

}  // namespace loupe::app
