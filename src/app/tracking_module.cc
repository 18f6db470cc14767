#include "app/tracking_module.h"

#include <spdlog/spdlog.h>

#include "ui/tracking_pages.h"
#include "web/api_routes.h"

namespace loupe::app {

namespace {
TrackingOptions OptionsFrom(const ServerConfig& config) {
  TrackingOptions o;
  o.data_dir = config.data_dir;
  o.heartbeat_timeout_seconds = config.heartbeat_timeout_seconds;
  o.min_free_bytes = static_cast<uint64_t>(config.min_free_mb) << 20;
  return o;
}
}  // namespace

TrackingModule::TrackingModule(TrackingStore& store, const ServerConfig& config)
    : tracking_(store, OptionsFrom(config)), live_(tracking_) {
  // Before the server listens: an upload in flight writes its file before its row.
  if (Result<int> swept = tracking_.RemoveOrphanMedia(); !swept.ok()) {
    spdlog::warn("media orphan sweep failed: {}", swept.status().message());
  }
}

void TrackingModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, NativeApiRoutes(tracking_));
  AppendRoutes(routes, SwanlabApiRoutes(tracking_));
  AppendRoutes(routes, DashboardApiRoutes(tracking_));
  AppendRoutes(routes, SweepApiRoutes(tracking_));
  AppendRoutes(routes, TrackingPageRoutes(tracking_, links_));
  AppendRoutes(routes, LiveEventRoutes(tracking_, live_));
}

void TrackingModule::Stop() { live_.Shutdown(); }

}  // namespace loupe::app
