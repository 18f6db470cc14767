// RunPodClient: the part of RunPod's REST API v2 (https://api.runpod.io, Bearer key) that
// runs a training job in a pod: the GPU catalog, create, get, actions (stop, terminate)
// and the pod's log stream (server-sent events). Field names and shapes follow RunPod's
// own OpenAPI document (runpod/docs api-reference-v2/openapi.json, summarised with its
// commit in shared/specs/runpod-v2-subset.md). Errors carry RunPod's own `detail`; a
// refused key reads as Unauthenticated, a gone pod as NotFound, a wrong state as Conflict.
// Thread-safe: every call is one HTTP exchange through the shared HttpClient.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "llm/http_client.h"

namespace loupe::launch {

struct RunPodGpuType {
  std::string id;    // what a pod asks for ("NVIDIA GeForce RTX 4090")
  std::string name;  // "RTX 4090"
  int memory_gb = 0;
  bool secure = false, community = false;          // offered on that cloud
  double price_secure = 0, price_community = 0;    // USD per hour for one GPU
  int max_secure = 0, max_community = 0;           // most GPUs of it on one pod
  double Price(const std::string& cloud) const { return cloud == "COMMUNITY" ? price_community : price_secure; }
  int MaxCount(const std::string& cloud) const { return cloud == "COMMUNITY" ? max_community : max_secure; }
  bool Offered(const std::string& cloud) const { return cloud == "COMMUNITY" ? community : secure; }
};

struct RunPodGpuUse {
  double util = 0;         // percent
  double memory_util = 0;  // percent of the GPU's memory
};

struct RunPodPod {
  std::string id;
  std::string status;  // PROVISIONING, STARTING, RUNNING, EXITED, ERROR, TERMINATED
  double cost = 0;     // USD per hour, billed now (0 once EXITED or TERMINATED)
  int64_t uptime = -1; // seconds the container has run (-1: not reported)
  std::vector<RunPodGpuUse> gpus;
  double cpu_util = -1, memory_util = -1;  // percent (-1: not reported)
  std::string data_center;
};

struct RunPodCreate {
  std::string name, image, cloud = "SECURE";
  std::string gpu_id;
  int gpu_count = 1;
  int disk_gb = 50;
  std::vector<std::string> data_centers;
  std::map<std::string, std::string> env;
  std::string args;  // the command the container runs (arguments of its entrypoint)
};

// The JSON RunPod's createPod takes for `c` (only its documented keys: it refuses others).
nlohmann::json CreatePodBody(const RunPodCreate& c);
// A Pod object or a GpuType list as RunPod sends them; Corrupt when a required field is
// missing or mistyped.
Result<RunPodPod> ParsePod(const nlohmann::json& pod);
Result<std::vector<RunPodGpuType>> ParseGpuTypes(const nlohmann::json& body);
// An error answer (application/problem+json {title, status, detail, errors}) as a Status.
Status RunPodError(long http_status, const std::string& body);

// One log line of the pod's stream: {"ts", "source", "line"} with the event's id.
struct RunPodLogLine {
  std::string id;      // the stream's cursor after this line (sent back as Last-Event-ID)
  int64_t ts = 0;      // micros; 0 when the time does not parse
  std::string source;  // container or system
  std::string text;
};

// The URL names this machine: a loopback or unspecified address (127.0.0.0/8, ::1, 0.0.0.0,
// ::, IPv4-mapped ones) or localhost, however written (upper case, a trailing dot). A pod on
// RunPod cannot reach such a --public-url.
bool LoopbackUrl(const std::string& url);

class RunPodClient {
 public:
  // `base_url`: https://api.runpod.io (tests: a stand-in's address).
  RunPodClient(std::string base_url, llm::HttpClient& http) : base_(std::move(base_url)), http_(http) {}

  Result<std::vector<RunPodGpuType>> GpuTypes(const std::string& key);
  Result<RunPodPod> CreatePod(const std::string& key, const RunPodCreate& c);
  // Every pod of the account, with its name (GET /v2/pods has no filter and no pages).
  Result<std::vector<std::pair<std::string, RunPodPod>>> ListPods(const std::string& key);
  // "stop" (the container gets SIGTERM, the GPU is released, the disk kept) or "terminate"
  // (the pod is deleted). A pod already gone counts as terminated.
  Status Action(const std::string& key, const std::string& id, const std::string& action);
  // Streams the pod's container log after `last_event_id`, else from `since_micros` (> 0),
  // else the last `tail` lines first.
  // `on_lines` gets each batch of lines as they arrive (on the client's thread); `on_end`
  // once, when the stream ends or fails. Cancel the returned call to stop it.
  std::shared_ptr<llm::OutboundCall> StreamLogs(const std::string& key, const std::string& id,
                                                const std::string& last_event_id, int64_t since_micros, int tail,
                                                std::function<void(std::vector<RunPodLogLine>)> on_lines,
                                                std::function<void(const Status&)> on_end);
  const std::string& base_url() const { return base_; }

 private:
  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const std::string& key,
                              const nlohmann::json* body);
  std::string base_;
  llm::HttpClient& http_;
};

}  // namespace loupe::launch
