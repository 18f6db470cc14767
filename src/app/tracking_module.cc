#include "app/tracking_module.h"

#include "ui/tracking_pages.h"
#include "web/api_routes.h"

namespace loupe::app {

namespace {
TrackingOptions OptionsFrom(const ServerConfig& config) {
  TrackingOptions o;
  o.data_dir = config.data_dir;
  o.heartbeat_timeout_seconds = config.heartbeat_timeout_seconds;
  return o;
}
}  // namespace

TrackingModule::TrackingModule(TrackingStore& store, const ServerConfig& config)
    : tracking_(store, OptionsFrom(config)), live_(tracking_) {}

void TrackingModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, NativeApiRoutes(tracking_));
  AppendRoutes(routes, SwanlabApiRoutes(tracking_));
  AppendRoutes(routes, DashboardApiRoutes(tracking_));
  AppendRoutes(routes, TrackingPageRoutes(tracking_));
  AppendRoutes(routes, LiveEventRoutes(tracking_, live_));
}

void TrackingModule::Stop() { live_.Shutdown(); }

}  // namespace loupe::app
