// Training jobs' pages: /launch (the jobs with state, elapsed time and cost against the
// budget; the launch form that checks a spec before launching it; the hourly prices; this
// machine) and /launch/:id (a job's facts, stop, its state timeline and segments, followed
// live by static/launch.js through the /launch/:id/live fragment while it is active).
#pragma once

#include <string>
#include <vector>

#include "common/display_text.h"
#include "launch/launch_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> LaunchPageRoutes(launch::LaunchService& launches);

}  // namespace loupe
