// Training jobs' API under /api/v1/launch (launch_api.cc): a job launched from a spec (a
// JSON object, or {"spec_text": YAML or JSON}; ?check=1 only checks it), listed, read with
// its segments, events, checkpoints, cost and budget, stopped, asked for a checkpoint, and
// resumed (from a checkpoint); the hourly prices local jobs are charged at; this machine's
// CPUs, memory and GPUs. Launching and resuming run a command on the server, so they take
// an admin; stopping and asking for a checkpoint an editor.
#pragma once

#include <vector>

#include "launch/launch_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> LaunchApiRoutes(launch::LaunchService& launches);

// The GPU picker's query (?min_memory_gb=&sort=&need_gb=), for the API and the page.
Result<launch::LaunchService::GpuPickerQuery> GpuPickerQueryOf(const HttpRequest& req);

}  // namespace loupe
