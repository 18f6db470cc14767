// The only translation unit that includes RESTinio.
#include "web/http_server.h"

#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <regex>
#include <set>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/thread_pool.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using Router = restinio::router::express_router_t<>;

// The router, behind a check of the path it is about to normalise: RESTinio throws on a
// %-escape that decodes to invalid UTF-8 (/projects/%FF), and a throw here drops the
// connection without an answer. Such a path is answered 400 instead.
class GuardedRouter {
 public:
  GuardedRouter(std::unique_ptr<Router> router, std::function<restinio::request_handling_status_t(
                                                     const restinio::request_handle_t&)> bad_path)
      : router_(std::move(router)), bad_path_(std::move(bad_path)) {}
  restinio::request_handling_status_t operator()(restinio::request_handle_t req) const {
    try {
      (void)restinio::utils::uri_normalization::unreserved_chars::estimate_required_capacity(req->header().path());
    } catch (const std::exception&) {
      return bad_path_(req);
    }
    return (*router_)(std::move(req));
  }

 private:
  std::unique_ptr<Router> router_;
  std::function<restinio::request_handling_status_t(const restinio::request_handle_t&)> bad_path_;
};

struct Traits : public restinio::default_traits_t {
  using request_handler_t = GuardedRouter;
  static constexpr bool use_connection_count_limiter = true;
};

}  // namespace
}  // namespace loupe

static_assert(RESTINIO_VERSION == RESTINIO_VERSION_MAKE(0ull, 6ull, 16ull),
              "third_party/restinio/ patches RESTinio 0.6.16");

// Loupe's connection limiter (web/restinio_ext.h) in place of RESTinio's: 503 beyond the cap.
template <>
struct restinio::connection_count_limit_types<loupe::Traits> {
  using limiter_t = restinio::loupe_ext::connection_limiter_t;
  using lifetime_monitor_t = restinio::loupe_ext::connection_lifetime_t;
};

namespace loupe {
namespace {

// Raises the soft descriptor limit to the hard one and returns how many connections
// fit under it, with 64 descriptors (or half of a small limit) kept for everything else.
size_t ConnectionCapFromDescriptorLimit() {
  struct rlimit lim {};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1000;
  if (lim.rlim_cur < lim.rlim_max) {
    struct rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? 1048576 : lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const rlim_t fds = lim.rlim_cur == RLIM_INFINITY ? 1048576 : lim.rlim_cur;
  const rlim_t cap = fds > 256 ? fds - 64 : fds / 2;
  return static_cast<size_t>(std::max<rlim_t>(cap, 4));
}
using Server = restinio::http_server_t<Traits>;

restinio::http_method_id_t MethodOf(const std::string& m) {
  if (m == "GET") return restinio::http_method_get();
  if (m == "POST") return restinio::http_method_post();
  if (m == "PUT") return restinio::http_method_put();
  if (m == "PATCH") return restinio::http_method_patch();
  if (m == "DELETE") return restinio::http_method_delete();
  return restinio::http_method_get();
}

std::vector<std::string> ParamNames(const std::string& pattern) {
  std::vector<std::string> names;
  static const std::regex re(":([A-Za-z_][A-Za-z0-9_]*)");
  for (auto it = std::sregex_iterator(pattern.begin(), pattern.end(), re); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

// What the access gate reads of a request's headers.
void ReadAccessHeaders(const restinio::http_request_header_t& h, HttpRequest& r) {
  r.raw_query = std::string(h.query());
  r.host = h.get_field_or(restinio::http_field::host, "");
  r.origin = h.get_field_or("Origin", "");
  r.sec_fetch_site = h.get_field_or("Sec-Fetch-Site", "");
  r.cookie = h.get_field_or(restinio::http_field::cookie, "");
  r.authorization = h.get_field_or(restinio::http_field::authorization, "");
  r.forwarded_proto = h.get_field_or("X-Forwarded-Proto", "");
}

// Every 5xx is logged with its cause; so is every request slower than `slow_ms`.
// A failing disk fails every write: at most 10 such lines a second keep the log readable.
LogLimiter errors_logged(10);

void LogRequest(const restinio::request_handle_t& req, const HttpResponse& r, double secs, int slow_ms) {
  int64_t held_back = 0;
  if (r.status >= 500 && errors_logged.Allow(held_back)) {
    spdlog::error("{} {} -> {}: {}{}", req->header().method().c_str(), req->header().path(), r.status,
                  std::string_view(r.body).substr(0, 1000),
                  held_back ? fmt::format(" ({} similar lines held back)", held_back) : std::string());
  }
  spdlog::debug("{} {} -> {} in {:.1f} ms", req->header().method().c_str(), req->header().path(), r.status,
                secs * 1000);
  if (slow_ms > 0 && secs * 1000 >= slow_ms) {
    spdlog::warn("slow request: {} {} took {:.0f} ms ({})", req->header().method().c_str(),
                 req->header().path(), secs * 1000, r.status);
  }
}

restinio::request_handling_status_t Respond(const restinio::request_handle_t& req, HttpResponse r,
                                            std::chrono::steady_clock::time_point start, bool api,
                                            int slow_ms = 0) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LogRequest(req, r, secs, slow_ms);
  auto resp = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(r.status)}, ""});
  if (!r.content_type.empty()) resp.append_header(restinio::http_field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) resp.append_header(k, v);
  if (api) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6f", secs);
    resp.append_header("SwanLab-Process-Time", buf);
    resp.append_header("SwanLab-Version", LOUPE_VERSION);
  }
  if (!r.file_path.empty()) {
    try {
      resp.set_body(restinio::sendfile(r.file_path));
    } catch (const std::exception& e) {
      spdlog::error("{} {}: cannot send a file: {}", req->header().method().c_str(), req->header().path(), e.what());
      auto failed = req->create_response(restinio::status_service_unavailable());
      failed.append_header(restinio::http_field::content_type, "application/json");
      failed.set_body(R"({"code":3503,"message":"the file to send cannot be opened; try again"})");
      return failed.done();
    }
    return resp.done();
  }
  resp.set_body(std::move(r.body));
  return resp.done();
}

class RestinioEventStream;

// Hands the chunks event streams gathered to their connections from an I/O thread, one
// pass for every stream with something new. Posting one flush per chunk woke an I/O
// thread per token (64 streamed answers: most of the relay's CPU went to futex
// wake-ups); chunks that arrive while a pass is queued ride on it.
class FlushBatcher {
 public:
  explicit FlushBatcher(asio::io_context& io) : io_(io) {}
  void Add(std::shared_ptr<RestinioEventStream> stream);

 private:
  void Run();
  asio::io_context& io_;
  std::mutex mu_;
  std::vector<std::shared_ptr<RestinioEventStream>> queued_;
};

// Holds a chunked RESTinio response open; Send() appends a chunk, written by the next
// flush pass.
class RestinioEventStream final : public EventStream, public std::enable_shared_from_this<RestinioEventStream> {
 public:
  using Builder = restinio::response_builder_t<restinio::chunked_output_t>;
  // `still_allowed` is asked again every few seconds: a stream opened with a credential
  // that was revoked since (a token, a session, a removed user) ends.
  RestinioEventStream(Builder builder, std::function<bool()> still_allowed, FlushBatcher& batcher)
      : builder_(std::move(builder)), still_allowed_(std::move(still_allowed)), batcher_(batcher) {}
  ~RestinioEventStream() override { Close(); }

  bool Send(std::string data) override {
    bool recheck = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      const auto now = std::chrono::steady_clock::now();
      if (still_allowed_ && now - checked_ > std::chrono::seconds(5)) {
        checked_ = now;
        recheck = true;
      }
    }
    // The credential is looked up again without the stream's lock: a flush pass on an
    // I/O thread (every stream's) does not wait behind a store read.
    if (recheck && !still_allowed_()) {
      Close();
      return false;
    }
    bool schedule = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      {
        std::lock_guard<std::mutex> f(flow_->mu);
        if (flow_->gone) return false;
      }
      const size_t n = data.size();
      {
        std::lock_guard<std::mutex> f(flow_->mu);
        flow_->pending += n;
      }
      unflushed_ += n;
      builder_->append_chunk(std::move(data));
      schedule = !flush_queued_;
      flush_queued_ = true;
    }
    if (schedule) batcher_.Add(shared_from_this());
    return true;
  }

  // On an I/O thread, from the batcher: the chunks appended since the last pass.
  void FlushQueued() {
    std::lock_guard<std::mutex> lock(mu_);
    flush_queued_ = false;
    if (closed_ || unflushed_ == 0) return;  // done() wrote what Close() found
    const size_t n = std::exchange(unflushed_, 0);
    builder_->flush([flow = flow_, n](const asio::error_code& ec) {
      std::lock_guard<std::mutex> f(flow->mu);
      if (ec) flow->gone = true;
      flow->pending -= std::min(flow->pending, n);
      flow->drained.notify_all();
    });
  }

  bool WaitBelow(size_t bytes, int64_t timeout_ms) override {
    std::unique_lock<std::mutex> f(flow_->mu);
    return flow_->drained.wait_for(f, std::chrono::milliseconds(timeout_ms),
                                   [&] { return flow_->gone || flow_->pending < bytes; }) &&
           !flow_->gone;
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    // done() writes the chunks not yet flushed before the end; they leave the flow's
    // count with the connection, so nobody waits on them.
    if (unflushed_ > 0) {
      std::lock_guard<std::mutex> f(flow_->mu);
      flow_->pending -= std::min(flow_->pending, std::exchange(unflushed_, 0));
      flow_->drained.notify_all();
    }
    builder_->done();
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  bool flush_queued_ = false;  // a batcher pass will flush this stream
  size_t unflushed_ = 0;       // bytes appended since the last flush
  // Bytes handed to the connection and not yet written, and whether a write failed.
  struct Flow {
    std::mutex mu;
    std::condition_variable drained;
    size_t pending = 0;
    bool gone = false;
  };
  std::shared_ptr<Flow> flow_ = std::make_shared<Flow>();
  std::optional<Builder> builder_;
  std::function<bool()> still_allowed_;
  FlushBatcher& batcher_;
  std::chrono::steady_clock::time_point checked_ = std::chrono::steady_clock::now();
};

void FlushBatcher::Add(std::shared_ptr<RestinioEventStream> stream) {
  bool post;
  {
    std::lock_guard<std::mutex> lock(mu_);
    post = queued_.empty();
    queued_.push_back(std::move(stream));
  }
  if (post) asio::post(io_, [this] { Run(); });
}

void FlushBatcher::Run() {
  std::vector<std::shared_ptr<RestinioEventStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams.swap(queued_);
  }
  for (auto& s : streams) s->FlushQueued();
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  asio::io_context ioctx;
  FlushBatcher flushes{ioctx};  // after ioctx: gone before the handlers it posted
  std::unique_ptr<Server> server;
  std::unique_ptr<asio::signal_set> signals;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::atomic<uint16_t> bound_port{0};  // the port bound, also when 0 was asked for
  size_t max_connections = 0;
  std::unique_ptr<ThreadPool> compute;  // offloaded routes; joined before the server goes
  // Offloaded public routes, that is sign-ins (Argon2id): apart, so that nobody without a
  // credential can fill the pool the signed-in users' heavy requests wait for.
  std::unique_ptr<ThreadPool> sign_in;
};

HttpServer::HttpServer(HttpServerOptions options, std::vector<Route> routes) : impl_(new Impl) {
  impl_->options = options;
  impl_->max_connections = options.max_connections ? options.max_connections : ConnectionCapFromDescriptorLimit();
  // Never below twice the largest body: a chunked body's buffer counts twice while it
  // moves, and the largest must fit, or it could never be accepted.
  const uint64_t body_memory = std::max(options.max_body_memory, 2 * options.hard_body_limit);
  restinio::loupe_ext::body_budget().set_limit(body_memory);
  if (options.gate) {
    // Asked on the headers of a request with a large or chunked body, before any of it is
    // read: any credential the gate accepts will do here (none on the public routes,
    // sign-in); the route's own role is checked with the whole request, as for every other.
    std::set<std::pair<std::string, std::string>> public_routes;
    for (const Route& route : routes) {
      if (route.access == Access::kPublic && route.pattern.find(':') == std::string::npos) {
        public_routes.insert({route.method, route.pattern});
      }
    }
    restinio::loupe_ext::body_gate() = [gate = options.gate, public_routes = std::move(public_routes)](
                                           const restinio::http_request_header_t& h, std::string_view method)
        -> std::optional<restinio::loupe_ext::early_refusal_t> {
      HttpRequest r;
      r.method = std::string(method);
      r.path = std::string(h.path());
      ReadAccessHeaders(h, r);
      Route any;
      any.method = r.method;
      any.pattern = "(a request with a large body)";
      any.access = public_routes.count({r.method, r.path}) ? Access::kPublic : Access::kRead;
      std::optional<HttpResponse> refused;
      try {
        refused = gate(r, any);
      } catch (const std::exception& e) {
        refused = JsonError(Status::Internal(std::string("unexpected error: ") + e.what()));
      }
      if (!refused) return std::nullopt;
      return restinio::loupe_ext::early_refusal_t{refused->status, std::move(refused->body),
                                                  std::move(refused->content_type), std::move(refused->headers)};
    };
  }
  spdlog::info("serving at most {} connections at once, holding at most {} MiB of request bodies",
               impl_->max_connections, body_memory >> 20);
  size_t compute_threads = options.compute_threads > 0 ? static_cast<size_t>(options.compute_threads)
                                                        : std::max(1u, std::thread::hardware_concurrency());
  impl_->compute = std::make_unique<ThreadPool>(compute_threads, options.compute_queue);
  ThreadPool* compute = impl_->compute.get();
  impl_->sign_in = std::make_unique<ThreadPool>(std::min<size_t>(2, compute_threads), 16);
  ThreadPool* sign_in = impl_->sign_in.get();
  auto router = std::make_unique<Router>();
  for (Route& route : routes) {
    std::vector<std::string> names = ParamNames(route.pattern);
    bool api = route.pattern.rfind("/api/", 0) == 0;
    // What the gate and the audit hook read of the route (not its handlers).
    auto meta = std::make_shared<Route>();
    meta->method = route.method;
    meta->pattern = route.pattern;
    meta->offload = route.offload;
    meta->access = route.access;
    meta->audit = route.audit;
    const bool signing_in = route.offload && route.access == Access::kPublic;
    ThreadPool* pool = !route.offload ? nullptr : signing_in ? sign_in : compute;
    router->add_handler(
        MethodOf(route.method), route.pattern,
        [handler = route.handler, stream = route.stream, names, method = route.method, api, meta,
         gate = options.gate, done = options.done, flushes = &impl_->flushes,
         slow_ms = options.slow_request_ms, compute = pool, signing_in](
            const restinio::request_handle_t& req, restinio::router::route_params_t params) {
          auto start = std::chrono::steady_clock::now();
          HttpRequest r;
          r.method = method;
          r.path = std::string(req->header().path());
          try {
            for (const std::string& n : names) {
              auto v = params.get_param(n);
              if (v) r.params[n] = restinio::utils::unescape_percent_encoding<restinio::utils::relaxed_unescape_traits>(*v);
            }
          } catch (const std::exception&) {
            // RESTinio throws on a %-escape that decodes to invalid UTF-8 (%FF): a bad
            // request, answered as one instead of closing the connection.
            return Respond(req, JsonError(Status::BadRequest("the path does not decode to valid UTF-8")), start, api);
          }
          auto query = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(
              req->header().query());
          if (!query) {
            return Respond(req, JsonError(Status::BadRequest("malformed query string")), start, api);
          }
          for (const auto& [k, v] : *query) r.query[std::string(k)] = std::string(v);
          r.content_type = req->header().get_field_or(restinio::http_field::content_type, "");
          r.if_none_match = req->header().get_field_or(restinio::http_field::if_none_match, "");
          // The body is moved, not copied: RESTinio hands it over only as const, and this
          // handler is the request's only reader. Its bytes stay counted against the body
          // budget until the request is destroyed, after `r` in both paths below.
          r.body = std::move(const_cast<std::string&>(req->body()));
          ReadAccessHeaders(req->header(), r);
          r.remote = req->remote_endpoint().address().to_string();
          if (gate) {
            std::optional<HttpResponse> refused;
            try {
              refused = gate(r, *meta);
            } catch (const std::exception& e) {
              refused = JsonError(Status::Internal(std::string("unexpected error: ") + e.what()));
            }
            if (refused) return Respond(req, std::move(*refused), start, api);
          }
          if (stream) {
            StreamStart st;
            try {
              st = stream(r);  // reads the body (a chat message), if it has one
            } catch (const std::exception& e) {
              st.error = JsonError(Status::Internal(std::string("unexpected error: ") + e.what()));
            }
            // An event stream lives for minutes and its request is copied below for
            // the gate's re-checks: it keeps no body (the budget stopped counting it).
            std::string().swap(r.body);
            if (st.error) return Respond(req, std::move(*st.error), start, api);
            auto resp = req->create_response<restinio::chunked_output_t>();
            resp.append_header(restinio::http_field::content_type, st.content_type);
            resp.append_header(restinio::http_field::cache_control, "no-cache");
            for (const auto& [name, value] : st.headers) resp.append_header(name, value);
            resp.append_header("X-Accel-Buffering", "no");
            resp.flush();
            std::function<bool()> still_allowed;
            if (gate) {
              still_allowed = [gate, meta, r]() mutable {
                try {
                  return !gate(r, *meta).has_value();
                } catch (const std::exception&) {
                  return false;
                }
              };
            }
            st.on_open(std::make_shared<RestinioEventStream>(std::move(resp), std::move(still_allowed), *flushes));
            return restinio::request_accepted();
          }
          auto serve = [handler, req, start, api, slow_ms, meta, done](const HttpRequest& r) {
            HttpResponse out;
            try {
              out = handler(r);
            } catch (const std::exception& e) {
              out = JsonError(Status::Internal(std::string("unexpected error: ") + e.what()));
            }
            if (done) {
              try {
                done(r, *meta, out);
              } catch (const std::exception& e) {
                spdlog::error("after {} {}: {}", r.method, r.path, e.what());
              }
            }
            return Respond(req, std::move(out), start, api, slow_ms);
          };
          if (!compute) return serve(r);
          // RESTinio lets any thread answer an accepted request.
          if (compute->Post([serve, r = std::move(r)] { serve(r); })) return restinio::request_accepted();
          HttpResponse refused =
              JsonError(signing_in ? Status::RateLimited("too many sign-ins at once; retry in a moment")
                                   : Status::Unavailable("the server is busy with other heavy requests; retry shortly"));
          refused.headers.emplace_back("Retry-After", "1");
          return Respond(req, std::move(refused), start, api, slow_ms);
        });
  }
  router->non_matched_request_handler([not_found = options.not_found](const restinio::request_handle_t& req) {
    std::string path(req->header().path());
    bool api = path.rfind("/api/", 0) == 0;
    if (!api && not_found) {
      HttpRequest r;
      r.method = req->header().method().c_str();
      r.path = path;
      return Respond(req, not_found(r), std::chrono::steady_clock::now(), false);
    }
    return Respond(req, JsonError(Status::NotFound("no route for " + std::string(req->header().method().c_str()) +
                                                   " " + path.substr(0, 200))),
                   std::chrono::steady_clock::now(), api);
  });

  impl_->server = std::make_unique<Server>(
      restinio::external_io_context(impl_->ioctx),
      restinio::server_settings_t<Traits>{}
          .address(options.host)
          .port(options.port)
          .acceptor_post_bind_hook([impl = impl_.get()](asio::ip::tcp::acceptor& acceptor) {
            impl->bound_port = acceptor.local_endpoint().port();
          })
          .request_handler(std::move(router), [](const restinio::request_handle_t& req) {
            const bool api = std::string_view(req->header().path()).rfind("/api/", 0) == 0;
            return Respond(req, JsonError(Status::BadRequest("the path does not decode to valid UTF-8")),
                           std::chrono::steady_clock::now(), api);
          })
          // A streamed answer's small chunks must not wait for the client's delayed ACK
          // (Nagle held each for 40 ms).
          .socket_options_setter([](restinio::socket_options_t& o) {
            restinio::asio_ns::error_code ec;
            o.set_option(restinio::asio_ns::ip::tcp::no_delay{true}, ec);
          })
          .max_pipelined_requests(4)
          // One accept outstanding per thread: new connections (the SDK opens one per
          // request) are not queued behind a single accept loop on busy threads.
          .concurrent_accepts_count(static_cast<size_t>(std::max(1, options.threads)))
          .read_next_http_message_timelimit(std::chrono::seconds(60))
          .handle_request_timeout(std::chrono::seconds(120))
          .write_http_response_timelimit(std::chrono::seconds(120))
          .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                        .max_body_size(options.hard_body_limit)
                                        .max_url_size(options.max_url_bytes)
                                        .max_field_name_size(1024)
                                        .max_field_value_size(options.max_header_value_bytes)
                                        .max_field_count(options.max_header_fields))
          .max_parallel_connections(impl_->max_connections));
}

HttpServer::~HttpServer() {
  Stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  restinio::loupe_ext::body_gate() = nullptr;  // it refers to this server's gate
}

Status HttpServer::Start() {
  try {
    impl_->server->open_sync();
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + impl_->options.host + ":" +
                               std::to_string(impl_->options.port) + ": " + e.what());
  }
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port.load(); }

void HttpServer::WatchSignals() {
  impl_->signals = std::make_unique<asio::signal_set>(impl_->ioctx, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const asio::error_code& ec, int) {
    if (!ec) Stop();
  });
}

void HttpServer::Run() {
  int n = std::max(1, impl_->options.threads);
  for (int i = 1; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioctx.run(); });
  impl_->ioctx.run();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->server->close_async(
      [this] {
        if (impl_->signals) impl_->signals->cancel();
        impl_->ioctx.stop();
      },
      [this](std::exception_ptr) { impl_->ioctx.stop(); });
}

}  // namespace loupe
