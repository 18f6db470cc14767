// TrackingModule: experiment tracking (the native and SwanLab APIs, dashboard data,
// live events, the tracking pages) and its heartbeat monitor.
#pragma once

#include <memory>
#include <utility>

#include "app/module.h"
#include "store/tracking_store.h"
#include "tracking/tracking_service.h"
#include "ui/tracking_pages.h"
#include "web/live_events.h"

namespace loupe::app {

class TrackingModule final : public Module {
 public:
  TrackingModule(TrackingStore& store, const ServerConfig& config);
  const char* name() const override { return "tracking"; }
  void AddRoutes(std::vector<Route>& routes) override;
  void Stop() override;
  TrackingService& service() { return tracking_; }
  // Before AddRoutes: what other modules offer on an experiment's page.
  void SetExperimentLinks(ExperimentLinks links) { links_ = std::move(links); }

 private:
  TrackingService tracking_;
  LiveEvents live_;
  ExperimentLinks links_;
};

}  // namespace loupe::app
