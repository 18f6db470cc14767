// ClaasModule: CLaaS's /v1/dashboard and /v1/eval pages over its data folder, and the
// importer thread that turns CLaaS files into experiments.
#pragma once

#include "app/module.h"
#include "claas/claas_importer.h"
#include "tracking/tracking_service.h"
#include "ui/claas_pages.h"

namespace loupe::app {

class ClaasModule final : public Module {
 public:
  ClaasModule(TrackingService& tracking, const ServerConfig& config);
  const char* name() const override { return "claas"; }
  void AddRoutes(std::vector<Route>& routes) override;
  Status Start() override;

 private:
  ClaasPageOptions pages_;
  claas::ClaasImporter importer_;
};

}  // namespace loupe::app
