// Fuzz target: the metric batch parser (web/metric_batch_parser.h), the body of
// POST /api/v1/experiments/{id}/metrics, the server's hottest path.
// Input: the request body as sent. Checks, beyond "no crash, leak or UB": an accepted
// batch never holds more points than the limit, and every point's step is in range.
// Seeds: fuzz/corpus/metric_batch/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <string>

#include "web/metric_batch_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const loupe::Limits limits = [] {
    loupe::Limits l;
    l.max_points_per_request = 1000;  // small, so the limit itself is reached too
    return l;
  }();
  const std::string body(reinterpret_cast<const char*>(data), size);
  loupe::MetricBatch batch;
  loupe::Status st = loupe::ParseMetricBatch(body, limits, batch);
  if (st.ok()) {
    if (batch.points.size() > limits.max_points_per_request) std::abort();
    for (const loupe::MetricPoint& p : batch.points) {
      if (p.step < 0 || p.ts < 0) std::abort();
    }
  }
  return 0;
}
