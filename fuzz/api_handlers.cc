// Fuzz target: real route handlers, called as the server calls them (an HttpRequest in,
// an HttpResponse out; no socket): every POST, PUT and PATCH route of Loupe's native
// API (web/native_api.cc), the SwanLab API (web/swanlab_api.cc) and the dataset API
// (web/dataset_api.cc: uploads), over TrackingService, DatasetService and an SQLite
// store in a temporary folder, followed by a read of the experiment the request may
// have changed (stored JSON comes back out).
// Input: one byte choosing the route (mod the number of routes); a second whose bit 0
// makes the path's ids invalid ("7x") instead of the experiment made at start, and
// whose bit 1 sends the body as multipart/form-data with boundary "B" instead of JSON;
// then the body.
// Checks, beyond "no crash, leak or UB" (an exception escaping a handler is a crash
// here, a 500 in the server): no answer is a 5xx, since the disk is healthy, and every
// answer's body is JSON.
// Seeds: fuzz/corpus/api_handlers/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "datasets/dataset_service.h"
#include "store/store.h"
#include "tracking/tracking_service.h"
#include "web/api_routes.h"

namespace fs = std::filesystem;

namespace {

struct Server {
  std::string dir;
  std::unique_ptr<loupe::Store> store;
  std::unique_ptr<loupe::TrackingService> tracking;
  std::unique_ptr<loupe::datasets::DatasetService> datasets;
  std::vector<loupe::Route> routes;  // the routes that take a body
  loupe::Handler get_experiment;
  std::string first_id;
};

Server& TheServer() {
  static Server* s = [] {
    auto* s = new Server;
    s->dir = loupe::fuzz::ScratchDir("api").string();  // removed at exit
    loupe::StoreOptions so;
    so.data_dir = s->dir;
    so.sync_full = false;  // a crash of this process is the finding; no power cuts here
    auto store = loupe::OpenSqliteStore(so);
    if (!store.ok()) std::abort();
    s->store = std::move(*store);
    loupe::TrackingOptions to;
    to.data_dir = s->dir;
    s->tracking = std::make_unique<loupe::TrackingService>(*s->store, to);
    loupe::datasets::DatasetOptions dso;
    dso.data_dir = s->dir;
    dso.max_upload_bytes = 1 << 20;
    s->datasets = std::make_unique<loupe::datasets::DatasetService>(*s->store, dso);
    std::vector<loupe::Route> all = loupe::NativeApiRoutes(*s->tracking);
    for (loupe::Route& r : loupe::SwanlabApiRoutes(*s->tracking)) all.push_back(std::move(r));
    for (loupe::Route& r : loupe::DatasetApiRoutes(*s->datasets)) all.push_back(std::move(r));
    for (loupe::Route& r : all) {
      if (!r.handler) continue;
      if (r.method == "GET" && r.pattern == "/api/v1/experiments/:id") s->get_experiment = r.handler;
      if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") s->routes.push_back(std::move(r));
    }
    if (!s->get_experiment || s->routes.empty()) std::abort();
    loupe::NewExperiment e;
    e.project = "fuzz";
    e.name = "first";
    auto created = s->tracking->StartRun(e);
    if (!created.ok()) std::abort();
    s->first_id = std::to_string(created->experiment.id);
    return s;
  }();
  return *s;
}

// A response must be JSON and not a server error (the disk is healthy).
void Check(const loupe::HttpResponse& r) {
  if (r.status >= 500) std::abort();
  if (r.content_type.rfind("application/json", 0) == 0 && !r.body.empty() &&
      nlohmann::json::parse(r.body, nullptr, false).is_discarded()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Server& s = TheServer();
  const loupe::Route& route = s.routes[data[0] % s.routes.size()];
  loupe::HttpRequest req;
  req.method = route.method;
  req.path = route.pattern;
  req.content_type = (data[1] & 2) ? "multipart/form-data; boundary=B" : "application/json";
  req.body.assign(reinterpret_cast<const char*>(data + 2), size - 2);
  // Every path parameter of the pattern (":id", ":name", ...), as the router sets them,
  // gets the experiment's id, or an id the handler must refuse.
  const std::string id = (data[1] & 1) ? "7x" : s.first_id;
  for (size_t at = route.pattern.find(':'); at != std::string::npos; at = route.pattern.find(':', at + 1)) {
    const size_t end = route.pattern.find_first_of("/(", at);
    req.params[route.pattern.substr(at + 1, end == std::string::npos ? end : end - at - 1)] = id;
  }
  Check(route.handler(req));

  loupe::HttpRequest get;
  get.method = "GET";
  get.params["id"] = s.first_id;
  Check(s.get_experiment(get));
  return 0;
}
