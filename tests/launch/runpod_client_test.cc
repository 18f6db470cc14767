// RunPod's shapes, read and written as its OpenAPI document gives them (runpod/docs
// api-reference-v2/openapi.json; the examples below are that document's own).
#include "launch/runpod_client.h"

#include <gtest/gtest.h>

namespace loupe::launch {
namespace {

using json = nlohmann::json;

TEST(RunPodClientTest, ReadsTheDocumentsRunningPod) {
  const json pod = json::parse(R"({
    "id": "7h9k2m4n6p", "name": "pytorch-training", "status": "RUNNING",
    "actions": ["stop", "restart", "terminate"], "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
    "args": "", "disk": 50, "mounts": {}, "ports": ["22/tcp"], "env": {}, "registry": null,
    "cloud": "SECURE", "dataCenterId": "EU-RO-1", "cudaVersion": "12.8",
    "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1, "vcpuCount": 16, "memory": 64},
    "ssh": {"proxy": null, "direct": null}, "template": null, "cost": 0.44, "locked": false,
    "globalNetworking": {"enabled": false},
    "runtime": {"uptime": 3600, "ports": [{"private": 22, "public": 34446, "type": "tcp", "ip": "195.26.233.3"}],
                "gpus": [{"util": 87, "memoryUtil": 42}, {"util": 3, "memoryUtil": 0}], "cpu": {"util": 12}},
    "createdAt": "2026-03-13T20:00:00Z", "startedAt": "2026-03-13T20:01:00Z"})");
  Result<RunPodPod> p = ParsePod(pod);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->id, "7h9k2m4n6p");
  EXPECT_EQ(p->status, "RUNNING");
  EXPECT_DOUBLE_EQ(p->cost, 0.44);
  EXPECT_EQ(p->uptime, 3600);
  EXPECT_EQ(p->data_center, "EU-RO-1");
  ASSERT_EQ(p->gpus.size(), 2u);
  EXPECT_DOUBLE_EQ(p->gpus[0].util, 87);
  EXPECT_DOUBLE_EQ(p->gpus[0].memory_util, 42);
  EXPECT_DOUBLE_EQ(p->gpus[1].util, 3);
  EXPECT_DOUBLE_EQ(p->cpu_util, 12);
  EXPECT_DOUBLE_EQ(p->memory_util, -1);  // not reported
}

TEST(RunPodClientTest, ANewPodHasAnEmptyOrNullRuntime) {
  for (const char* runtime : {"{}", "null"}) {
    const json pod = json::parse(std::string(R"({"id": "pod_abc123", "status": "PROVISIONING", "cost": 0.44,
      "dataCenterId": null, "runtime": )") + runtime + "}");
    Result<RunPodPod> p = ParsePod(pod);
    ASSERT_TRUE(p.ok()) << runtime;
    EXPECT_EQ(p->uptime, -1);
    EXPECT_TRUE(p->gpus.empty());
    EXPECT_EQ(p->data_center, "");
  }
  EXPECT_FALSE(ParsePod(json::parse(R"({"status": "RUNNING"})")).ok());
  EXPECT_FALSE(ParsePod(json::parse(R"({"id": 5, "status": "RUNNING"})")).ok());
  EXPECT_FALSE(ParsePod(json::parse(R"([])")).ok());
}

TEST(RunPodClientTest, ReadsTheDocumentsGpuType) {
  const json body = json::parse(R"({"gpus": [{"id": "NVIDIA GeForce RTX 4090", "name": "RTX 4090", "pool": "ADA_24",
    "manufacturer": "NVIDIA", "memory": 24, "secure": true, "community": true,
    "price": {"secure": 0.44, "community": 0.31, "serverless": 1.1},
    "maxCount": {"secure": 8, "community": 4}, "availability": "HIGH", "dataCenters": []}]})");
  Result<std::vector<RunPodGpuType>> g = ParseGpuTypes(body);
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->size(), 1u);
  const RunPodGpuType& t = g->front();
  EXPECT_EQ(t.id, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(t.name, "RTX 4090");
  EXPECT_EQ(t.memory_gb, 24);
  EXPECT_DOUBLE_EQ(t.Price("SECURE"), 0.44);
  EXPECT_DOUBLE_EQ(t.Price("COMMUNITY"), 0.31);
  EXPECT_EQ(t.MaxCount("SECURE"), 8);
  EXPECT_EQ(t.MaxCount("COMMUNITY"), 4);
  EXPECT_TRUE(t.Offered("COMMUNITY"));
  EXPECT_FALSE(ParseGpuTypes(json::parse(R"({"gpu": []})")).ok());
  EXPECT_FALSE(ParseGpuTypes(json::parse(R"({"gpus": [{"id": "x"}]})")).ok());  // no price
}

TEST(RunPodClientTest, ProblemAnswersBecomeStatusesWithRunPodsWords) {
  Status s = RunPodError(422, R"({"title": "Unprocessable Entity", "status": 422, "detail": "Request validation failed.",
                                  "errors": ["$: additional properties 'bogus' not allowed"]})");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "RunPod answered 422: Request validation failed.; $: additional properties 'bogus' not allowed");
  EXPECT_EQ(RunPodError(401, R"({"title": "Unauthorized", "status": 401, "detail": "missing bearer token"})").code(),
            Code::kUnauthenticated);
  EXPECT_EQ(RunPodError(404, R"({"title": "Not Found", "status": 404, "detail": "pod not found"})").code(), Code::kNotFound);
  EXPECT_EQ(RunPodError(409, "{}").code(), Code::kConflict);
  EXPECT_EQ(RunPodError(429, "{}").code(), Code::kRateLimited);
  EXPECT_EQ(RunPodError(402, "{}").code(), Code::kForbidden);
  // A proxy's error page is not RunPod's word.
  EXPECT_EQ(RunPodError(503, "<html>upstream down</html>").message(), "RunPod answered 503");
  // Nulls where strings are documented are read as missing, never thrown on.
  Result<std::vector<RunPodGpuType>> g = ParseGpuTypes(json::parse(
      R"({"gpus": [{"id": "X", "name": null, "secure": null, "community": 1, "memory": "24",
                    "price": {"secure": null, "community": 0.2}, "maxCount": null}]})"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->front().name, "X");
  EXPECT_FALSE(g->front().secure);
  EXPECT_FALSE(g->front().community);
  EXPECT_EQ(g->front().memory_gb, 0);
  EXPECT_DOUBLE_EQ(g->front().price_community, 0.2);
  EXPECT_TRUE(ParsePod(json::parse(R"({"id": "p", "status": "RUNNING", "cost": null, "dataCenterId": 3,
                                       "runtime": {"uptime": null, "gpus": [null, {"util": "x"}], "cpu": null}})")).ok());
}

TEST(RunPodClientTest, CreateBodyHasOnlyDocumentedKeys) {
  RunPodCreate c;
  c.name = "loupe-job-1-1";
  c.image = "img:1";
  c.gpu_id = "NVIDIA GeForce RTX 4090";
  c.gpu_count = 2;
  c.env = {{"A", "1"}};
  c.args = "bash -c 'x'";
  json body = CreatePodBody(c);
  EXPECT_EQ(body, json::parse(R"({"name": "loupe-job-1-1", "image": "img:1", "cloud": "SECURE",
    "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 2}, "disk": 50, "env": {"A": "1"}, "args": "bash -c 'x'"})"));
  c.data_centers = {"EU-RO-1"};
  EXPECT_EQ(CreatePodBody(c)["dataCenterIds"], json::parse(R"(["EU-RO-1"])"));
}

}  // namespace
}  // namespace loupe::launch

namespace loupe::launch {
namespace {

TEST(LoopbackUrlTest, EveryWayOfWritingThisMachine) {
  for (const char* url : {"http://127.0.0.1:8080", "http://LOCALHOST:8080/", "http://localhost.:1", "http://0.0.0.0:8080",
                          "http://127.1.2.3", "http://[::1]:8080", "http://[::]:80", "http://[::ffff:127.0.0.1]:8080",
                          "https://user@localhost/x", "http://app.localhost:3000", "http://127.1:8080",
                          "http://2130706433:8080", "http://0x7f000001", "http://0177.0.0.1", "http://0:8080",
                          "http://ip6-localhost:8080"}) {
    EXPECT_TRUE(LoopbackUrl(url)) << url;
  }
  for (const char* url : {"https://loupe.example.com", "http://10.0.0.5:8080", "http://[2001:db8::1]:8080",
                          "http://128.0.0.1", "http://localhost.example.com", "not a url"}) {
    EXPECT_FALSE(LoopbackUrl(url)) << url;
  }
}

}  // namespace
}  // namespace loupe::launch
