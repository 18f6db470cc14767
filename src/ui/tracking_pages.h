// The tracking pages: home (recent runs), projects, a project's experiments table
// (+ CSV), an experiment's charts, its console log, and the compare page. Pages are
// rendered on the server; charts and the console fetch their data from the JSON API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tracking/tracking_service.h"
#include "web/http_types.h"

namespace loupe {

// Actions other subsystems offer on an experiment's page ("Test in chat" for the LLM
// models a training experiment produced), so tracking needs no knowledge of them.
struct ExperimentLink {
  std::string label;
  std::string href;
  std::string title;
};
using ExperimentLinks = std::function<std::vector<ExperimentLink>(int64_t experiment_id)>;

std::vector<Route> TrackingPageRoutes(TrackingService& tracking, ExperimentLinks links = {});

}  // namespace loupe
