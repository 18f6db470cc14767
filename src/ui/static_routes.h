// GET /static/<name>: the embedded CSS/JS files, cacheable for a year (pages link
// them with ?v=<version>, so a new binary busts the cache).
#pragma once

#include <vector>

#include "web/http_types.h"

namespace loupe {

std::vector<Route> StaticRoutes();

}  // namespace loupe
