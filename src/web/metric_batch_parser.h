// Parses the body of POST /api/v1/experiments/{id}/metrics with simdjson:
//   {"seq": 7, "steps": [{"step": 0, "ts": 1700000000.25, "values": {"train/loss": 0.5}}]}
// Values are JSON numbers or the strings "NaN", "Infinity", "-Infinity" (also "inf",
// "-inf", "nan", any case). Errors name the exact place: steps[3].values["loss"].
// Key rules and limits beyond the JSON shape are the tracking service's.
#pragma once

#include <string>

#include "common/status.h"
#include "store/store_types.h"
#include "tracking/limits.h"

namespace loupe {

Status ParseMetricBatch(const std::string& body, const Limits& limits, MetricBatch& out);

}  // namespace loupe
