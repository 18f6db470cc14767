// What Loupe adds to RESTinio 0.6.16, used by the patched copies of its acceptor and
// connection (third_party/restinio/: the patch, and why). Included only through them, in
// web/http_server.cc, the one translation unit that includes RESTinio.
#pragma once

#include <restinio/asio_include.hpp>
#include <restinio/connection_count_limiter.hpp>
#include <restinio/http_headers.hpp>
#include <spdlog/spdlog.h>

#include "common/log.h"
#include "common/units.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace restinio::loupe_ext {

// Bytes of request bodies held in memory at once, over all connections, until the request
// that holds them is destroyed: a large body of declared length from its headers (503
// before it is read when it does not fit), a small one as it arrives, a chunked one by
// what its growing string holds.
class body_budget_t {
 public:
  void set_limit(std::uint64_t bytes) noexcept { limit_.store(bytes); }
  std::uint64_t limit() const noexcept { return limit_.load(); }
  std::uint64_t in_use() const noexcept { return used_.load(); }
  bool try_take(std::uint64_t n) noexcept {
    const std::uint64_t limit = limit_.load();
    std::uint64_t cur = used_.load();
    do {
      if (n > limit || cur > limit - n) return false;
    } while (!used_.compare_exchange_weak(cur, cur + n));
    return true;
  }
  void give_back(std::uint64_t n) noexcept { used_.fetch_sub(n); }

 private:
  std::atomic<std::uint64_t> limit_{UINT64_MAX};
  std::atomic<std::uint64_t> used_{0};
};

// One per process: RESTinio's parser callbacks see no server settings.
inline body_budget_t& body_budget() {
  static body_budget_t budget;
  return budget;
}

// Sizes in the messages of refused requests: exact bytes and MiB.
inline std::string mib(std::uint64_t bytes) {
  return ::loupe::BytesWithMib(bytes);
}

using header_list_t = std::vector<std::pair<std::string, std::string>>;

// A whole HTTP/1.1 answer that closes the connection.
inline std::string refusal_response(int status, std::string_view body, const header_list_t& headers = {},
                                    std::string_view content_type = "application/json") {
  const char* reason = "Error";
  switch (status) {
    case 303: reason = "See Other"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 413: reason = "Content Too Large"; break;
    case 414: reason = "URI Too Long"; break;
    case 422: reason = "Unprocessable Content"; break;
    case 429: reason = "Too Many Requests"; break;
    case 431: reason = "Request Header Fields Too Large"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    case 507: reason = "Insufficient Storage"; break;
    default: break;
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\nConnection: close\r\n";
  if (status == 503) out += "Retry-After: 1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

// The JSON envelope of every other error: {"code": 3000 + status, "message": ...}.
inline std::string error_json(int status, std::string_view message) {
  std::string body = "{\"code\": " + std::to_string(3000 + status) + ", \"message\": \"";
  for (char c : message) {
    if (c == '"' || c == '\\') body += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) body += c;
  }
  return body + "\"}";
}

// Bodies above this size are read only from a request the access gate lets through,
// asked on its headers: nobody without a credential makes the server hold a large body.
inline constexpr std::uint64_t kGatedBodyBytes = 64u << 10;

struct early_refusal_t {
  int status = 0;
  std::string body;
  std::string content_type;
  header_list_t headers;
};
using body_gate_t =
    std::function<std::optional<early_refusal_t>(const http_request_header_t& header, std::string_view method)>;
// One per process, set by the server (RESTinio's parser callbacks see no server settings).
inline body_gate_t& body_gate() {
  static body_gate_t gate;
  return gate;
}

template <typename... Args>
void warn_limited(::loupe::LogLimiter& limiter, fmt::format_string<Args...> format, Args&&... args) {
  int64_t held_back = 0;
  if (!limiter.Allow(held_back)) return;
  std::string line = fmt::format(format, std::forward<Args>(args)...);
  if (held_back) line += fmt::format(" ({} similar lines held back)", held_back);
  spdlog::warn("{}", line);
}

// Refused requests and connections: at most 5 lines a second, the rest counted.
inline ::loupe::LogLimiter& refusals_logged() {
  static ::loupe::LogLimiter limiter(5);
  return limiter;
}

// Counts the connections being served so that the acceptor can answer 503 beyond the cap
// instead of leaving new connections in the kernel's backlog (RESTinio's own limiter stops
// accepting). The count is shared with each connection: one destroyed after the acceptor
// (at shutdown, with the io_context's pending handlers) touches no freed memory.
class connection_limiter_t {
 public:
  using acceptor_callback_t = connection_count_limits::impl::acceptor_callback_iface_t;
  connection_limiter_t(not_null_pointer_t<acceptor_callback_t> acceptor,
                       connection_count_limits::max_parallel_connections_t max_connections,
                       connection_count_limits::max_active_accepts_t)
      : acceptor_(acceptor), max_(max_connections.value()) {}

  void accept_next(std::size_t index) noexcept { acceptor_->call_accept_now(index); }
  bool full() const noexcept { return count_->load() >= max_; }
  std::size_t max() const noexcept { return max_; }
  // Answers refused over capacity in flight at once; beyond it a connection is just closed.
  bool try_start_refusal() noexcept {
    const std::size_t limit = std::min<std::size_t>(64, std::max<std::size_t>(4, max_ / 8));
    if (refusing_->fetch_add(1) >= limit) {
      refusing_->fetch_sub(1);
      return false;
    }
    return true;
  }
  const std::shared_ptr<std::atomic<std::size_t>>& count() const noexcept { return count_; }
  const std::shared_ptr<std::atomic<std::size_t>>& refusing() const noexcept { return refusing_; }

 private:
  not_null_pointer_t<acceptor_callback_t> acceptor_;
  std::size_t max_;
  std::shared_ptr<std::atomic<std::size_t>> count_ = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<std::atomic<std::size_t>> refusing_ = std::make_shared<std::atomic<std::size_t>>(0);
};

class connection_lifetime_t {
 public:
  explicit connection_lifetime_t(not_null_pointer_t<connection_limiter_t> limiter) noexcept
      : count_(limiter->count()) {
    count_->fetch_add(1);
  }
  connection_lifetime_t(connection_lifetime_t&& other) noexcept : count_(std::move(other.count_)) {}
  connection_lifetime_t& operator=(connection_lifetime_t&& other) noexcept {
    if (this != &other) {
      release();
      count_ = std::move(other.count_);
    }
    return *this;
  }
  connection_lifetime_t(const connection_lifetime_t&) = delete;
  connection_lifetime_t& operator=(const connection_lifetime_t&) = delete;
  ~connection_lifetime_t() { release(); }

 private:
  void release() noexcept {
    if (count_) count_->fetch_sub(1);
    count_.reset();
  }
  std::shared_ptr<std::atomic<std::size_t>> count_;
};

// Answers one connection accepted over capacity with a 503, then closes it gently: the
// sending side is shut, what the client still sends is read and dropped (for at most two
// seconds), so the client reads the answer instead of a reset.
class refusal_writer_t : public std::enable_shared_from_this<refusal_writer_t> {
 public:
  refusal_writer_t(asio_ns::ip::tcp::socket socket, std::string response,
                   std::shared_ptr<std::atomic<std::size_t>> refusing)
      : strand_(asio_ns::make_strand(socket.get_executor())),
        socket_(std::move(socket)),
        timer_(strand_),
        response_(std::move(response)),
        refusing_(std::move(refusing)) {}
  ~refusal_writer_t() { refusing_->fetch_sub(1); }

  void start() {
    auto self = shared_from_this();
    asio_ns::dispatch(strand_, [self] {
      self->timer_.expires_after(std::chrono::seconds(2));
      self->timer_.async_wait([self](const asio_ns::error_code& ec) {
        if (!ec) self->finish();
      });
      asio_ns::async_write(self->socket_, asio_ns::buffer(self->response_),
                           asio_ns::bind_executor(self->strand_, [self](const asio_ns::error_code& ec, std::size_t) {
                             if (ec) return self->finish();
                             asio_ns::error_code ignored;
                             self->socket_.shutdown(asio_ns::ip::tcp::socket::shutdown_send, ignored);
                             self->drain();
                           }));
    });
  }

 private:
  void drain() {
    auto self = shared_from_this();
    socket_.async_read_some(asio_ns::buffer(buf_),
                            asio_ns::bind_executor(strand_, [self](const asio_ns::error_code& ec, std::size_t) {
                              if (ec) return self->finish();
                              self->drain();
                            }));
  }
  void finish() {
    asio_ns::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  asio_ns::strand<asio_ns::any_io_executor> strand_;
  asio_ns::ip::tcp::socket socket_;
  asio_ns::steady_timer timer_;
  std::string response_;
  std::shared_ptr<std::atomic<std::size_t>> refusing_;
  std::array<char, 4096> buf_{};
};

}  // namespace restinio::loupe_ext
