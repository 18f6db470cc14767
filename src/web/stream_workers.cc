#include "web/stream_workers.h"

#include <spdlog/spdlog.h>

#include "web/json_util.h"

namespace loupe {

namespace {
constexpr size_t kMaxUnsent = 1 << 20;       // bytes waiting for a client before the producer pauses
constexpr int64_t kStalledClientMs = 120000;  // a client that reads nothing this long is dropped
}  // namespace

void StreamWorkers::Reap() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

StreamWorkers::Slot::~Slot() {
  if (started_) return;
  std::lock_guard<std::mutex> lock(owner_.mu_);
  --owner_.reserved_;
}

std::shared_ptr<StreamWorkers::Slot> StreamWorkers::Reserve() {
  std::lock_guard<std::mutex> lock(mu_);
  Reap();
  if (stopping_.load() || workers_.size() + reserved_ >= max_running_) return nullptr;
  ++reserved_;
  return std::make_shared<Slot>(*this);
}

void StreamWorkers::Start(const std::shared_ptr<Slot>& slot, std::shared_ptr<EventStream> stream,
                          ChunkSource source) {
  std::lock_guard<std::mutex> lock(mu_);
  if (slot->started_) return;  // a place starts one download
  slot->started_ = true;
  --reserved_;
  Reap();
  if (stopping_.load()) {
    stream->Close();
    return;
  }
  auto w = std::make_unique<Worker>();
  Worker* raw = w.get();
  w->thread = std::thread([this, raw, stream = std::move(stream), source = std::move(source)] {
    std::string chunk;
    while (!stopping_.load()) {
      chunk.clear();
      Result<bool> more = Status::Ok();
      try {
        more = source(chunk);
      } catch (const std::exception& e) {
        more = Status::Internal(e.what());
      }
      if (!more.ok()) {
        // The status line went out with the first chunk: the error can only be logged.
        // RESTinio cannot abort a chunked response, so it ends here, short (a known gap).
        spdlog::error("a download failed midway: {}", more.status().ToString());
        stream->Close();
        break;
      }
      if (!chunk.empty() && (!stream->Send(std::move(chunk)) || !stream->WaitBelow(kMaxUnsent, kStalledClientMs))) break;
      if (!*more) {
        stream->Close();
        break;
      }
    }
    raw->done.store(true);
  });
  workers_.push_back(std::move(w));
}

void StreamWorkers::Stop() {
  stopping_.store(true);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& w : workers_) w->thread.join();
  workers_.clear();
}

StreamStart DownloadStream(StreamWorkers& workers, const std::string& type, const std::string& filename,
                           ChunkSource source) {
  StreamStart st;
  std::shared_ptr<StreamWorkers::Slot> slot = workers.Reserve();
  if (!slot) {
    st.error = JsonError(Status::Unavailable("too many downloads are running; try again when one ends"));
    return st;
  }
  st.content_type = type;
  st.headers = {{"Content-Disposition", "attachment; filename=\"" + filename + "\""},
                {"X-Content-Type-Options", "nosniff"}};
  st.on_open = [&workers, slot, source = std::move(source)](std::shared_ptr<EventStream> stream) {
    workers.Start(slot, std::move(stream), source);
  };
  return st;
}

StreamStart RefuseStream(const Status& s) {
  StreamStart st;
  st.error = JsonError(s);
  return st;
}

}  // namespace loupe
