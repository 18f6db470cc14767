// soak_load: the soak benchmark's load generator (issue 9). W writers shaped like the
// Python SDK and P pollers shaped like open dashboard pages run against one Loupe server
// for S seconds; then every point the server acknowledged is read back and compared with
// the value that was sent. Prints latency percentiles per kind of request, errors by
// status, the server's RSS, descriptors and CPU, and exits non-zero on any error, any
// missing or changed point, or any inconsistent read.
//
// Build it alone, in seconds, without the project (C++20, POSIX sockets, no libraries):
//   g++ -std=c++20 -O2 -pthread -o soak_load bench/soak/soak_load.cc
// or with the benchmarks (`make bench`: build-bench/soak_load). bench/soak.sh starts a
// fresh server and runs this against it; `soak_load --help` lists the options.
//
// A writer is one training script using the SDK (sdk/python/loupe/run.py): it creates
// its run (POST /experiments with client, run_id, config, start_time), sends its system
// metadata once (PUT /system), then every --flush-ms sends what it logged since the last
// flush: one metrics batch (client, seq, step_origin "resume", partial, --steps-per-flush
// steps x --keys keys; a late flush carries every step logged meanwhile, as the SDK's
// buffer does), its console lines, every --system-s the system/ metrics
// ("resume_system"), every --heartbeat-s a heartbeat, and at the end finish. Like the
// SDK's urllib it opens a connection per request unless --writer-keepalive. A request
// that gets no answer, 429 or 5xx is sent again with the same seq (the SDK's retry);
// every failure counts as an error. Values are a fixed function of (writer, key, step):
// full-precision doubles of varied magnitude and sign, integers, and about 0.3% NaN and
// infinities.
//
// A poller is a browser tab on a live experiment page (src/ui/static/experiment.js),
// polling the JSON endpoints instead of holding the event stream, over one keep-alive
// connection: on opening a page GET /experiments/{id}, /keys and /series/batch for every
// key (the first draw); every --poll-ms /keys (what the event snapshot carries), for each
// key whose last step moved the chart's refresh /series?max_points=1500 (with
// If-None-Match, as the browser's cache sends) and an incremental read /series?from=
// (every point after the last one it saw), the SwanLab /summary, and the console lines
// after the last one it saw (/console/lines?from=); every --list-s the project's
// experiment list. Every --switch-s it opens another writer's experiment. Pollers check
// what they read: each value is the one sent for that step, the incremental reads have
// no gaps, last steps and console line numbers never go back, and the list holds every
// experiment created before it was asked for.
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// ---- options -------------------------------------------------------------------------

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string token;     // else <data-dir>/local.token, else $LOUPE_TOKEN
  std::string data_dir;  // where the server keeps local.token
  int writers = 100;
  int pollers = 100;
  double seconds = 600;           // how long writers and pollers run
  int keys = 4;                   // metric keys per writer (besides 4 system/ keys)
  int steps_per_flush = 10;       // steps a writer logs per flush interval
  int flush_ms = 1000;            // the SDK's flush_interval
  int console_lines = 2;          // console lines per flush
  int system_s = 10;              // system metrics interval (the SDK's default)
  int heartbeat_s = 15;           // heartbeat interval (the SDK's default)
  bool writer_keepalive = false;  // the SDK (urllib) opens a connection per request
  int poll_ms = 1000;             // a live page's refresh
  int list_s = 5;                 // experiments list refresh
  int switch_s = 60;              // a poller opens another experiment this often
  int max_points = 1500;          // a chart's request
  int server_pid = 0;             // for RSS, descriptors and CPU (0: not sampled)
  std::string project = "soak";
  int timeout_s = 30;  // a request without an answer after this is an error
  int retries = 3;     // resends of a write that got no answer, 429 or 5xx
  int verify_threads = 4;
  std::string json_out;
  bool help = false;
};

struct Flag {
  const char* name;
  const char* help;
  enum { kInt, kDouble, kString, kBool } type;
  void* target;
};

std::vector<Flag> Flags(Options& o) {
  return {
      {"host", "server address (default 127.0.0.1)", Flag::kString, &o.host},
      {"port", "server port (default 8080)", Flag::kInt, &o.port},
      {"token", "API token (else <data-dir>/local.token, else $LOUPE_TOKEN)", Flag::kString, &o.token},
      {"data-dir", "the server's data folder, to read local.token", Flag::kString, &o.data_dir},
      {"writers", "SDK-shaped writers, one experiment each (default 100)", Flag::kInt, &o.writers},
      {"pollers", "dashboard-shaped pollers (default 100)", Flag::kInt, &o.pollers},
      {"seconds", "duration of the load (default 600)", Flag::kDouble, &o.seconds},
      {"keys", "metric keys per writer, besides 4 system/ keys (default 4)", Flag::kInt, &o.keys},
      {"steps-per-flush", "steps logged per flush interval (default 10)", Flag::kInt, &o.steps_per_flush},
      {"flush-ms", "writer flush interval, the SDK's flush_interval (default 1000)", Flag::kInt, &o.flush_ms},
      {"console-lines", "console lines per flush (default 2)", Flag::kInt, &o.console_lines},
      {"system-s", "system metrics interval in seconds (default 10; 0: none)", Flag::kInt, &o.system_s},
      {"heartbeat-s", "heartbeat interval in seconds (default 15; 0: none)", Flag::kInt, &o.heartbeat_s},
      {"writer-keepalive", "writers keep their connection (default: one per request, as the SDK)", Flag::kBool,
       &o.writer_keepalive},
      {"poll-ms", "poller refresh interval (default 1000)", Flag::kInt, &o.poll_ms},
      {"list-s", "experiments list refresh in seconds (default 5)", Flag::kInt, &o.list_s},
      {"switch-s", "a poller opens another experiment this often, seconds (default 60)", Flag::kInt, &o.switch_s},
      {"max-points", "points per chart request (default 1500)", Flag::kInt, &o.max_points},
      {"server-pid", "server process id, for RSS, descriptors and CPU (default: not sampled)", Flag::kInt,
       &o.server_pid},
      {"project", "project the writers log to (default soak)", Flag::kString, &o.project},
      {"timeout-s", "seconds without an answer before a request fails (default 30)", Flag::kInt, &o.timeout_s},
      {"retries", "resends of a write that got no answer, 429 or 5xx (default 3)", Flag::kInt, &o.retries},
      {"verify-threads", "connections reading everything back at the end (default 4)", Flag::kInt, &o.verify_threads},
      {"json", "also write the results to this JSON file", Flag::kString, &o.json_out},
      {"help", "print this help", Flag::kBool, &o.help},
  };
}

bool ParseArgs(int argc, char** argv, Options& o) {
  std::vector<Flag> flags = Flags(o);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      std::fprintf(stderr, "soak_load: unexpected argument %s\n", arg.c_str());
      return false;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto f = std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return name == f.name; });
    if (f == flags.end()) {
      std::fprintf(stderr, "soak_load: unknown option --%s (see --help)\n", name.c_str());
      return false;
    }
    if (f->type == Flag::kBool) {
      *static_cast<bool*>(f->target) = !has_value || value == "1" || value == "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "soak_load: --%s needs a value\n", name.c_str());
        return false;
      }
      value = argv[++i];
    }
    char* end = nullptr;
    switch (f->type) {
      case Flag::kInt:
        *static_cast<int*>(f->target) = static_cast<int>(std::strtol(value.c_str(), &end, 10));
        break;
      case Flag::kDouble:
        *static_cast<double*>(f->target) = std::strtod(value.c_str(), &end);
        break;
      default:
        *static_cast<std::string*>(f->target) = value;
        continue;
    }
    if (end == value.c_str() || *end != '\0') {
      std::fprintf(stderr, "soak_load: --%s takes a number, got %s\n", name.c_str(), value.c_str());
      return false;
    }
  }
  return true;
}

void PrintUsage(Options& o) {
  std::printf("usage: soak_load [options]\n\n");
  for (const Flag& f : Flags(o)) std::printf("  --%-18s %s\n", f.name, f.help);
}

// ---- time, values --------------------------------------------------------------------

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double UnixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

void SleepUntil(double t) {
  double d = t - Now();
  if (d > 0) std::this_thread::sleep_for(std::chrono::duration<double>(d));
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The value writer `w` logs for key `k` at step `step`; pollers and the final check
// recompute it. Mostly full-precision doubles from 1e-6 to 1e5 of either sign, some
// integers, 0.1% each NaN, +Infinity and -Infinity.
double Value(int w, int k, int64_t step) {
  static const double kScale[12] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5};
  uint64_t h = Mix((static_cast<uint64_t>(w) << 44) ^ (static_cast<uint64_t>(k) << 36) ^ static_cast<uint64_t>(step));
  uint64_t r = h % 1000;
  if (r == 0) return std::nan("");
  if (r == 1) return HUGE_VAL;
  if (r == 2) return -HUGE_VAL;
  if (r < 100) return static_cast<double>((h >> 20) % 100000);
  double mantissa = static_cast<double>(h >> 11) / 9007199254740992.0;  // 53 random bits in [0, 1)
  double v = mantissa * kScale[(h >> 4) % 12];
  return (h & 8) ? -v : v;
}

bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
    out.append(buf, res.ptr);
  }
}

// Reads a value as the server writes it (a JSON number or "NaN"/"Infinity"/"-Infinity",
// in JSON or CSV) at s[*pos]; advances *pos past it.
bool ParseValue(std::string_view s, size_t* pos, double* out) {
  size_t p = *pos;
  if (p < s.size() && s[p] == '"') {
    size_t end = s.find('"', p + 1);
    if (end == std::string_view::npos) return false;
    std::string_view word = s.substr(p + 1, end - p - 1);
    if (word == "NaN") {
      *out = std::nan("");
    } else if (word == "Infinity") {
      *out = HUGE_VAL;
    } else if (word == "-Infinity") {
      *out = -HUGE_VAL;
    } else {
      return false;
    }
    *pos = end + 1;
    return true;
  }
  auto res = std::from_chars(s.data() + p, s.data() + s.size(), *out);
  if (res.ec != std::errc()) return false;
  *pos = static_cast<size_t>(res.ptr - s.data());
  return true;
}

bool ParseInt(std::string_view s, size_t* pos, int64_t* out) {
  auto res = std::from_chars(s.data() + *pos, s.data() + s.size(), *out);
  if (res.ec != std::errc()) return false;
  *pos = static_cast<size_t>(res.ptr - s.data());
  return true;
}

// `"key":`, the start of a JSON member.
std::string Member(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 3);
  out += '"';
  out += key;
  out += "\":";
  return out;
}

// The integer after `"name":` in s[from, to), or `fallback`.
int64_t IntField(std::string_view s, std::string_view name, int64_t fallback, size_t from = 0,
                 size_t to = std::string_view::npos) {
  std::string pat = Member(name);
  size_t p = s.find(pat, from);
  if (p == std::string_view::npos || (to != std::string_view::npos && p >= to)) return fallback;
  p += pat.size();
  int64_t v = 0;
  return ParseInt(s, &p, &v) ? v : fallback;
}

std::string StringField(std::string_view s, std::string_view name, size_t from = 0,
                        size_t to = std::string_view::npos) {
  std::string pat = Member(name) + '"';
  size_t p = s.find(pat, from);
  if (p == std::string_view::npos || (to != std::string_view::npos && p >= to)) return "";
  p += pat.size();
  size_t end = s.find('"', p);
  return end == std::string_view::npos ? "" : std::string(s.substr(p, end - p));
}

// Metric key names: what training scripts log, then generic ones; the system/ keys the
// SDK samples come after them (indices keys .. keys + 3).
const char* kSystemKeys[] = {"system/cpu.percent", "system/memory.percent", "system/memory.used_gb",
                             "system/process.memory_mb"};
constexpr int kSystemKeyCount = 4;

std::string KeyName(int k, int keys) {
  static const char* kNamed[] = {"train/loss", "train/acc", "val/loss", "val/acc", "train/lr", "train/grad_norm"};
  if (k >= keys) return kSystemKeys[k - keys];
  if (k < 6) return kNamed[k];
  return "train/metric_" + std::to_string(k);
}

std::string HexId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

// ---- HTTP/1.1 client -----------------------------------------------------------------

struct Response {
  int status = 0;  // 0: no HTTP answer (refused, reset, timed out, cut short)
  std::string body;
  std::string etag;
  double server_ms = -1;  // SwanLab-Process-Time
  std::string error;      // why, when status is 0
};

struct Target {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string host_header;
  std::string auth_header;
};

// One client connection, reopened as needed. Keep-alive or one connection per request;
// a kept connection the server closed while idle is reopened and the request sent again
// once (as browsers do), counted in reconnects(), not as an error.
class Http {
 public:
  Http(const Target& target, bool keep_alive, int timeout_s)
      : target_(target), keep_alive_(keep_alive), timeout_s_(timeout_s) {}
  ~Http() { Close(); }
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  uint64_t reconnects() const { return reconnects_; }

  Response Send(std::string_view method, const std::string& path, const std::string& body,
                const std::string& if_none_match = "") {
    std::string req;
    req.reserve(256 + body.size());
    req.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
    req += target_.host_header;
    req += target_.auth_header;
    req += "User-Agent: loupe-soak\r\nAccept: */*\r\n";
    if (!keep_alive_) req += "Connection: close\r\n";
    if (!if_none_match.empty()) req += "If-None-Match: " + if_none_match + "\r\n";
    if (method != "GET") {
      if (!body.empty()) req += "Content-Type: application/json\r\n";
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req += body;
    for (int attempt = 0;; ++attempt) {
      Response r;
      bool reused = fd_ >= 0;
      if (fd_ < 0 && !Connect(&r.error)) return r;
      bool got_bytes = false;
      if (WriteAll(req, &r.error) && ReadResponse(method, &r, &got_bytes)) return r;
      Close();
      if (reused && !got_bytes && attempt == 0) {  // the server closed an idle kept connection
        ++reconnects_;
        continue;
      }
      r.status = 0;
      return r;
    }
  }

 private:
  bool Connect(std::string* err) {
    fd_ = socket(target_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      *err = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    timeval tv{timeout_s_, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&target_.addr), target_.addr_len) != 0) {
      *err = std::string("connect: ") + std::strerror(errno);
      Close();
      return false;
    }
    buf_.clear();
    return true;
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  bool WriteAll(const std::string& data, std::string* err) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t w = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        *err = std::string("send: ") + (errno == EAGAIN ? "timed out" : std::strerror(errno));
        return false;
      }
      off += static_cast<size_t>(w);
    }
    return true;
  }

  // Appends what the socket has to buf_; false at the end of the stream or an error.
  bool Fill(std::string* err) {
    char tmp[65536];
    for (;;) {
      ssize_t r = recv(fd_, tmp, sizeof tmp, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r > 0) {
        buf_.append(tmp, static_cast<size_t>(r));
        return true;
      }
      *err = r == 0                                      ? "connection closed by the server"
             : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out"
                                                         : std::string("recv: ") + std::strerror(errno);
      return false;
    }
  }

  bool ReadResponse(std::string_view method, Response* r, bool* got_bytes) {
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(&r->error)) {
        *got_bytes = !buf_.empty();
        if (buf_.empty() && r->error == "connection closed by the server") r->error = "closed before answering";
        return false;
      }
      *got_bytes = true;
    }
    *got_bytes = true;
    if (buf_.compare(0, 5, "HTTP/") != 0 || buf_.size() < 12) {
      r->error = "malformed status line";
      return false;
    }
    r->status = std::atoi(buf_.c_str() + 9);
    int64_t length = -1;
    bool chunked = false, close_after = !keep_alive_;
    size_t line = buf_.find("\r\n") + 2;
    while (line < head_end) {
      size_t eol = buf_.find("\r\n", line);
      std::string_view h(buf_.data() + line, eol - line);
      line = eol + 2;
      size_t colon = h.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(h.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string_view value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length") {
        length = std::strtoll(std::string(value).c_str(), nullptr, 10);
      } else if (name == "transfer-encoding") {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (name == "connection") {
        close_after = close_after || value.find("close") != std::string_view::npos;
      } else if (name == "etag") {
        r->etag = value;
      } else if (name == "swanlab-process-time") {
        r->server_ms = std::strtod(std::string(value).c_str(), nullptr) * 1000;
      }
    }
    buf_.erase(0, head_end + 4);
    bool no_body = method == "HEAD" || r->status == 204 || r->status == 304 || r->status / 100 == 1;
    if (no_body) {
    } else if (chunked) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill(&r->error)) return false;
        }
        size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2) {
          if (!Fill(&r->error)) return false;
        }
        r->body.append(buf_, eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;  // trailers are not used by Loupe
      }
    } else if (length >= 0) {
      while (buf_.size() < static_cast<size_t>(length)) {
        if (!Fill(&r->error)) return false;
      }
      r->body = buf_.substr(0, static_cast<size_t>(length));
      buf_.erase(0, static_cast<size_t>(length));
    } else {
      std::string ignored;
      while (Fill(&ignored)) {
      }
      r->body.swap(buf_);
      close_after = true;
    }
    if (close_after) Close();
    return true;
  }

  const Target& target_;
  bool keep_alive_;
  int timeout_s_;
  int fd_ = -1;
  std::string buf_;
  uint64_t reconnects_ = 0;
};

// ---- statistics ----------------------------------------------------------------------

enum Kind {
  // writers
  kCreate,
  kSystemMeta,
  kMetrics,
  kSystemMetrics,
  kConsole,
  kHeartbeat,
  kFinish,
  // pollers
  kOpen,
  kBatch,
  kKeys,
  kSeries,
  kTail,
  kSummary,
  kConsoleRead,
  kList,
  // the final read-back
  kVerifyExport,
  kVerifyConsole,
  kVerifyExperiment,
  kKinds
};

const char* kKindNames[kKinds] = {"create",    "system_meta",   "metrics",   "system_metrics", "console",
                                  "heartbeat", "finish",        "open",      "batch",          "keys",
                                  "series",    "series_tail",   "summary",   "console_read",   "list",
                                  "export",    "console_total", "experiment"};
const char* kKindRoutes[kKinds] = {"POST /experiments",
                                   "PUT .../system",
                                   "POST .../metrics",
                                   "POST .../metrics (system/)",
                                   "POST .../console",
                                   "POST .../heartbeat",
                                   "POST .../finish",
                                   "GET /experiments/{id}",
                                   "GET .../series/batch",
                                   "GET .../keys",
                                   "GET .../series (chart)",
                                   "GET .../series?from=",
                                   "GET /experiment/{id}/summary",
                                   "GET .../console/lines?from=",
                                   "GET /projects/{id}/experiments",
                                   "GET .../series/export",
                                   "GET .../console/lines",
                                   "GET /experiments/{id}"};

struct KindStats {
  std::vector<float> client_ms, server_ms;
  uint64_t requests = 0, not_modified = 0, bytes = 0;
  std::map<int, uint64_t> errors;  // status -> count; 0: no answer
};

struct ErrorSample {
  double t;
  std::string kind, request, error;
  int status;
};

std::atomic<uint64_t> g_requests{0}, g_errors{0}, g_points_acked{0};
std::atomic<bool> g_stop{false};
std::mutex g_samples_mu;
std::vector<ErrorSample> g_samples;
std::map<std::string, uint64_t> g_sample_counts;  // kind + status -> count
double g_t0 = 0;
constexpr size_t kMaxSamples = 40;

// Inconsistencies found by pollers or the read-back; all of them fail the run.
struct Anomalies {
  uint64_t read_values = 0, read_mismatch = 0, read_gaps = 0, went_back = 0, list_short = 0;
  uint64_t bad_ack = 0, step_base = 0;
  void Add(const Anomalies& o) {
    read_values += o.read_values;
    read_mismatch += o.read_mismatch;
    read_gaps += o.read_gaps;
    went_back += o.went_back;
    list_short += o.list_short;
    bad_ack += o.bad_ack;
    step_base += o.step_base;
  }
};

std::mutex g_notes_mu;
std::vector<std::string> g_notes;  // the first anomalies, in words

void Note(const std::string& what) {
  std::lock_guard<std::mutex> lock(g_notes_mu);
  if (g_notes.size() < 20) g_notes.push_back(what);
}

// One request of the load, for the timeline (latency over the run, writes and reads apart).
struct TimedRequest {
  float t;          // when it was sent, seconds since the start
  float ms;         // round trip
  float server_ms;  // SwanLab-Process-Time (-1: none)
  bool write;
};

struct ThreadStats {
  KindStats kinds[kKinds];
  std::vector<TimedRequest> timeline;
  Anomalies anomalies;
  uint64_t reconnects = 0;
};

bool Ok(const Response& r) { return (r.status >= 200 && r.status < 300) || r.status == 304; }

// Sends one request and records its latency, or its error with a sample of the answer.
Response Call(ThreadStats& st, Http& http, Kind kind, std::string_view method, const std::string& path,
              const std::string& body = "", const std::string& if_none_match = "") {
  double t = Now();
  Response r = http.Send(method, path, body, if_none_match);
  double ms = (Now() - t) * 1000;
  KindStats& k = st.kinds[kind];
  if (kind < kVerifyExport)
    st.timeline.push_back(
        {static_cast<float>(t - g_t0), static_cast<float>(ms), static_cast<float>(r.server_ms), kind < kOpen});
  ++k.requests;
  ++g_requests;
  k.bytes += r.body.size();
  if (Ok(r)) {
    k.client_ms.push_back(static_cast<float>(ms));
    if (r.server_ms >= 0) k.server_ms.push_back(static_cast<float>(r.server_ms));
    if (r.status == 304) ++k.not_modified;
    return r;
  }
  ++k.errors[r.status];
  ++g_errors;
  std::lock_guard<std::mutex> lock(g_samples_mu);
  std::string key = std::string(kKindNames[kind]) + " " + std::to_string(r.status);
  if (g_sample_counts[key]++ < 3 && g_samples.size() < kMaxSamples) {
    std::string what = r.status ? r.body.substr(0, 400) : r.error;
    g_samples.push_back({t - g_t0, kKindNames[kind], std::string(method) + " " + path.substr(0, 200), what, r.status});
  }
  return r;
}

// What the SDK sends again later (it also waits out 401 and 403 for a right credential).
bool Retryable(int status) { return status == 0 || status == 429 || status >= 500; }

// ---- writers -------------------------------------------------------------------------

struct WriterState {
  std::atomic<int64_t> experiment_id{0};
  std::atomic<int64_t> project_id{0};
  // What the server acknowledged, for the read-back (owned by the writer until it ends).
  std::vector<uint8_t> acked_steps;         // per step: every key of the step acknowledged
  std::vector<uint8_t> acked_system_steps;  // per system step
  int64_t console_acked = 0;
  int64_t points_acked = 0;
  bool created = false, finished = false;
};

class Writer {
 public:
  Writer(const Options& o, const Target& target, int index, WriterState& state, ThreadStats& st, std::string run_tag)
      : o_(o),
        http_(target, o.writer_keepalive, o.timeout_s),
        w_(index),
        state_(state),
        st_(st),
        run_tag_(std::move(run_tag)),
        client_(HexId()) {
    for (int k = 0; k < o.keys; ++k) key_parts_.push_back(Member(KeyName(k, o.keys)));
  }

  void Run(double start, double deadline) {
    SleepUntil(start);
    if (!Create() || g_stop) return;
    base_ = "/api/v1/experiments/" + std::to_string(state_.experiment_id.load());
    SendSystemMetadata();
    const double flush_s = o_.flush_ms / 1000.0;
    const double t0 = Now();
    double next_system = t0 + o_.system_s, next_heartbeat = t0 + o_.heartbeat_s;
    int64_t flushes = 0;
    while (!g_stop) {
      double now = Now();
      if (now >= deadline) break;
      // Steps the script has logged by now at steps_per_flush per flush interval.
      int64_t due = (static_cast<int64_t>((now - t0) / flush_s) + 1) * o_.steps_per_flush;
      if (due > next_step_) SendMetrics(next_step_, due);
      next_step_ = std::max(next_step_, due);
      if (o_.console_lines > 0) SendConsole(flushes);
      if (o_.system_s > 0 && Now() >= next_system) {
        SendSystemMetrics();
        next_system += o_.system_s;
      }
      if (o_.heartbeat_s > 0 && Now() >= next_heartbeat) {
        Call(st_, http_, kHeartbeat, "POST", base_ + "/heartbeat");
        next_heartbeat += o_.heartbeat_s;
      }
      ++flushes;
      SleepUntil(std::min(deadline, t0 + static_cast<double>(flushes) * flush_s));
    }
    std::string body = "{\"status\":\"finished\",\"client\":\"" + client_ + "\",\"time\":" + Fixed(UnixNow()) + "}";
    state_.finished = Ok(SendWrite(kFinish, "POST", base_ + "/finish", body));
  }

 private:
  static std::string Fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
  }

  // A write with the SDK's retry: resent (same body, same seq) while it gets no answer,
  // 429 or 5xx, up to --retries times with backoff; every failure is an error.
  Response SendWrite(Kind kind, std::string_view method, const std::string& path, const std::string& body) {
    Response r;
    double backoff = 0.5;
    for (int attempt = 0; attempt <= o_.retries; ++attempt) {
      r = Call(st_, http_, kind, method, path, body);
      if (Ok(r) || !Retryable(r.status)) return r;
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
      backoff = std::min(backoff * 2, 5.0);
    }
    return r;
  }

  bool Create() {
    std::string body = "{\"project\":\"" + o_.project + "\",\"name\":\"soak-w" + std::to_string(w_) +
                       "\",\"run_id\":\"" + run_tag_ + "-w" + std::to_string(w_) + "\",\"description\":\"soak writer " +
                       std::to_string(w_) +
                       "\",\"config\":{\"lr\":0.001,\"batch_size\":64,\"epochs\":100,\"writer\":" + std::to_string(w_) +
                       ",\"keys\":" + std::to_string(o_.keys) +
                       ",\"optimizer\":{\"name\":\"adam\",\"betas\":[0.9,0.999]},\"model\":\"resnet18\"},"
                       "\"client\":\"" +
                       client_ + "\",\"start_time\":" + Fixed(UnixNow()) + "}";
    Response r = SendWrite(kCreate, "POST", "/api/v1/experiments", body);
    if (!Ok(r)) return false;
    size_t data = r.body.find("\"data\":");
    int64_t id = IntField(r.body, "id", 0, data);
    int64_t project = IntField(r.body, "project_id", 0, data);
    int64_t step_base = IntField(r.body, "step_base", -1, data);
    if (id <= 0 || project <= 0) {
      ++st_.anomalies.bad_ack;
      Note("create answered " + std::to_string(r.status) + " without an id: " + r.body.substr(0, 300));
      return false;
    }
    if (step_base != 0) {
      ++st_.anomalies.step_base;
      Note("writer " + std::to_string(w_) + ": a new run has step_base " + std::to_string(step_base));
    }
    state_.project_id = project;
    state_.experiment_id = id;
    state_.created = true;
    return true;
  }

  void SendSystemMetadata() {
    std::string body =
        "{\"system\":{\"os\":\"Linux-6.1.0-soak-x86_64-with-glibc2.36\",\"python\":\"3.11.2\",\"hostname\":\"soak-" +
        std::to_string(w_) + "\",\"cpu_count\":2,\"memory_gb\":23.4,\"command\":\"python3 train.py --writer " +
        std::to_string(w_) +
        "\",\"git\":{\"commit\":\"0123456789abcdef0123456789abcdef01234567\",\"dirty\":false}},"
        "\"requirements\":[\"numpy==1.24.2\",\"torch==2.1.0\",\"loupe==0.1.0\"]}";
    SendWrite(kSystemMeta, "PUT", base_ + "/system", body);
  }

  bool SendBatch(Kind kind, const std::string& origin, int64_t first, int64_t last, int key_from, int key_count,
                 std::vector<uint8_t>& acked) {
    std::string body;
    body.reserve(static_cast<size_t>((last - first) * key_count * 40 + 200));
    body = "{\"client\":\"" + client_ + "\",\"seq\":" + std::to_string(++seq_) + ",\"step_origin\":\"" + origin +
           "\",\"partial\":true,\"steps\":[";
    const std::string ts = Fixed(UnixNow());  // the SDK stamps a flush's steps with one time
    for (int64_t s = first; s < last; ++s) {
      if (s != first) body += ',';
      body += "{\"step\":" + std::to_string(s) + ",\"ts\":" + ts + ",\"values\":{";
      for (int k = 0; k < key_count; ++k) {
        if (k) body += ',';
        if (key_from + k < o_.keys) {
          body += key_parts_[static_cast<size_t>(key_from + k)];
        } else {
          body += Member(KeyName(key_from + k, o_.keys));
        }
        AppendValue(body, Value(w_, key_from + k, s));
      }
      body += "}}";
    }
    body += "]}";
    Response r = SendWrite(kind, "POST", base_ + "/metrics", body);
    if (!Ok(r)) return false;
    int64_t n = (last - first) * key_count;
    bool duplicate = r.body.find("\"duplicate\":true") != std::string::npos;
    int64_t accepted = IntField(r.body, "accepted", -1);
    // A resend whose first copy was applied (its answer lost) is acknowledged as a duplicate.
    if (!duplicate && accepted != n) {
      ++st_.anomalies.bad_ack;
      Note("writer " + std::to_string(w_) + ": metrics batch of " + std::to_string(n) + " points answered " +
           std::to_string(r.status) + ": " + r.body.substr(0, 300));
      return false;
    }
    if (acked.size() < static_cast<size_t>(last)) acked.resize(static_cast<size_t>(last), 0);
    std::fill(acked.begin() + first, acked.begin() + last, 1);
    state_.points_acked += n;
    g_points_acked += static_cast<uint64_t>(n);
    return true;
  }

  void SendMetrics(int64_t first, int64_t last) {
    SendBatch(kMetrics, "resume", first, last, 0, o_.keys, state_.acked_steps);
  }

  void SendSystemMetrics() {
    SendBatch(kSystemMetrics, "resume_system", system_step_, system_step_ + 1, o_.keys, kSystemKeyCount,
              state_.acked_system_steps);
    ++system_step_;
  }

  void SendConsole(int64_t flush) {
    std::string body = "{\"client\":\"" + client_ + "\",\"seq\":" + std::to_string(++seq_) + ",\"lines\":[";
    const std::string ts = Fixed(UnixNow());
    for (int i = 0; i < o_.console_lines; ++i) {
      if (i) body += ',';
      bool warn = i == 0 && flush % 50 == 49;
      char text[160];
      std::snprintf(text, sizeof text, "%sepoch %lld step %lld: loss=%.4f lr=0.001 (writer %d, line %d)",
                    warn ? "WARN " : "", static_cast<long long>(next_step_ / 1000), static_cast<long long>(next_step_),
                    std::fabs(Value(w_, 0, next_step_ ? next_step_ - 1 : 0)) / 1e3, w_, i);
      body += std::string("{\"text\":\"") + text + "\",\"stream\":\"" + (warn ? "stderr" : "stdout") +
              "\",\"ts\":" + ts + "}";
    }
    body += "]}";
    if (Ok(SendWrite(kConsole, "POST", base_ + "/console", body))) state_.console_acked += o_.console_lines;
  }

  const Options& o_;
  Http http_;
  int w_;
  WriterState& state_;
  ThreadStats& st_;
  std::string run_tag_, client_, base_;
  std::vector<std::string> key_parts_;
  int64_t seq_ = 0, next_step_ = 0, system_step_ = 0;
};

// ---- pollers -------------------------------------------------------------------------

// One writer's experiment as an open page sees it.
struct Page {
  int writer = -1;
  int64_t id = 0;
  std::string base;
  std::map<std::string, int64_t> last_step;  // from /keys
  std::map<std::string, int64_t> tail_seen;  // last step read by the incremental reads
  std::map<std::string, std::string> etags;  // the chart requests' validators
  int64_t console_seen = -1;                 // last console line read (-1: not yet asked)
};

class Poller {
 public:
  Poller(const Options& o, const Target& target, int index, std::vector<std::unique_ptr<WriterState>>& writers,
         ThreadStats& st)
      : o_(o),
        http_(target, true, o.timeout_s),
        p_(index),
        writers_(writers),
        st_(st),
        rng_(static_cast<uint64_t>(index) * 7919 + 17) {
    for (int k = 0; k < o.keys + kSystemKeyCount; ++k) key_index_[KeyName(k, o.keys)] = k;
  }

  void Run(double start, double deadline) {
    SleepUntil(start);
    Page page;
    int writer = p_ % std::max(1, o_.writers);
    double next_switch = Now() + o_.switch_s, next_list = Now();
    const double poll_s = o_.poll_ms / 1000.0;
    double next = Now();
    while (!g_stop && Now() < deadline) {
      if (page.writer != writer && !Open(writer, page)) {
        SleepUntil(std::min(deadline, Now() + 0.2));  // its writer has not created the run yet
        continue;
      }
      Tick(page);
      if (Now() >= next_list) {
        List();
        next_list += o_.list_s;
      }
      if (o_.switch_s > 0 && Now() >= next_switch && o_.writers > 1) {
        writer = static_cast<int>((writer + 1 + rng_() % static_cast<uint64_t>(o_.writers - 1)) % o_.writers);
        next_switch += o_.switch_s;
      }
      next += poll_s;
      if (next < Now()) next = Now();  // behind: poll again at once, without a burst
      SleepUntil(std::min(deadline, next));
    }
    st_.reconnects += http_.reconnects();
  }

 private:
  bool Open(int writer, Page& page) {
    int64_t id = writers_[static_cast<size_t>(writer)]->experiment_id.load();
    if (id == 0) return false;
    page = Page();
    page.writer = writer;
    page.id = id;
    page.base = "/api/v1/experiments/" + std::to_string(id);
    Call(st_, http_, kOpen, "GET", page.base);
    Response keys = Call(st_, http_, kKeys, "GET", page.base + "/keys");
    if (!Ok(keys)) return true;
    std::string names;
    for (const auto& [key, last, value] : ParseKeys(page, keys.body)) {
      names += (names.empty() ? "" : ",") + key;
      page.last_step[key] = last;
      page.tail_seen[key] = last;
    }
    if (!names.empty()) {
      Response batch = Call(st_, http_, kBatch, "GET",
                            page.base + "/series/batch?keys=" + names + "&max_points=" + std::to_string(o_.max_points));
      if (Ok(batch)) {
        for (size_t p = 0; (p = batch.body.find("{\"key\":\"", p)) != std::string::npos;) {
          p += 8;
          size_t end = batch.body.find('"', p);
          std::string key = batch.body.substr(p, end - p);
          CheckPoints(page, key, batch.body, end, nullptr);
        }
      }
    }
    return true;
  }

  struct KeyState {
    std::string key;
    int64_t last_step;
    double last_value;
  };

  std::vector<KeyState> ParseKeys(const Page& page, const std::string& body) {
    std::vector<KeyState> out;
    for (size_t p = body.find("\"keys\":["); p != std::string::npos;) {
      size_t open = body.find('{', p);
      if (open == std::string::npos) break;
      size_t close = body.find('}', open);
      if (close == std::string::npos) break;
      KeyState k{StringField(body, "key", open, close), IntField(body, "last_step", -1, open, close), 0};
      size_t v = body.find("\"last_value\":", open);
      bool has_value = false;
      if (v != std::string::npos && v < close) {
        v += 13;
        has_value = ParseValue(body, &v, &k.last_value);
      }
      // The last value /keys reports is the one sent for the last step.
      auto idx = key_index_.find(k.key);
      if (has_value && idx != key_index_.end() && k.last_step >= 0) {
        ++st_.anomalies.read_values;
        if (!SameValue(k.last_value, Value(page.writer, idx->second, k.last_step))) {
          ++st_.anomalies.read_mismatch;
          Note("/keys of experiment " + std::to_string(page.id) + ": " + k.key + " last_value at step " +
               std::to_string(k.last_step) + " is not the value sent");
        }
      }
      out.push_back(k);
      p = close + 1;
    }
    return out;
  }

  // Checks the [step, value, ts] points after s[from] against the values sent. With
  // `expect_from`, the points must be every step from *expect_from on (an incremental
  // read); it is advanced past the last one.
  void CheckPoints(const Page& page, const std::string& key, const std::string& s, size_t from, int64_t* expect_from) {
    auto idx = key_index_.find(key);
    size_t p = s.find("\"points\":[", from);
    if (p == std::string::npos || idx == key_index_.end()) return;
    p += 10;
    while (p < s.size() && s[p] == '[') {
      ++p;
      int64_t step = 0;
      double value = 0;
      if (!ParseInt(s, &p, &step) || s[p] != ',') break;
      ++p;
      if (!ParseValue(s, &p, &value)) break;
      ++st_.anomalies.read_values;
      if (!SameValue(value, Value(page.writer, idx->second, step))) {
        ++st_.anomalies.read_mismatch;
        Note("experiment " + std::to_string(page.id) + " " + key + " step " + std::to_string(step) +
             ": read a value that was not sent");
      }
      if (expect_from) {
        if (step != *expect_from) {
          ++st_.anomalies.read_gaps;
          Note("experiment " + std::to_string(page.id) + " " + key + ": incremental read expected step " +
               std::to_string(*expect_from) + ", got " + std::to_string(step));
        }
        *expect_from = step + 1;
      }
      p = s.find(']', p);
      if (p == std::string::npos) break;
      ++p;
      if (p < s.size() && s[p] == ',') ++p;
    }
  }

  void Tick(Page& page) {
    Response keys = Call(st_, http_, kKeys, "GET", page.base + "/keys");
    if (Ok(keys)) {
      for (const KeyState& k : ParseKeys(page, keys.body)) {
        auto known = page.last_step.find(k.key);
        int64_t before = known == page.last_step.end() ? -1 : known->second;
        if (k.last_step < before) {
          ++st_.anomalies.went_back;
          Note("experiment " + std::to_string(page.id) + " " + k.key + ": last_step went back from " +
               std::to_string(before) + " to " + std::to_string(k.last_step));
        }
        if (k.last_step <= before) continue;
        page.last_step[k.key] = k.last_step;
        // The chart's refresh: the whole range, downsampled, revalidated.
        std::string chart = page.base + "/series?key=" + k.key + "&max_points=" + std::to_string(o_.max_points);
        Response r = Call(st_, http_, kSeries, "GET", chart, "", page.etags[k.key]);
        if (Ok(r) && r.status != 304) {
          page.etags[k.key] = r.etag;
          CheckPoints(page, k.key, r.body, 0, nullptr);
        }
        // What arrived since the last read, every point.
        auto seen = page.tail_seen.find(k.key);
        int64_t from = seen == page.tail_seen.end() ? 0 : seen->second + 1;
        Response tail =
            Call(st_, http_, kTail, "GET",
                 page.base + "/series?key=" + k.key + "&from=" + std::to_string(from) + "&max_points=100000");
        if (Ok(tail)) {
          int64_t expect = from;
          CheckPoints(page, k.key, tail.body, 0, &expect);
          page.tail_seen[k.key] = expect - 1;
        }
      }
    }
    Call(st_, http_, kSummary, "GET", "/api/v1/experiment/" + std::to_string(page.id) + "/summary");
    ReadConsole(page);
  }

  // The console view's tail: the lines after the last one read, 500 at most.
  void ReadConsole(Page& page) {
    if (page.console_seen < 0) {
      Response r = Call(st_, http_, kConsoleRead, "GET", page.base + "/console/lines?from=1&limit=1");
      if (Ok(r)) page.console_seen = std::max<int64_t>(0, IntField(r.body, "total", 0) - 500);
      return;
    }
    Response r = Call(st_, http_, kConsoleRead, "GET",
                      page.base + "/console/lines?from=" + std::to_string(page.console_seen + 1) + "&limit=500");
    if (!Ok(r)) return;
    for (size_t p = 0; (p = r.body.find("\"line\":", p)) != std::string::npos;) {
      p += 7;
      int64_t line = 0;
      if (!ParseInt(r.body, &p, &line)) break;
      if (line != page.console_seen + 1) {
        ++st_.anomalies.read_gaps;
        Note("experiment " + std::to_string(page.id) + ": console line " + std::to_string(line) + " after line " +
             std::to_string(page.console_seen));
      }
      page.console_seen = line;
    }
  }

  // The experiments table: every run created before the request must be listed.
  void List() {
    int64_t project = 0;
    int created = 0;
    for (const auto& w : writers_) {
      if (w->experiment_id.load() != 0) {
        ++created;
        project = w->project_id.load();
      }
    }
    if (project == 0) return;
    Response r = Call(st_, http_, kList, "GET", "/api/v1/projects/" + std::to_string(project) + "/experiments");
    if (!Ok(r)) return;
    int listed = 0;
    for (size_t p = 0; (p = r.body.find("\"run_id\":", p)) != std::string::npos; ++p) ++listed;
    if (listed < created) {
      ++st_.anomalies.list_short;
      Note("project list holds " + std::to_string(listed) + " experiments, " + std::to_string(created) +
           " were created before it was asked for");
    }
  }

  const Options& o_;
  Http http_;
  int p_;
  std::vector<std::unique_ptr<WriterState>>& writers_;
  ThreadStats& st_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, int> key_index_;
};

// ---- the server's resources ----------------------------------------------------------

struct ServerSample {
  double t;  // seconds since the load started
  double rss_mb;
  int fds, threads;
  double cpu_s;  // user + system
};

bool SampleServer(int pid, double t, ServerSample* out) {
  out->t = t;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  if (!status) return false;
  std::string line;
  out->rss_mb = 0;
  out->threads = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) out->rss_mb = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    if (line.rfind("Threads:", 0) == 0) out->threads = std::atoi(line.c_str() + 8);
  }
  out->fds = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++out->fds;
    }
    closedir(d);
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = all.rfind(')');
  out->cpu_s = 0;
  if (paren != std::string::npos) {
    std::istringstream fields(all.substr(paren + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
      if (i == 14) utime = std::stoull(f);
      if (i == 15) {
        stime = std::stoull(f);
        break;
      }
    }
    out->cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return true;
}

// ---- the read-back -------------------------------------------------------------------

struct Verification {
  uint64_t points_checked = 0, points_missing = 0, points_mismatched = 0, points_extra = 0;
  uint64_t console_acked = 0, console_stored = 0, experiments_not_finished = 0, experiments = 0;
  void Add(const Verification& o) {
    points_checked += o.points_checked;
    points_missing += o.points_missing;
    points_mismatched += o.points_mismatched;
    points_extra += o.points_extra;
    console_acked += o.console_acked;
    console_stored += o.console_stored;
    experiments_not_finished += o.experiments_not_finished;
    experiments += o.experiments;
  }
};

// Reads every point of one key back (the full-resolution CSV export) and compares it
// with what was acknowledged.
void VerifyKey(ThreadStats& st, Http& http, const std::string& base, int w, int k, const std::string& key,
               const std::vector<uint8_t>& acked, Verification& v) {
  int64_t expected = std::count(acked.begin(), acked.end(), 1);
  if (expected == 0) return;  // nothing acknowledged (a run shorter than --system-s): maybe no key
  Response r = Call(st, http, kVerifyExport, "GET", base + "/series/export?key=" + key + "&format=csv");
  if (!Ok(r)) {
    v.points_missing += static_cast<uint64_t>(expected);
    return;
  }
  std::vector<uint8_t> seen(acked.size(), 0);
  std::string_view s = r.body;
  size_t p = s.find('\n');
  while (p != std::string_view::npos && p + 1 < s.size()) {
    ++p;
    int64_t step = 0;
    double value = 0;
    if (!ParseInt(s, &p, &step) || s[p] != ',') break;
    ++p;
    if (!ParseValue(s, &p, &value)) break;
    if (step < 0 || step >= static_cast<int64_t>(acked.size()) || !acked[static_cast<size_t>(step)]) {
      ++v.points_extra;  // stored, never acknowledged (a write whose answer was lost)
    } else {
      seen[static_cast<size_t>(step)] = 1;
      ++v.points_checked;
      if (!SameValue(value, Value(w, k, step))) {
        ++v.points_mismatched;
        Note("read-back: writer " + std::to_string(w) + " " + key + " step " + std::to_string(step) +
             " holds a value that was not sent");
      }
    }
    p = s.find('\n', p);
  }
  for (size_t i = 0; i < acked.size(); ++i) {
    if (acked[i] && !seen[i]) {
      if (v.points_missing++ < 5) {
        Note("read-back: writer " + std::to_string(w) + " " + key + " step " + std::to_string(i) +
             " was acknowledged but is not stored");
      }
    }
  }
}

void VerifyWriter(const Options& o, ThreadStats& st, Http& http, int w, const WriterState& ws, Verification& v) {
  if (!ws.created) return;
  ++v.experiments;
  std::string base = "/api/v1/experiments/" + std::to_string(ws.experiment_id.load());
  for (int k = 0; k < o.keys; ++k) VerifyKey(st, http, base, w, k, KeyName(k, o.keys), ws.acked_steps, v);
  for (int k = o.keys; k < o.keys + kSystemKeyCount; ++k) {
    VerifyKey(st, http, base, w, k, KeyName(k, o.keys), ws.acked_system_steps, v);
  }
  Response c = Call(st, http, kVerifyConsole, "GET", base + "/console/lines?from=1&limit=1");
  v.console_acked += static_cast<uint64_t>(ws.console_acked);
  if (Ok(c)) v.console_stored += static_cast<uint64_t>(IntField(c.body, "total", 0));
  Response e = Call(st, http, kVerifyExperiment, "GET", base);
  if (ws.finished && (!Ok(e) || StringField(e.body, "status") != "finished")) {
    ++v.experiments_not_finished;
    Note("experiment " + std::to_string(ws.experiment_id.load()) + " is \"" + StringField(e.body, "status") +
         "\" after its finish was acknowledged");
  }
}

// ---- report --------------------------------------------------------------------------

double Percentile(const std::vector<float>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct KindSummary {
  uint64_t requests = 0, not_modified = 0, errors = 0, bytes = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0, server_p50 = 0, server_p99 = 0, server_max = 0;
  std::map<int, uint64_t> by_status;
};

// One tenth of the load.
struct Slice {
  double from, to;  // seconds since the start
  uint64_t writes = 0, reads = 0;
  double write_p99 = 0, read_p99 = 0, max = 0, server_max = 0, rss_mb = 0;
  int fds = 0;
};

KindSummary Summarize(const std::vector<ThreadStats*>& all, Kind k) {
  KindSummary s;
  std::vector<float> client, server;
  for (const ThreadStats* t : all) {
    const KindStats& ks = t->kinds[k];
    s.requests += ks.requests;
    s.not_modified += ks.not_modified;
    s.bytes += ks.bytes;
    client.insert(client.end(), ks.client_ms.begin(), ks.client_ms.end());
    server.insert(server.end(), ks.server_ms.begin(), ks.server_ms.end());
    for (const auto& [status, n] : ks.errors) {
      s.by_status[status] += n;
      s.errors += n;
    }
  }
  std::sort(client.begin(), client.end());
  std::sort(server.begin(), server.end());
  s.p50 = Percentile(client, 0.5);
  s.p99 = Percentile(client, 0.99);
  s.p999 = Percentile(client, 0.999);
  s.max = client.empty() ? 0 : client.back();
  s.server_p50 = Percentile(server, 0.5);
  s.server_p99 = Percentile(server, 0.99);
  s.server_max = server.empty() ? 0 : server.back();
  return s;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// The credential: --token, else the server's local token in --data-dir, else $LOUPE_TOKEN.
bool ReadToken(Options& o) {
  if (!o.token.empty()) return true;
  if (!o.data_dir.empty()) {
    std::ifstream f(o.data_dir + "/local.token");
    std::getline(f, o.token);
    while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back()))) o.token.pop_back();
    return !o.token.empty();
  }
  if (const char* env = std::getenv("LOUPE_TOKEN"); env && *env) o.token = env;
  return !o.token.empty();
}

bool Resolve(const Options& o, Target* t) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o.host.c_str(), std::to_string(o.port).c_str(), &hints, &res) != 0 || !res) return false;
  std::memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
  t->addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  bool v6 = o.host.find(':') != std::string::npos;
  t->host_header = "Host: " + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port) + "\r\n";
  t->auth_header = "Authorization: Bearer " + o.token + "\r\n";
  return true;
}

// ---- the run -------------------------------------------------------------------------

// What the run measured, for the report and the JSON file.
struct Results {
  double load_s = 0, verify_s = 0, client_cpu_percent = 0;
  std::vector<KindSummary> kinds;  // indexed by Kind
  uint64_t requests = 0, errors = 0, reconnects = 0;
  std::vector<ServerSample> samples;  // every second of the load
  bool have_after_load = false, have_after_verify = false;
  ServerSample after_load{}, after_verify{};
  double rss_start = 0, rss_peak = 0, rss_end = 0, rss_slope = 0, server_cpu_percent = 0;
  int fds_start = 0, fds_peak = 0, fds_end = 0, threads_peak = 0;
  std::vector<Slice> slices;
  Verification verification;
  Anomalies anomalies;
  uint64_t points_acked = 0;
  std::vector<std::string> failures;
};

double CpuSeconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

// Runs the writers and pollers until the deadline, sampling the server every second.
void RunLoad(const Options& o, const Target& target, std::vector<std::unique_ptr<WriterState>>& writers,
             std::vector<std::unique_ptr<ThreadStats>>& stats, Results& res) {
  std::mutex samples_mu;
  g_t0 = Now();
  const double deadline = g_t0 + o.seconds;
  if (ServerSample first{}; o.server_pid && SampleServer(o.server_pid, 0, &first)) res.samples.push_back(first);
  rusage self_start{}, self_end{};
  getrusage(RUSAGE_SELF, &self_start);

  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    double next = g_t0 + 1, next_report = g_t0 + 10;
    while (sampling) {
      SleepUntil(next);
      next += 1;
      ServerSample s{};
      bool have = o.server_pid && SampleServer(o.server_pid, Now() - g_t0, &s);
      if (have) {
        std::lock_guard<std::mutex> lock(samples_mu);
        res.samples.push_back(s);
      }
      if (Now() < next_report || Now() > deadline + 1) continue;
      next_report += 10;
      std::string server =
          have ? ", server RSS " + std::to_string(static_cast<int>(s.rss_mb)) + " MB, " + std::to_string(s.fds) + " fds"
               : "";
      std::fprintf(stderr, "[%4.0f s] %llu requests, %llu errors, %llu points acknowledged%s\n", Now() - g_t0,
                   static_cast<unsigned long long>(g_requests.load()), static_cast<unsigned long long>(g_errors.load()),
                   static_cast<unsigned long long>(g_points_acked.load()), server.c_str());
    }
  });

  char tag[64];
  std::snprintf(tag, sizeof tag, "soak-%lld-%d", static_cast<long long>(UnixNow()), static_cast<int>(getpid()));
  std::vector<std::thread> threads;
  // Writers start spread over one flush interval, pollers over one poll interval.
  for (int i = 0; i < o.writers; ++i) {
    threads.emplace_back([&, i] {
      Writer w(o, target, i, *writers[static_cast<size_t>(i)], *stats[static_cast<size_t>(i)], tag);
      w.Run(g_t0 + o.flush_ms / 1000.0 * i / o.writers, deadline);
    });
  }
  for (int i = 0; i < o.pollers; ++i) {
    threads.emplace_back([&, i] {
      Poller p(o, target, i, writers, *stats[static_cast<size_t>(o.writers + i)]);
      p.Run(g_t0 + 0.5 + o.poll_ms / 1000.0 * i / o.pollers, deadline);
    });
  }
  for (auto& t : threads) t.join();
  res.load_s = Now() - g_t0;
  getrusage(RUSAGE_SELF, &self_end);
  res.client_cpu_percent = 100 * (CpuSeconds(self_end) - CpuSeconds(self_start)) / res.load_s;
  sampling = false;
  sampler.join();
  res.have_after_load = o.server_pid && SampleServer(o.server_pid, res.load_s, &res.after_load);
}

// Reads every writer's points back over --verify-threads connections.
void ReadBack(const Options& o, const Target& target, const std::vector<std::unique_ptr<WriterState>>& writers,
              std::vector<std::unique_ptr<ThreadStats>>& stats, Results& res) {
  const double t0 = Now();
  std::vector<Verification> parts(static_cast<size_t>(o.verify_threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.verify_threads; ++t) stats.push_back(std::make_unique<ThreadStats>());
  for (int t = 0; t < o.verify_threads; ++t) {
    threads.emplace_back([&, t] {
      Http http(target, true, o.timeout_s);
      for (int w = t; w < o.writers; w += o.verify_threads) {
        VerifyWriter(o, *stats[static_cast<size_t>(t)], http, w, *writers[static_cast<size_t>(w)],
                     parts[static_cast<size_t>(t)]);
      }
    });
  }
  for (auto& t : threads) t.join();
  res.verify_s = Now() - t0;
  for (const Verification& part : parts) res.verification.Add(part);
  res.have_after_verify = o.server_pid && SampleServer(o.server_pid, Now() - g_t0, &res.after_verify);
}

// RSS start, peak and end, its growth over the second half of the load (a leak shows
// there), descriptors, threads and CPU.
void SummarizeServer(Results& res) {
  if (res.samples.empty()) return;
  const ServerSample& first = res.samples.front();
  const ServerSample& last = res.have_after_load ? res.after_load : res.samples.back();
  res.rss_start = first.rss_mb;
  res.fds_start = first.fds;
  for (const ServerSample& s : res.samples) {
    res.rss_peak = std::max(res.rss_peak, s.rss_mb);
    res.fds_peak = std::max(res.fds_peak, s.fds);
    res.threads_peak = std::max(res.threads_peak, s.threads);
  }
  res.rss_end = last.rss_mb;
  res.fds_end = last.fds;
  res.server_cpu_percent = 100 * (last.cpu_s - first.cpu_s) / std::max(1e-9, last.t);
  double n = 0, st = 0, sr = 0, stt = 0, str = 0;  // least squares, MB per minute
  for (const ServerSample& s : res.samples) {
    if (s.t < res.load_s / 2 || s.t > res.load_s) continue;
    n += 1, st += s.t, sr += s.rss_mb, stt += s.t * s.t, str += s.t * s.rss_mb;
  }
  if (n >= 3 && n * stt - st * st > 0) res.rss_slope = 60 * (n * str - st * sr) / (n * stt - st * st);
}

// The load in ten slices: whether latency, memory or descriptors drift over the run.
std::vector<Slice> SliceTimeline(const std::vector<ThreadStats*>& load_stats, const Results& res) {
  constexpr int kSlices = 10;
  std::vector<std::vector<float>> writes(kSlices), reads(kSlices);
  std::vector<float> server_max(kSlices, 0);
  for (const ThreadStats* t : load_stats) {
    for (const TimedRequest& r : t->timeline) {
      size_t i = static_cast<size_t>(std::clamp(static_cast<int>(r.t / res.load_s * kSlices), 0, kSlices - 1));
      (r.write ? writes : reads)[i].push_back(r.ms);
      server_max[i] = std::max(server_max[i], r.server_ms);
    }
  }
  std::vector<Slice> slices;
  for (size_t i = 0; i < kSlices; ++i) {
    Slice sl{res.load_s * static_cast<double>(i) / kSlices, res.load_s * static_cast<double>(i + 1) / kSlices};
    std::sort(writes[i].begin(), writes[i].end());
    std::sort(reads[i].begin(), reads[i].end());
    sl.writes = writes[i].size();
    sl.reads = reads[i].size();
    sl.write_p99 = Percentile(writes[i], 0.99);
    sl.read_p99 = Percentile(reads[i], 0.99);
    sl.max = std::max(writes[i].empty() ? 0.0f : writes[i].back(), reads[i].empty() ? 0.0f : reads[i].back());
    sl.server_max = server_max[i];
    for (const ServerSample& s : res.samples) {
      if (s.t <= sl.to + 0.5) sl.rss_mb = s.rss_mb, sl.fds = s.fds;
    }
    slices.push_back(sl);
  }
  return slices;
}

std::vector<std::string> Failures(const Options& o, const Results& res) {
  std::vector<std::string> out;
  const Verification& v = res.verification;
  const Anomalies& a = res.anomalies;
  if (res.errors) out.push_back(std::to_string(res.errors) + " errors");
  if (v.points_missing) out.push_back(std::to_string(v.points_missing) + " acknowledged points missing");
  if (v.points_mismatched) out.push_back(std::to_string(v.points_mismatched) + " points changed");
  if (v.console_stored < v.console_acked) out.push_back("console lines missing");
  if (v.experiments_not_finished) out.push_back("experiments not finished");
  if (v.experiments < static_cast<uint64_t>(o.writers)) out.push_back("experiments not created");
  if (a.read_mismatch || a.read_gaps || a.went_back || a.list_short || a.bad_ack || a.step_base) {
    out.push_back("inconsistent reads or acknowledgements");
  }
  return out;
}

std::string Verdict(const Results& res) {
  std::string verdict = res.failures.empty() ? "PASS" : "FAIL";
  for (size_t i = 0; i < res.failures.size(); ++i) verdict += (i ? ", " : ": ") + res.failures[i];
  return verdict;
}

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

void PrintReport(const Results& res) {
  std::printf("\n%-15s %-30s %9s %8s %6s %6s %8s %8s %8s %8s %8s %8s\n", "kind", "request", "requests", "per s",
              "errors", "304", "p50 ms", "p99 ms", "p999 ms", "max ms", "srv p99", "srv max");
  for (int k = 0; k < kKinds; ++k) {
    const KindSummary& s = res.kinds[static_cast<size_t>(k)];
    if (k == kVerifyExport) std::printf("read-back, after the load (%.1f s):\n", res.verify_s);
    if (s.requests == 0) continue;
    std::printf("%-15s %-30s %9llu %8.1f %6llu %6llu %8.2f %8.2f %8.2f %8.1f %8.2f %8.1f\n", kKindNames[k],
                kKindRoutes[k], U(s.requests), s.requests / (k < kVerifyExport ? res.load_s : res.verify_s),
                U(s.errors), U(s.not_modified), s.p50, s.p99, s.p999, s.max, s.server_p99, s.server_max);
  }
  std::printf(
      "load: %llu requests in %.1f s (%.0f/s), %llu errors, %llu kept connections reopened after the "
      "server closed them\n",
      U(res.requests), res.load_s, res.requests / res.load_s, U(res.errors), U(res.reconnects));
  std::printf("load generator CPU: %.1f%% of one core\n", res.client_cpu_percent);
  if (!res.samples.empty()) {
    std::printf(
        "server RSS: start %.1f MB, peak %.1f MB, end of load %.1f MB, after the read-back %.1f MB; "
        "growth over the second half %+.2f MB/min\n",
        res.rss_start, res.rss_peak, res.rss_end, res.have_after_verify ? res.after_verify.rss_mb : 0.0, res.rss_slope);
    std::printf(
        "server descriptors: start %d, peak %d, end %d; threads peak %d; CPU %.1f%% of one core during "
        "the load\n",
        res.fds_start, res.fds_peak, res.fds_end, res.threads_peak, res.server_cpu_percent);
  }
  std::printf("over the run:   %9s %9s %9s %9s %9s %9s %8s %6s\n", "writes", "reads", "write p99", "read p99", "max ms",
              "srv max", "RSS MB", "fds");
  for (const Slice& sl : res.slices) {
    char span[32];
    std::snprintf(span, sizeof span, "%.0f-%.0f s", sl.from, sl.to);
    std::printf("  %-12s %9llu %9llu %9.2f %9.2f %9.1f %9.1f %8.1f %6d\n", span, U(sl.writes), U(sl.reads),
                sl.write_p99, sl.read_p99, sl.max, sl.server_max, sl.rss_mb, sl.fds);
  }
  const Verification& v = res.verification;
  const Anomalies& a = res.anomalies;
  std::printf(
      "points: %llu acknowledged, %llu read back exactly, %llu missing, %llu changed, %llu stored but "
      "never acknowledged\n",
      U(res.points_acked), U(v.points_checked), U(v.points_missing), U(v.points_mismatched), U(v.points_extra));
  std::printf("console lines: %llu acknowledged, %llu stored; experiments: %llu, %llu not finished\n",
              U(v.console_acked), U(v.console_stored), U(v.experiments), U(v.experiments_not_finished));
  std::printf(
      "pollers: %llu values read and checked, %llu not the value sent, %llu gaps, %llu steps going back, "
      "%llu short lists\n",
      U(a.read_values), U(a.read_mismatch), U(a.read_gaps), U(a.went_back), U(a.list_short));
  if (!g_samples.empty()) {
    std::printf("errors (first of each kind and status):\n");
    for (const ErrorSample& e : g_samples) {
      std::printf("  [%.1f s] %s: %s -> %d %s\n", e.t, e.kind.c_str(), e.request.c_str(), e.status, e.error.c_str());
    }
  }
  for (const std::string& n : g_notes) std::printf("  %s\n", n.c_str());
  std::printf("result: %s\n", Verdict(res).c_str());
}

void WriteJson(const Options& o, const Results& res) {
  std::ostringstream j;
  j.precision(6);
  j << "{\"writers\":" << o.writers << ",\"pollers\":" << o.pollers << ",\"seconds\":" << o.seconds
    << ",\"keys\":" << o.keys << ",\"steps_per_flush\":" << o.steps_per_flush << ",\"flush_ms\":" << o.flush_ms
    << ",\"poll_ms\":" << o.poll_ms << ",\"writer_keepalive\":" << (o.writer_keepalive ? "true" : "false")
    << ",\"load_seconds\":" << res.load_s << ",\"requests\":" << res.requests << ",\"errors\":" << res.errors
    << ",\"client_cpu_percent\":" << res.client_cpu_percent << ",\"kinds\":{";
  for (int k = 0; k < kKinds; ++k) {
    const KindSummary& s = res.kinds[static_cast<size_t>(k)];
    j << (k ? "," : "") << "\"" << kKindNames[k] << "\":{\"requests\":" << s.requests
      << ",\"not_modified\":" << s.not_modified << ",\"errors\":" << s.errors << ",\"bytes\":" << s.bytes
      << ",\"p50_ms\":" << s.p50 << ",\"p99_ms\":" << s.p99 << ",\"p999_ms\":" << s.p999 << ",\"max_ms\":" << s.max
      << ",\"server_p50_ms\":" << s.server_p50 << ",\"server_p99_ms\":" << s.server_p99
      << ",\"server_max_ms\":" << s.server_max << ",\"by_status\":{";
    bool first = true;
    for (const auto& [status, n] : s.by_status) {
      j << (first ? "" : ",") << "\"" << status << "\":" << n;
      first = false;
    }
    j << "}}";
  }
  j << "},\"server\":{\"rss_mb_start\":" << res.rss_start << ",\"rss_mb_peak\":" << res.rss_peak
    << ",\"rss_mb_end\":" << res.rss_end
    << ",\"rss_mb_after_readback\":" << (res.have_after_verify ? res.after_verify.rss_mb : 0)
    << ",\"rss_mb_per_min_second_half\":" << res.rss_slope << ",\"fds_start\":" << res.fds_start
    << ",\"fds_peak\":" << res.fds_peak << ",\"fds_end\":" << res.fds_end << ",\"threads_peak\":" << res.threads_peak
    << ",\"cpu_percent\":" << res.server_cpu_percent << ",\"timeline\":[";  // [t, rss MB, fds, threads, cpu s]
  for (size_t i = 0; i < res.samples.size(); ++i) {
    const ServerSample& s = res.samples[i];
    j << (i ? "," : "") << "[" << s.t << "," << s.rss_mb << "," << s.fds << "," << s.threads << "," << s.cpu_s << "]";
  }
  j << "]},\"slices\":[";
  for (size_t i = 0; i < res.slices.size(); ++i) {
    const Slice& sl = res.slices[i];
    j << (i ? "," : "") << "{\"from_s\":" << sl.from << ",\"to_s\":" << sl.to << ",\"writes\":" << sl.writes
      << ",\"reads\":" << sl.reads << ",\"write_p99_ms\":" << sl.write_p99 << ",\"read_p99_ms\":" << sl.read_p99
      << ",\"max_ms\":" << sl.max << ",\"server_max_ms\":" << sl.server_max << ",\"rss_mb\":" << sl.rss_mb
      << ",\"fds\":" << sl.fds << "}";
  }
  const Verification& v = res.verification;
  const Anomalies& a = res.anomalies;
  j << "],\"points\":{\"acknowledged\":" << res.points_acked << ",\"verified\":" << v.points_checked
    << ",\"missing\":" << v.points_missing << ",\"mismatched\":" << v.points_mismatched
    << ",\"extra\":" << v.points_extra << "},\"console\":{\"acknowledged\":" << v.console_acked
    << ",\"stored\":" << v.console_stored << "},\"pollers\":{\"values_checked\":" << a.read_values
    << ",\"mismatched\":" << a.read_mismatch << ",\"gaps\":" << a.read_gaps << ",\"went_back\":" << a.went_back
    << ",\"short_lists\":" << a.list_short << "},\"error_samples\":[";
  for (size_t i = 0; i < g_samples.size(); ++i) {
    const ErrorSample& e = g_samples[i];
    j << (i ? "," : "") << "{\"t\":" << e.t << ",\"kind\":\"" << e.kind << "\",\"request\":\"" << JsonEscape(e.request)
      << "\",\"status\":" << e.status << ",\"answer\":\"" << JsonEscape(e.error) << "\"}";
  }
  j << "],\"result\":\"" << JsonEscape(Verdict(res)) << "\"}\n";
  std::ofstream(o.json_out) << j.str();
}

// Checks the options and the server; 0 when the run can start, else the exit status.
int Prepare(int argc, char** argv, Options& o, Target& target) {
  if (!ParseArgs(argc, argv, o)) return 2;
  if (o.help) {
    PrintUsage(o);
    return -1;
  }
  if (o.writers < 1 || o.pollers < 0 || o.keys < 1 || o.steps_per_flush < 1 || o.flush_ms < 1 || o.poll_ms < 1 ||
      o.seconds <= 0 || o.list_s < 1 || o.verify_threads < 1) {
    std::fprintf(stderr,
                 "soak_load: writers, keys, steps-per-flush, flush-ms, poll-ms, list-s, seconds and "
                 "verify-threads must be positive\n");
    return 2;
  }
  if (!ReadToken(o)) {
    std::fprintf(stderr, "soak_load: no credential: give --token, --data-dir (its local.token) or LOUPE_TOKEN\n");
    return 2;
  }
  if (!Resolve(o, &target)) {
    std::fprintf(stderr, "soak_load: cannot resolve %s\n", o.host.c_str());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, [](int) { g_stop = true; });  // Ctrl-C: stop the load, still read everything back
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;  // a connection per writer and poller, and some closing
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  // Fail fast, with the reason, when the server is not there or refuses the credential.
  Http probe(target, false, o.timeout_s);
  Response r = probe.Send("GET", "/api/v1/projects", "");
  if (!Ok(r)) {
    std::string why = r.status ? std::to_string(r.status) + " " + r.body.substr(0, 300) : r.error;
    std::fprintf(stderr, "soak_load: GET /api/v1/projects on %s:%d: %s\n", o.host.c_str(), o.port, why.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  Target target;
  if (int status = Prepare(argc, argv, o, target); status != 0) return status < 0 ? 0 : status;
  std::string pid = o.server_pid ? ", server pid " + std::to_string(o.server_pid) : "";
  std::printf(
      "soak: %d writers (%d keys x %d steps every %d ms, %d console lines, system metrics every %d s, "
      "heartbeat every %d s, %s), %d pollers (every %d ms, list every %d s, switch every %d s), %.0f s, "
      "%s:%d%s\n",
      o.writers, o.keys, o.steps_per_flush, o.flush_ms, o.console_lines, o.system_s, o.heartbeat_s,
      o.writer_keepalive ? "keep-alive" : "a connection per request", o.pollers, o.poll_ms, o.list_s, o.switch_s,
      o.seconds, o.host.c_str(), o.port, pid.c_str());
  std::fflush(stdout);

  std::vector<std::unique_ptr<WriterState>> writers;
  for (int i = 0; i < o.writers; ++i) writers.push_back(std::make_unique<WriterState>());
  std::vector<std::unique_ptr<ThreadStats>> stats, verify_stats;
  for (int i = 0; i < o.writers + o.pollers; ++i) stats.push_back(std::make_unique<ThreadStats>());
  Results res;
  RunLoad(o, target, writers, stats, res);
  std::fprintf(stderr, "reading back every acknowledged point...\n");
  ReadBack(o, target, writers, verify_stats, res);

  std::vector<ThreadStats*> load_stats, all_stats;
  for (auto& s : stats) {
    load_stats.push_back(s.get());
    res.anomalies.Add(s->anomalies);
    res.reconnects += s->reconnects;
  }
  all_stats = load_stats;
  for (auto& s : verify_stats) all_stats.push_back(s.get());
  for (int k = 0; k < kKinds; ++k) {
    res.kinds.push_back(Summarize(k < kVerifyExport ? load_stats : all_stats, static_cast<Kind>(k)));
    if (k < kVerifyExport) res.requests += res.kinds.back().requests;
    res.errors += res.kinds.back().errors;
  }
  res.points_acked = g_points_acked.load();
  SummarizeServer(res);
  res.slices = SliceTimeline(load_stats, res);
  res.failures = Failures(o, res);
  PrintReport(res);
  if (!o.json_out.empty()) WriteJson(o, res);
  return res.failures.empty() ? 0 : 1;
}
