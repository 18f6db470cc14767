// LiveEvents: pushes an experiment's changes to open dashboards over server-sent
// events. One thread looks at every watched experiment a few times a second and
// sends a snapshot (status, each key's last step and version, console line count)
// to the streams that have not seen it. The page then re-fetches only what changed.
// Streams are closed after `max_stream_age`; EventSource reconnects by itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tracking/tracking_service.h"
#include "web/http_types.h"

namespace loupe {

struct LiveEventsOptions {
  std::chrono::milliseconds interval{500};
  std::chrono::seconds keepalive{15};
  std::chrono::seconds max_stream_age{50};
};

class LiveEvents {
 public:
  LiveEvents(TrackingService& tracking, LiveEventsOptions options = {});
  ~LiveEvents();

  void Watch(int64_t experiment_id, std::shared_ptr<EventStream> stream);
  // Stops the thread and ends every stream; call while the HTTP server still exists.
  void Shutdown();
  size_t watcher_count();

  // The snapshot the streams receive, as a JSON text (also used by tests).
  Result<std::string> Snapshot(int64_t experiment_id);

 private:
  struct Watcher {
    int64_t experiment_id;
    std::shared_ptr<EventStream> stream;
    std::string last_sent;
    std::chrono::steady_clock::time_point opened, last_write;
  };
  void Loop();
  void Tick();

  TrackingService& tracking_;
  LiveEventsOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<Watcher> watchers_;
  std::thread thread_;
};

// GET /api/v1/experiments/:id/events
std::vector<Route> LiveEventRoutes(TrackingService& tracking, LiveEvents& live);

}  // namespace loupe
