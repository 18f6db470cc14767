// StreamWorkers: long downloads (exports of many rows) produced on threads of their own,
// at most a few at once, each writing only as fast as its client reads (EventStream::
// WaitBelow). Stop() asks running ones to end and joins them before the stores go.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "web/http_types.h"

namespace loupe {

// Fills `chunk` with the next piece of a download; false once there is no more.
using ChunkSource = std::function<Result<bool>(std::string& chunk)>;

class StreamWorkers {
 public:
  explicit StreamWorkers(size_t max_running = 4) : max_running_(max_running) {}
  ~StreamWorkers() { Stop(); }

  // Writes `source`'s chunks to `stream` until done, the client leaves or Stop();
  // Unavailable when `max_running` downloads are already running.
  Status Start(std::shared_ptr<EventStream> stream, ChunkSource source);
  void Stop();
  // A download may start: the check made before the response's headers go out.
  bool HasRoom();

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void Reap();  // joins finished workers; callers hold mu_

  size_t max_running_;
  std::mutex mu_;
  std::list<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
};

}  // namespace loupe
