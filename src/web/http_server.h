// HttpServer: serves a route table over HTTP/1.1 (RESTinio underneath) on a pool of
// threads. Start() binds and returns an error when the address is taken, so the
// caller can report it; Run() serves until Stop() (safe from any thread or a
// signal-watching thread) and returns after in-flight requests are answered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "web/http_types.h"

namespace loupe {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port; port() says which after Start()
  int threads = 4;  // handler threads; writes block on the group commit, so > cores
  // Bodies above this are refused with 413 by the HTTP layer before they are read (on
  // Content-Length, or as a chunked body passes it); the handlers answer bodies between
  // their own limits and this one with 413.
  uint64_t hard_body_limit = 96ull << 20;
  // Request bodies held in memory at once, over all connections; one that does not fit is
  // answered 503 (Retry-After: 1) before it is read. Never below twice hard_body_limit (a
  // chunked body's buffer counts twice while it grows).
  uint64_t max_body_memory = 512ull << 20;
  // Longer request targets are answered 414; more or longer header fields 431 (the request
  // line and headers together may also not pass 80 KiB, http_parser's own limit).
  size_t max_url_bytes = 32u << 10;
  size_t max_header_value_bytes = 16u << 10;
  size_t max_header_fields = 100;
  // Requests slower than this are logged as warnings; 0: none.
  int slow_request_ms = 1000;
  // Threads for offloaded (CPU-heavy) routes, and how many such requests may wait;
  // beyond that they are answered 503 at once. 0 threads: one per core.
  int compute_threads = 0;
  size_t compute_queue = 64;
  // Connections served at once; one more is answered 503 (Retry-After: 1) and closed.
  // 0: derived from the descriptor limit (raised to its hard maximum at start), leaving
  // room for the database, files and logs. Should descriptors run out anyway, accepting
  // pauses and resumes (10 ms doubling to 1 s) instead of stopping.
  size_t max_connections = 0;
  // Answers requests no route matched outside /api/ (an HTML page for people);
  // unset: the JSON 404 every /api path gets.
  Handler not_found;
  // Access control: runs before every routed request, and after it was answered.
  RequestGate gate;
  RequestDone done;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::vector<Route> routes);
  ~HttpServer();
  Status Start();
  uint16_t port() const;  // the port bound by Start()
  void Run();   // blocks until Stop()
  void Stop();  // idempotent; also stops on SIGINT/SIGTERM when WatchSignals() was called
  void WatchSignals();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loupe
