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

  // A download's place, taken before the response's headers go out and held until it
  // ends, so that a download answered 200 always has a worker; given back if dropped
  // unused (the client left before the stream opened).
  class Slot {
   public:
    explicit Slot(StreamWorkers& owner) : owner_(owner) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    friend class StreamWorkers;
    StreamWorkers& owner_;
    bool started_ = false;
  };

  // A place for one more download; null when `max_running` are running or about to.
  std::shared_ptr<Slot> Reserve();
  // Writes `source`'s chunks to `stream` until done, the client leaves or Stop(), on the
  // place `slot` holds (the stream is closed at once when the server is stopping).
  void Start(const std::shared_ptr<Slot>& slot, std::shared_ptr<EventStream> stream, ChunkSource source);
  void Stop();

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void Reap();  // joins finished workers; callers hold mu_

  size_t max_running_;
  std::mutex mu_;
  std::list<std::unique_ptr<Worker>> workers_;
  size_t reserved_ = 0;  // places taken and not yet started
  std::atomic<bool> stopping_{false};
};

// A download's response: `source`'s chunks as an attachment named `filename`, produced
// by one of `workers` (503 when they are all busy, decided before the headers go out).
StreamStart DownloadStream(StreamWorkers& workers, const std::string& type, const std::string& filename,
                           ChunkSource source);
// A streamed route's refusal, as a JSON error.
StreamStart RefuseStream(const Status& s);

}  // namespace loupe
