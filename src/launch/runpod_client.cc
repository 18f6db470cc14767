#include "launch/runpod_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmath>
#include <utility>

#include "common/ascii_case.h"
#include "common/time_util.h"
#include "llm/sse_parser.h"

namespace loupe::launch {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxAnswerBytes = 8 << 20;

// Fields read only when they have the type RunPod documents: a null or a surprise must not
// throw on the HTTP client's thread (nlohmann's value() throws on a type mismatch).
std::string Str(const json& obj, const char* key, const std::string& fallback = "") {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : fallback;
}
bool Bool(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_boolean() && obj[key].get<bool>();
}
// A number (a percent RunPod documents as an integer is taken as it comes); `missing` when
// there is none.
double Num(const json& obj, const char* key, double missing = 0) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return missing;
  const double v = obj[key].get<double>();
  return std::isfinite(v) ? v : missing;
}

std::string Describe(const json& problem) {
  std::string detail = Str(problem, "detail");
  if (problem.contains("errors") && problem["errors"].is_array()) {
    for (const json& e : problem["errors"]) {
      if (e.is_string()) detail += (detail.empty() ? "" : "; ") + e.get<std::string>();
    }
  }
  return detail;
}

}  // namespace

json CreatePodBody(const RunPodCreate& c) {
  json body = {{"name", c.name},
               {"image", c.image},
               {"cloud", c.cloud},
               {"gpu", {{"id", c.gpu_id}, {"count", c.gpu_count}}},
               {"disk", c.disk_gb},
               {"env", c.env},
               {"args", c.args}};
  if (!c.data_centers.empty()) body["dataCenterIds"] = c.data_centers;
  return body;
}

Result<RunPodPod> ParsePod(const json& pod) {
  if (!pod.is_object() || !pod.contains("id") || !pod["id"].is_string() || !pod.contains("status") ||
      !pod["status"].is_string()) {
    return Status::Corrupt("RunPod answered with something that is not a pod (no id or status)");
  }
  RunPodPod p;
  p.id = pod["id"].get<std::string>();
  p.status = pod["status"].get<std::string>();
  if (pod.contains("cost") && pod["cost"].is_number() && std::isfinite(pod["cost"].get<double>())) {
    p.cost = std::max(0.0, pod["cost"].get<double>());
  }
  if (pod.contains("dataCenterId") && pod["dataCenterId"].is_string()) p.data_center = pod["dataCenterId"].get<std::string>();
  // Null while the pod is not running; {} or a part of it otherwise (every field is optional).
  if (pod.contains("runtime") && pod["runtime"].is_object()) {
    const json& rt = pod["runtime"];
    if (rt.contains("uptime") && rt["uptime"].is_number()) p.uptime = static_cast<int64_t>(std::max(0.0, Num(rt, "uptime")));
    if (rt.contains("gpus") && rt["gpus"].is_array()) {
      for (const json& g : rt["gpus"]) {
        p.gpus.push_back({std::max(0.0, Num(g, "util")), std::max(0.0, Num(g, "memoryUtil"))});
      }
    }
    if (rt.contains("cpu")) p.cpu_util = Num(rt["cpu"], "util", -1);
    if (rt.contains("memory")) p.memory_util = Num(rt["memory"], "util", -1);
  }
  return p;
}

Result<std::vector<RunPodGpuType>> ParseGpuTypes(const json& body) {
  if (!body.is_object() || !body.contains("gpus") || !body["gpus"].is_array()) {
    return Status::Corrupt("RunPod's GPU catalog has no `gpus` list");
  }
  std::vector<RunPodGpuType> out;
  for (const json& g : body["gpus"]) {
    if (!g.is_object() || !g.contains("id") || !g["id"].is_string() || !g.contains("price") ||
        !g["price"].is_object()) {
      return Status::Corrupt("RunPod's GPU catalog has an entry without an id or price");
    }
    RunPodGpuType t;
    t.id = g["id"].get<std::string>();
    t.name = Str(g, "name", t.id);
    t.memory_gb = static_cast<int>(Num(g, "memory"));
    t.secure = Bool(g, "secure");
    t.community = Bool(g, "community");
    t.price_secure = Num(g["price"], "secure");
    t.price_community = Num(g["price"], "community");
    if (g.contains("maxCount")) {
      t.max_secure = static_cast<int>(Num(g["maxCount"], "secure"));
      t.max_community = static_cast<int>(Num(g["maxCount"], "community"));
    }
    out.push_back(std::move(t));
  }
  return out;
}

Status RunPodError(long http_status, const std::string& body) {
  const json problem = json::parse(body, nullptr, false);
  // Only RunPod's own words: an error page from a proxy is not worth a job's message.
  const std::string detail = problem.is_object() ? Describe(problem) : "";
  const std::string what = "RunPod answered " + std::to_string(http_status) + (detail.empty() ? "" : ": " + detail);
  switch (http_status) {
    case 401: return Status::Unauthenticated(what + " (is the API key right?)");
    case 402: return Status::Forbidden(what + " (the account's balance is too low)");
    case 403: return Status::Forbidden(what);
    case 404: return Status::NotFound(what);
    case 409: return Status::Conflict(what);
    case 429: return Status::RateLimited(what);
    case 400:
    case 422: return Status::InvalidArgument(what);
    default: return Status::Unavailable(what);
  }
}

Result<json> RunPodClient::Call(const std::string& method, const std::string& path, const std::string& key,
                                const json* body) {
  llm::OutboundRequest req;
  req.method = method;
  req.url = base_ + path;
  req.headers = {{"Authorization", "Bearer " + key}, {"Accept", "application/json"}};
  if (body) {
    req.body = body->dump();
    req.headers.emplace_back("Content-Type", "application/json");
  }
  req.connect_timeout_ms = 10000;
  req.timeout_ms = 30000;
  req.idle_timeout_s = 20;
  LOUPE_ASSIGN_OR_RETURN(llm::FetchResult r, http_.Fetch(std::move(req), kMaxAnswerBytes));
  if (r.head.status == 204) return json(nullptr);
  if (r.head.status < 200 || r.head.status >= 300) return RunPodError(r.head.status, r.body);
  json out = json::parse(r.body, nullptr, false);
  if (out.is_discarded()) return Status::Unavailable("RunPod's answer to " + path + " is not JSON");
  return out;
}

Result<std::vector<RunPodGpuType>> RunPodClient::GpuTypes(const std::string& key) {
  LOUPE_ASSIGN_OR_RETURN(json body, Call("GET", "/v2/catalog/gpus", key, nullptr));
  return ParseGpuTypes(body);
}

Result<RunPodPod> RunPodClient::CreatePod(const std::string& key, const RunPodCreate& c) {
  const json body = CreatePodBody(c);
  LOUPE_ASSIGN_OR_RETURN(json pod, Call("POST", "/v2/pods", key, &body));
  return ParsePod(pod);
}

Result<std::vector<std::pair<std::string, RunPodPod>>> RunPodClient::ListPods(const std::string& key) {
  LOUPE_ASSIGN_OR_RETURN(json body, Call("GET", "/v2/pods", key, nullptr));
  if (!body.is_object() || !body.contains("pods") || !body["pods"].is_array()) {
    return Status::Corrupt("RunPod's list of pods has no `pods`");
  }
  std::vector<std::pair<std::string, RunPodPod>> out;
  for (const json& p : body["pods"]) {
    LOUPE_ASSIGN_OR_RETURN(RunPodPod pod, ParsePod(p));
    out.emplace_back(Str(p, "name"), std::move(pod));
  }
  return out;
}

Status RunPodClient::Action(const std::string& key, const std::string& id, const std::string& action) {
  const json body = {{"action", action}};
  Result<json> r = Call("POST", "/v2/pods/" + id + "/action", key, &body);
  if (!r.ok() && action == "terminate" && r.status().code() == Code::kNotFound) return Status::Ok();
  return r.status();
}

std::shared_ptr<llm::OutboundCall> RunPodClient::StreamLogs(const std::string& key, const std::string& id,
                                                            const std::string& last_event_id, int64_t since_micros,
                                                            int tail,
                                                            std::function<void(std::vector<RunPodLogLine>)> on_lines,
                                                            std::function<void(const Status&)> on_end) {
  llm::OutboundRequest req;
  req.method = "GET";
  req.url = base_ + "/v2/pods/" + id + "/logs?source=container" +
            (since_micros > 0 ? "&since=" + FormatIsoMicros(since_micros) : "&tail=" + std::to_string(tail));
  req.headers = {{"Authorization", "Bearer " + key}, {"Accept", "text/event-stream"}};
  if (!last_event_id.empty()) req.headers.emplace_back("Last-Event-ID", last_event_id);
  req.timeout_ms = int64_t{24} * 3600 * 1000;  // a stream lives as long as the pod; reopened when it ends
  req.idle_timeout_s = 600;                    // RunPod documents no keep-alive: a quiet job is not a dead stream
  struct State {
    llm::SseParser parser{4 << 20, true};  // a line over 4 MiB is left out, not a stream stopped for good
    long status = 0;
    std::string error_body;
  };
  auto state = std::make_shared<State>();
  llm::OutboundCallbacks cb;
  cb.on_head = [state](const llm::ResponseHead& head) {
    state->status = head.status;
    return true;
  };
  cb.on_body = [state, on_lines](std::string_view bytes) {
    if (state->status != 200) {
      if (state->error_body.size() < 4096) state->error_body.append(bytes.substr(0, 4096));
      return true;
    }
    std::vector<RunPodLogLine> lines;
    Status s = state->parser.Feed(bytes, [&](llm::SseEvent& e) {
      if (e.cut) {  // its JSON is cut too: said, and passed, so that the cursor moves past it
        lines.push_back(RunPodLogLine{e.id, 0, "container", "[loupe] a log line of more than 4 MiB was left out"});
        return Status::Ok();
      }
      const json data = json::parse(e.data, nullptr, false);
      if (!data.is_object() || !data.contains("line") || !data["line"].is_string()) return Status::Ok();
      RunPodLogLine l;
      l.id = e.id;
      l.text = data["line"].get<std::string>();
      l.source = Str(data, "source", "container");
      if (data.contains("ts") && data["ts"].is_string()) l.ts = ParseIsoMicros(data["ts"].get<std::string>()).value_or(0);
      lines.push_back(std::move(l));
      return Status::Ok();
    });
    if (!lines.empty()) on_lines(std::move(lines));
    return s.ok();
  };
  cb.on_done = [state, on_end](const Status& s, long status) {
    if (s.ok() && status != 200 && status != 0) {
      on_end(RunPodError(status, state->error_body));
    } else {
      on_end(s);
    }
  };
  return http_.Submit(std::move(req), std::move(cb));
}

// The URL names this machine: a loopback or unspecified address (127.0.0.0/8, ::1, 0.0.0.0,
// ::, IPv4-mapped ones) or localhost, however written.
bool LoopbackUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string host = url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of("/?#"));
  if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  host = AsciiLower(host);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host == "localhost" || host == "ip6-localhost" || host == "ip6-loopback" ||
      (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) {
    return true;
  }
  in_addr v4{};
  // inet_aton, as resolvers do: 127.1, 2130706433, 0x7f000001 and 0177.0.0.1 are 127.0.0.1.
  if (inet_aton(host.c_str(), &v4) != 0) {
    const uint32_t a = ntohl(v4.s_addr);
    return (a >> 24) == 127 || a == 0;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127 || (v6.s6_addr[12] | v6.s6_addr[13] | v6.s6_addr[14] | v6.s6_addr[15]) == 0;
  }
  return false;
}

}  // namespace loupe::launch
