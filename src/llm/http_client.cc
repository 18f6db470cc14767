#include "llm/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <future>
#include <list>
#include <thread>

#include "common/ascii_case.h"

namespace loupe::llm {

namespace {

using Clock = std::chrono::steady_clock;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// libcurl's socket interface: curl says which sockets it waits on (an epoll set here)
// (curl_multi_timeout says when it next needs a turn), and is handed only the sockets
// that are ready.
// curl_multi_perform/curl_multi_poll visit every transfer on each wake-up instead (64
// streamed answers: six poll() calls for every token relayed).
struct SocketWatch {
  int epoll_fd = -1;

  static int OnSocket(CURL*, curl_socket_t s, int what, void* self, void*) {
    auto* w = static_cast<SocketWatch*>(self);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) {
      epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, s, &ev);
    }
    return 0;
  }

};

}  // namespace

std::string HostPortOf(const std::string& url) {
  CURLU* u = curl_url();
  std::string host = url;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* h = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) host = h;
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) host += std::string(":") + port;
    curl_free(h);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return host;
}

struct HttpClient::Transfer {
  OutboundRequest request;
  OutboundCallbacks callbacks;
  std::shared_ptr<OutboundCall> call;
  Clock::time_point due;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  ResponseHead head;
  bool head_sent = false;
  Clock::time_point last_tick = Clock::now();
  bool aborted_by_callback = false;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
    if (easy) curl_easy_cleanup(easy);
  }

  bool SendHead() {
    if (head_sent) return true;
    head_sent = true;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &head.status);
    return !callbacks.on_head || callbacks.on_head(head);
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
      t->head.headers.clear();  // a new response (after 100 Continue)
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
      t->head.headers[AsciiLower(std::string(line.substr(0, colon)))] = std::string(value);
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    if (t->call->cancelled()) return 0;
    if (!t->SendHead() || (t->callbacks.on_body && !t->callbacks.on_body(std::string_view(data, size * n)))) {
      t->aborted_by_callback = true;
      return 0;
    }
    return size * n;
  }

  Status Setup() {
    easy = curl_easy_init();
    if (!easy) return Status::Internal("cannot start an HTTP call (curl_easy_init)");
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.idle_timeout_s));
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
    // A model on this machine (a local server, or a no-code run's endpoint called with the
    // local token) is called directly, never through a proxy the environment names.
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1,[::1]");
    if (request.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
      return Status::Internal("unsupported method " + request.method);
    }
    header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
    for (const auto& [name, value] : request.headers) {
      header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list);
    return Status::Ok();
  }

  // What went wrong, in the words a user can act on; never the request's headers.
  Status Outcome(CURLcode code) const {
    const std::string host = HostPortOf(request.url);
    switch (code) {
      case CURLE_OK:
        return Status::Ok();
      case CURLE_URL_MALFORMAT:
        return Status::InvalidArgument("the base URL is not a valid URL: " + request.url);
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status::InvalidArgument("the base URL must start with http:// or https://");
      case CURLE_COULDNT_RESOLVE_HOST:
        return Status::Unavailable("cannot resolve the host " + host);
      case CURLE_COULDNT_CONNECT:
        return Status::Unavailable("cannot connect to " + host + (error[0] ? std::string(" (") + error + ")" : ""));
      case CURLE_OPERATION_TIMEDOUT:
        // The low-speed limit (a byte a second) is how an idle connection times out; libcurl
        // words it as "Operation too slow. Less than 1 bytes/sec transferred ...".
        if (std::string_view(error).find("too slow") != std::string_view::npos) {
          return Status::Unavailable("the call to " + host + " timed out: nothing arrived for " +
                                     std::to_string(request.idle_timeout_s) + " s");
        }
        return Status::Unavailable(std::string("the call to ") + host + " timed out (" + error + ")");
      case CURLE_WRITE_ERROR:
        if (call->cancelled() || aborted_by_callback) return Status::Cancelled("the call was cancelled");
        break;
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_SEND_ERROR:
        return Status::Unavailable(host + " closed the connection before the answer was complete (" +
                                   std::string(error[0] ? error : curl_easy_strerror(code)) + ")");
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
        return Status::Unavailable("TLS with " + host + " failed: " + (error[0] ? error : curl_easy_strerror(code)));
      default:
        break;
    }
    return Status::Unavailable("the call to " + host + " failed: " + (error[0] ? error : curl_easy_strerror(code)));
  }
};

HttpClient::HttpClient() {
  GlobalInit();
  multi_ = curl_multi_init();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ >= 0 && wake_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  thread_ = std::thread([this] { Loop(); });
}

HttpClient::~HttpClient() {
  Shutdown();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void HttpClient::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void HttpClient::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

std::shared_ptr<OutboundCall> HttpClient::Submit(OutboundRequest request, OutboundCallbacks callbacks) {
  auto t = std::make_unique<Transfer>();
  t->call = std::make_shared<OutboundCall>();
  t->due = Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, request.delay_ms));
  t->request = std::move(request);
  t->callbacks = std::move(callbacks);
  std::shared_ptr<OutboundCall> call = t->call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      ++in_flight_;
      pending_.push_back(std::move(t));
    }
  }
  if (t) {  // not taken: the client is shut down
    if (t->callbacks.on_done) t->callbacks.on_done(Status::Cancelled("the server is stopping"), 0);
    return call;
  }
  Wake();
  return call;
}

Result<FetchResult> HttpClient::Fetch(OutboundRequest request, size_t max_body_bytes) {
  auto result = std::make_shared<FetchResult>();
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> finished = done->get_future();
  auto too_large = std::make_shared<bool>(false);
  OutboundCallbacks cb;
  cb.on_head = [result](const ResponseHead& head) {
    result->head = head;
    return true;
  };
  cb.on_body = [result, too_large, max_body_bytes](std::string_view piece) {
    if (result->body.size() + piece.size() > max_body_bytes) {
      *too_large = true;
      return false;
    }
    result->body.append(piece);
    return true;
  };
  cb.on_done = [result, done, too_large, max_body_bytes](const Status& s, long status) {
    if (result->head.status == 0) result->head.status = status;
    if (*too_large) {
      done->set_value(Status::TooLarge("the answer exceeds " + std::to_string(max_body_bytes) + " bytes"));
    } else {
      done->set_value(s);
    }
  };
  Submit(std::move(request), std::move(cb));
  Status s = finished.get();
  if (!s.ok()) return s;
  return std::move(*result);
}

void HttpClient::Loop() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  SocketWatch watch;
  watch.epoll_fd = epoll_fd_;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &SocketWatch::OnSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &watch);
  std::list<std::unique_ptr<Transfer>> waiting;  // submitted with a delay not yet over
  std::map<CURL*, std::unique_ptr<Transfer>> active;
  auto finish = [&](std::unique_ptr<Transfer> t, const Status& s) {
    long status = t->head.status;
    if (t->easy && status == 0) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    // Counted out before on_done runs: whoever on_done wakes sees the call ended.
    --in_flight_;
    if (s.ok() && !t->head_sent) {
      if (!t->SendHead()) {
        if (t->callbacks.on_done) t->callbacks.on_done(Status::Cancelled("the call was cancelled"), status);
        return;
      }
    }
    if (t->callbacks.on_done) t->callbacks.on_done(s, status);
  };
  for (;;) {
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_;
      while (!pending_.empty()) {
        waiting.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    const Clock::time_point now = Clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (stopping || (*it)->call->cancelled()) {
        finish(std::move(*it), Status::Cancelled(stopping ? "the server is stopping" : "the call was cancelled"));
        it = waiting.erase(it);
      } else if ((*it)->due <= now) {
        std::unique_ptr<Transfer> t = std::move(*it);
        it = waiting.erase(it);
        Status s = t->Setup();
        if (!s.ok()) {
          finish(std::move(t), s);
          continue;
        }
        curl_multi_add_handle(multi, t->easy);
        CURL* key = t->easy;
        active.emplace(key, std::move(t));
      } else {
        ++it;
      }
    }
    for (auto it = active.begin(); it != active.end();) {
      if (stopping || it->second->call->cancelled()) {
        curl_multi_remove_handle(multi, it->first);
        finish(std::move(it->second), Status::Cancelled(stopping ? "the server is stopping" : "the call was cancelled"));
        it = active.erase(it);
      } else {
        ++it;
      }
    }
    if (stopping && waiting.empty() && active.empty()) return;

    int wait_ms = 1000;
    for (const auto& t : waiting) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->due - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, wait_ms));
    }
    long curl_ms = -1;
    curl_multi_timeout(multi, &curl_ms);
    if (curl_ms >= 0) wait_ms = std::min(wait_ms, static_cast<int>(curl_ms));
    epoll_event events[64];
    int running = 0;
    const int ready = epoll_wait(epoll_fd_, events, 64, wait_ms);
    if (ready < 0 && errno != EINTR) {
      // No epoll set (descriptors ran out at start-up): every transfer is visited on a
      // short timer instead, slower but never a spinning core.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp(wait_ms, 1, 10)));
      curl_multi_perform(multi, &running);
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
        continue;
      }
      const uint32_t e = events[i].events;
      const int flags = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, fd, flags, &running);
    }
    // Timeouts (the call's, the idle limit, connecting) and transfers just added.
    curl_ms = -1;
    curl_multi_timeout(multi, &curl_ms);
    if (curl_ms == 0) curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    const Clock::time_point tick = Clock::now();
    for (auto& [easy, t] : active) {
      if (!t->callbacks.on_tick || tick - t->last_tick < std::chrono::seconds(1)) continue;
      t->last_tick = tick;
      if (!t->callbacks.on_tick()) t->call->Cancel();  // removed at the next turn
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = active.find(msg->easy_handle);
      if (it == active.end()) continue;
      CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      std::unique_ptr<Transfer> t = std::move(it->second);
      active.erase(it);
      Status s = t->Outcome(code);
      finish(std::move(t), s);
    }
  }
}

}  // namespace loupe::llm
