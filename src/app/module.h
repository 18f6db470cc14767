// Module: one subsystem as the server assembles it. Each subsystem has one module
// (tracking, CLaaS, datasets, training) that owns its services and threads, adds its
// API routes and pages, and starts and stops with the server; its tables are its
// store domain's (store/schema.cc). A new subsystem (LLM, evaluations, orchestration)
// adds a module and one line in cli/main.cc, not edits across the others.
//
// Lifecycle, on the main thread: construct (services, no threads that need the server
// yet) -> AddRoutes -> the server listens -> Start -> serve -> Stop (before any module
// is destroyed) -> destroy in reverse order of construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "web/http_types.h"

namespace loupe::app {

// Half the physical memory, at most 4096 MiB (training/memory_estimate.h).
int64_t DefaultTrainingMemoryMb();

// The server's configuration, as `loupe serve` parsed it; each module takes what it needs.
struct ServerConfig {
  std::string data_dir = "./data";
  int heartbeat_timeout_seconds = 120;
  std::string feedback_dir;  // empty: <data_dir>/feedback
  int claas_import_interval = 10;
  std::string import_root;   // empty: <data_dir>/imports
  int max_upload_mb = 64;
  int workers = 2;
  // New data is refused (507) while the data folder's disk has less free than this.
  int min_free_mb = 256;
  // Access control (app/auth_module.h): credentials on every request but sign-in;
  // --no-auth turns them off (loopback only, unless explicitly overridden).
  bool auth_enabled = true;
  bool restrict_hosts = true;              // answer loopback names and allowed_hosts only
  std::vector<std::string> allowed_hosts;  // --allowed-host
  std::string secret_key_base64;           // LOUPE_SECRET_KEY; empty: <data_dir>/secret.key
  // Launched jobs on other machines (RunPod pods) reach this server here ("": they cannot
  // be launched), and RunPod's API is here (tests: a stand-in).
  std::string public_url;          // --public-url, LOUPE_PUBLIC_URL
  std::string runpod_url = "https://api.runpod.io";  // LOUPE_RUNPOD_URL
  int runpod_poll_ms = 2000;
  std::string azure_prices_url = "https://prices.azure.com";  // LOUPE_AZURE_PRICES_URL
  // Training runs whose estimated memory is above this are refused (MiB; 0: no limit).
  int64_t training_memory_mb = DefaultTrainingMemoryMb();
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const char* name() const = 0;
  virtual void AddRoutes(std::vector<Route>& routes) = 0;
  // After the server listens: recovery of interrupted work, background threads.
  virtual Status Start() { return Status::Ok(); }
  // Before any module is destroyed: stop threads that call other modules.
  virtual void Stop() {}
};

inline void AppendRoutes(std::vector<Route>& to, std::vector<Route> from) {
  for (Route& r : from) to.push_back(std::move(r));
}

}  // namespace loupe::app
