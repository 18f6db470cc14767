// The HTTP surface as plain values, independent of the server library: handlers
// take an HttpRequest and return an HttpResponse. Only web/http_server.cc knows
// RESTinio, so routes are testable without a socket and cheap to compile.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace loupe {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;
  std::map<std::string, std::string> params;  // from the route pattern
  std::map<std::string, std::string> query;   // decoded query string
  std::string content_type;
  std::string if_none_match;  // the If-None-Match header, for conditional GETs
  std::string body;

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
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// A server-sent-events response the server keeps open. Send() and Close() may be
// called from any thread; Send() returns false once the client is gone.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual bool Send(std::string data) = 0;
  virtual void Close() = 0;
};

// A streaming route either refuses at once (`error`) or is handed its open stream.
struct StreamStart {
  std::optional<HttpResponse> error;
  std::function<void(std::shared_ptr<EventStream>)> on_open;
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
};

inline Route Offload(Route r) {
  r.offload = true;
  return r;
}

}  // namespace loupe
