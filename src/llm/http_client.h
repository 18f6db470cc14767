// HttpClient: outbound HTTP calls (to model providers), many at once on one thread
// through libcurl's multi socket interface (an epoll set; only a ready connection is
// visited), so 64 streaming answers need no 64 threads. A call's
// callbacks run on that thread, in order: on_head once (before the first body bytes),
// on_body per received piece, on_done exactly once. Callbacks must return quickly.
// Submit and Cancel may be called from any thread. Only http and https URLs; redirects
// are not followed (an API key must not travel to another host).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loupe::llm {

// "host:port" of a URL (the scheme's port when it names none), for messages and for
// telling hosts apart; the URL itself when it does not parse.
std::string HostPortOf(const std::string& url);

struct OutboundRequest {
  std::string method = "POST";  // GET or POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t connect_timeout_ms = 10000;  // DNS, TCP and TLS
  int64_t timeout_ms = 300000;         // the whole call
  int64_t idle_timeout_s = 60;         // no byte received for this long: timed out
  int64_t delay_ms = 0;                // start no sooner than this (a retry's backoff)
};

struct ResponseHead {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; the last value wins
};

struct OutboundCallbacks {
  std::function<bool(const ResponseHead&)> on_head;  // false: abort the call (Cancelled)
  std::function<bool(std::string_view)> on_body;     // false: abort the call (Cancelled)
  // OK once the body ended; otherwise why not (the user-facing reason: host, timeout, ...).
  // `status` is the HTTP status when a response head arrived, else 0.
  std::function<void(const Status&, long status)> on_done;
  // About once a second while the call is in flight, data or not; false: abort the call
  // (Cancelled). Lets a relay notice that its own reader went away while the provider is
  // silent.
  std::function<bool()> on_tick;
};

class OutboundCall {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// A whole response, for Fetch().
struct FetchResult {
  ResponseHead head;
  std::string body;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();  // cancels what is in flight (their on_done runs with Cancelled) and joins
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // After Shutdown() a call ends at once with Cancelled (its on_done runs on the caller's thread).
  std::shared_ptr<OutboundCall> Submit(OutboundRequest request, OutboundCallbacks callbacks);
  // Cancels every call (their on_done run with Cancelled) and stops the thread; idempotent.
  void Shutdown();
  // Blocks for a whole response of at most `max_body_bytes` (TooLarge beyond); an HTTP
  // error status is a result, not an error.
  Result<FetchResult> Fetch(OutboundRequest request, size_t max_body_bytes = 8 << 20);

  size_t in_flight() const { return in_flight_.load(); }

 private:
  struct Transfer;
  void Loop();
  void Wake();

  void* multi_ = nullptr;  // CURLM*
  int epoll_fd_ = -1;      // the sockets curl waits on, and wake_fd_
  int wake_fd_ = -1;       // an eventfd: Submit and Shutdown wake the loop
  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> pending_;  // submitted, not yet added
  bool stopping_ = false;
  std::atomic<size_t> in_flight_{0};
  std::thread thread_;
};

}  // namespace loupe::llm
