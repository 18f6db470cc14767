// Load generator for Loupe's HTTP API, run as a separate process from the server.
//
//   http_load ingest PORT EXPERIMENTS KEYS STEPS BATCH_STEPS CONNECTIONS
//     creates EXPERIMENTS runs, then streams KEYS x STEPS points into each over
//     CONNECTIONS keep-alive connections, BATCH_STEPS steps per request; every
//     request waits for its durable acknowledgement. Prints points/s.
//   http_load query PORT PATH REPEAT
//     GETs PATH REPEAT times; prints the server time (SwanLab-Process-Time header)
//     and the client round trip, median and p99, in milliseconds.
//
// Bodies are assembled from pre-formatted pieces so the client, which shares the
// machine's two cores with the server, spends as little CPU as it can.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Connection() { close(fd_); }

  // Sends one request and reads the whole response; returns the status code.
  int Send(const char* method, const std::string& path, const std::string& body, std::string* out_body,
           double* server_seconds) {
    std::string req = std::string(method) + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    // Every request needs a credential: the server's local token (run_all.sh exports it).
    static const char* token = std::getenv("LOUPE_TOKEN");
    if (token && *token) req += std::string("Authorization: Bearer ") + token + "\r\n";
    if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n";
    WriteAll(req.data(), req.size());
    if (!body.empty()) WriteAll(body.data(), body.size());
    // Read headers.
    buf_.clear();
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) Fill();
    std::string headers = buf_.substr(0, header_end);
    int status = std::atoi(headers.c_str() + 9);
    size_t length = 0;
    if (auto p = Find(headers, "content-length:"); p != std::string::npos) length = std::strtoul(headers.c_str() + p + 15, nullptr, 10);
    if (server_seconds) {
      auto p = Find(headers, "swanlab-process-time:");
      *server_seconds = p == std::string::npos ? -1 : std::atof(headers.c_str() + p + 21);
    }
    while (buf_.size() < header_end + 4 + length) Fill();
    if (out_body) *out_body = buf_.substr(header_end + 4, length);
    return status;
  }

 private:
  static size_t Find(const std::string& headers, const char* name) {
    std::string lower = headers;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    return lower.find(name);
  }
  void WriteAll(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = write(fd_, p, n);
      if (w <= 0) { std::perror("write"); std::exit(1); }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  void Fill() {
    char tmp[65536];
    ssize_t r = read(fd_, tmp, sizeof(tmp));
    if (r <= 0) { std::fprintf(stderr, "connection closed\n"); std::exit(1); }
    buf_.append(tmp, static_cast<size_t>(r));
  }
  int fd_;
  std::string buf_;
};

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Ingest(int port, int experiments, int keys, long steps, int batch_steps, int connections) {
  std::vector<long> ids;
  {
    Connection c(port);
    for (int e = 0; e < experiments; ++e) {
      std::string body;
      int st = c.Send("POST", "/api/v1/experiments",
                      "{\"project\":\"bench\",\"name\":\"bench-" + std::to_string(e) + "\"}", &body, nullptr);
      if (st != 201 && st != 200) { std::fprintf(stderr, "create failed: %s\n", body.c_str()); return 1; }
      ids.push_back(std::strtol(body.c_str() + body.find("\"id\":") + 5, nullptr, 10));
    }
  }
  std::vector<std::string> key_parts(static_cast<size_t>(keys)), values(1024);
  for (int k = 0; k < keys; ++k) key_parts[static_cast<size_t>(k)] = "\"train/metric_" + std::to_string(k) + "\":";
  for (size_t i = 0; i < values.size(); ++i) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.6g", std::sin(i * 0.01) * 10 + i * 0.001);
    values[i] = b;
  }
  std::atomic<long> points{0};
  std::atomic<int> next_exp{0};
  double start = Seconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      Connection c(port);
      std::string body, resp;
      body.reserve(static_cast<size_t>(batch_steps) * static_cast<size_t>(keys) * 32);
      for (int e; (e = next_exp.fetch_add(1)) < experiments;) {
        std::string path = "/api/v1/experiments/" + std::to_string(ids[static_cast<size_t>(e)]) + "/metrics";
        for (long s0 = 0; s0 < steps; s0 += batch_steps) {
          body = "{\"steps\":[";
          long s1 = std::min(steps, s0 + batch_steps);
          for (long s = s0; s < s1; ++s) {
            if (s != s0) body += ',';
            body += "{\"step\":";
            body += std::to_string(s);
            body += ",\"values\":{";
            for (int k = 0; k < keys; ++k) {
              if (k) body += ',';
              body += key_parts[static_cast<size_t>(k)];
              body += values[static_cast<size_t>((s * 7 + k) & 1023)];
            }
            body += "}}";
          }
          body += "]}";
          int st = c.Send("POST", path, body, &resp, nullptr);
          if (st != 200) { std::fprintf(stderr, "ingest failed %d: %s\n", st, resp.c_str()); std::exit(1); }
          points += (s1 - s0) * keys;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double secs = Seconds() - start;
  std::printf("ingest: %ld points in %.2f s = %.0f points/s (%d experiments x %d keys x %ld steps, %d steps/request, %d connections)\n",
              points.load(), secs, points.load() / secs, experiments, keys, steps, batch_steps, connections);
  std::printf("first_experiment_id %ld\n", ids.front());
  return 0;
}

int Query(int port, const std::string& path, int repeat) {
  Connection c(port);
  std::vector<double> server, client;
  std::string body;
  for (int i = 0; i < repeat; ++i) {
    double t0 = Seconds(), srv = 0;
    int st = c.Send("GET", path, "", &body, &srv);
    if (st != 200) { std::fprintf(stderr, "query failed %d: %s\n", st, body.substr(0, 300).c_str()); return 1; }
    client.push_back((Seconds() - t0) * 1000);
    server.push_back(srv * 1000);
  }
  std::sort(server.begin(), server.end());
  std::sort(client.begin(), client.end());
  auto pct = [](const std::vector<double>& v, double p) { return v[static_cast<size_t>(p * (v.size() - 1))]; };
  size_t points = 0;
  for (size_t p = 0; (p = body.find("\"index\":", p)) != std::string::npos; ++p) ++points;
  std::printf("query %s: server median %.3f ms p99 %.3f ms; round trip median %.3f ms p99 %.3f ms; %zu points, %zu bytes\n",
              path.c_str(), pct(server, 0.5), pct(server, 0.99), pct(client, 0.5), pct(client, 0.99), points,
              body.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 8 && std::strcmp(argv[1], "ingest") == 0) {
    return Ingest(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atol(argv[5]),
                  std::atoi(argv[6]), std::atoi(argv[7]));
  }
  if (argc >= 5 && std::strcmp(argv[1], "query") == 0) return Query(std::atoi(argv[2]), argv[3], std::atoi(argv[4]));
  std::fprintf(stderr, "usage: http_load ingest PORT EXPERIMENTS KEYS STEPS BATCH_STEPS CONNECTIONS\n"
                       "       http_load query PORT PATH REPEAT\n");
  return 2;
}
