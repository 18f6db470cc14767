// The HTTP surface as plain values, independent of the server library: handlers
// take an HttpRequest and return an HttpResponse. Only web/http_server.cc knows
// RESTinio, so routes are testable without a socket and cheap to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loupe {

// Who made a request, as the access gate (auth/request_gate.h) established it.
struct Caller {
  bool known = false;  // false: no credential was checked (a public route)
  int64_t user_id = 0;
  std::string user;
  std::string role;      // admin, editor, viewer
  int64_t token_id = 0;  // the API token used; 0 for a browser session
  std::string session;   // the session cookie's value, when a session was used
};

// Who may call a route. kDefault: kRead for GET, kWrite for any other method.
enum class Access { kDefault, kPublic, kRead, kWrite, kAdmin };

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;
  std::map<std::string, std::string> params;  // from the route pattern
  std::map<std::string, std::string> query;   // decoded query string
  std::string content_type;
  std::string if_none_match;  // the If-None-Match header, for conditional GETs
  std::string body;
  // What the access gate reads: the headers that name the origin and carry credentials.
  std::string host;            // Host
  std::string origin;          // Origin
  std::string sec_fetch_site;  // Sec-Fetch-Site
  std::string cookie;          // Cookie
  std::string authorization;   // Authorization
  std::string forwarded_proto; // X-Forwarded-Proto, set by a TLS-terminating proxy
  std::string remote;          // the peer's address
  std::string raw_query;       // the query string as sent (for redirects back to a page)
  Caller caller;

  const std::string* Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  }
  const std::string* Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this file, sent from disk (downloads larger than memory should
  // hold); the file must not change while it is sent.
  std::string file_path;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// A server-sent-events response the server keeps open. Send() and Close() may be
// called from any thread; Send() returns false once the client is gone.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual bool Send(std::string data) = 0;
  virtual void Close() = 0;
  // Blocks until fewer than `bytes` sent are still waiting for the client, so a producer
  // faster than the network holds at most that much; false when the client is gone or
  // `timeout_ms` passed.
  virtual bool WaitBelow(size_t bytes, int64_t timeout_ms) = 0;
};

// A streaming route either refuses at once (`error`) or is handed its open stream.
// Server-sent events by default; a download (an export) names its own type and headers.
struct StreamStart {
  std::optional<HttpResponse> error;
  std::function<void(std::shared_ptr<EventStream>)> on_open;
  std::string content_type = "text/event-stream; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};
using StreamHandler = std::function<StreamStart(const HttpRequest&)>;

struct Route {
  std::string method;
  std::string pattern;  // express-style: /api/v1/experiment/:id/tag/:tag(.*)
  Handler handler;
  StreamHandler stream;  // set instead of `handler` for text/event-stream routes
  // CPU-heavy work (parsing an upload, training-data preparation, predictions): runs on
  // the server's compute pool, so the HTTP threads stay free for ingest and heartbeats.
  bool offload = false;
  Access access = Access::kDefault;
  // Changes made through this route go to the audit log; off for a training script's
  // stream of metrics, console lines and heartbeats, which the run itself records.
  bool audit = true;

  Access EffectiveAccess() const {
    if (access != Access::kDefault) return access;
    return method == "GET" ? Access::kRead : Access::kWrite;
  }
};

inline Route Offload(Route r) {
  r.offload = true;
  return r;
}
inline Route WithAccess(Access a, Route r) {
  r.access = a;
  return r;
}
inline Route NotAudited(Route r) {
  r.audit = false;
  return r;
}
// A POST that only reads (a prediction, a validation): viewers may call it.
inline Route ReadingPost(Route r) {
  r.access = Access::kRead;
  r.audit = false;
  return r;
}

// Runs before every routed request: may refuse it (the response) or fill `caller`.
using RequestGate = std::function<std::optional<HttpResponse>(HttpRequest&, const Route&)>;
// Runs after a request was answered (the audit log).
using RequestDone = std::function<void(const HttpRequest&, const Route&, const HttpResponse&)>;

}  // namespace loupe
