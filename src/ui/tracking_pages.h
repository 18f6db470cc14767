// The tracking pages: home (recent runs), projects, a project's experiments table
// (+ CSV), an experiment's charts, its console log, and the compare page. Pages are
// rendered on the server; charts and the console fetch their data from the JSON API.
#pragma once

#include <vector>

#include "tracking/tracking_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> TrackingPageRoutes(TrackingService& tracking);

}  // namespace loupe
