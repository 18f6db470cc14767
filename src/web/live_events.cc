#include "web/live_events.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "web/json_util.h"

namespace loupe {

LiveEvents::LiveEvents(TrackingService& tracking, LiveEventsOptions options)
    : tracking_(tracking), options_(options), thread_([this] { Loop(); }) {}

LiveEvents::~LiveEvents() { Shutdown(); }

void LiveEvents::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Watcher> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rest.swap(watchers_);
  }
  for (Watcher& w : rest) w.stream->Close();
}

void LiveEvents::Watch(int64_t experiment_id, std::shared_ptr<EventStream> stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      stream->Close();
      return;
    }
  }
  auto now = std::chrono::steady_clock::now();
  // The retry hint makes EventSource reconnect after 1 s when a stream ends.
  if (!stream->Send("retry: 1000\n\n")) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    watchers_.push_back({experiment_id, std::move(stream), "", now, now});
  }
  cv_.notify_all();  // the first snapshot goes out at once
}

size_t LiveEvents::watcher_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return watchers_.size();
}

Result<std::string> LiveEvents::Snapshot(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Experiment e, tracking_.GetExperiment(experiment_id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<Series> series, tracking_.ListSeries(experiment_id));
  LOUPE_ASSIGN_OR_RETURN(int64_t lines, tracking_.CountConsole(experiment_id));
  nlohmann::json keys = nlohmann::json::array();
  for (const Series& s : series) {
    keys.push_back({s.key, s.type, s.last_step, s.version, s.chart_id});
  }
  nlohmann::json snap = {{"status", RunStatusName(e.status)}, {"finish_time", e.finish_time},
                         {"keys", keys}, {"console_lines", lines}};
  return snap.dump();
}

void LiveEvents::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    cv_.wait_for(lock, options_.interval);
  }
}

void LiveEvents::Tick() {
  std::vector<Watcher> work;
  {
    std::lock_guard<std::mutex> lock(mu_);
    work.swap(watchers_);
  }
  auto now = std::chrono::steady_clock::now();
  std::map<int64_t, Result<std::string>> snapshots;
  std::vector<Watcher> keep;
  for (Watcher& w : work) {
    if (now - w.opened > options_.max_stream_age) {
      w.stream->Close();
      continue;
    }
    auto it = snapshots.find(w.experiment_id);
    if (it == snapshots.end()) it = snapshots.emplace(w.experiment_id, Snapshot(w.experiment_id)).first;
    bool alive = true;
    if (!it->second.ok()) {
      w.stream->Send("event: gone\ndata: " + nlohmann::json(it->second.status().message()).dump() + "\n\n");
      w.stream->Close();
      continue;
    }
    if (*it->second != w.last_sent) {
      alive = w.stream->Send("data: " + *it->second + "\n\n");
      w.last_sent = *it->second;
      w.last_write = now;
    } else if (now - w.last_write > options_.keepalive) {
      alive = w.stream->Send(": keepalive\n\n");
      w.last_write = now;
    }
    if (alive) keep.push_back(std::move(w));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (Watcher& w : watchers_) keep.push_back(std::move(w));  // joined during the tick
  watchers_.swap(keep);
}

std::vector<Route> LiveEventRoutes(TrackingService& tracking, LiveEvents& live) {
  std::vector<Route> r;
  Route route;
  route.method = "GET";
  route.pattern = "/api/v1/experiments/:id/events";
  route.stream = [&tracking, &live](const HttpRequest& req) {
    StreamStart st;
    const std::string* text = req.Param("id");
    int64_t id = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
    if (ec != std::errc() || end != text->data() + text->size()) {
      st.error = JsonError(Status::InvalidArgument("experiment id must be an integer"));
      return st;
    }
    Result<Experiment> e = tracking.GetExperiment(id);
    if (!e.ok()) {
      st.error = JsonError(e.status());
      return st;
    }
    st.on_open = [&live, id](std::shared_ptr<EventStream> stream) { live.Watch(id, std::move(stream)); };
    return st;
  };
  r.push_back(std::move(route));
  return r;
}

}  // namespace loupe
