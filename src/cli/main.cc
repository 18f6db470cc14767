// The loupe binary: `loupe serve` and `loupe version`.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "app/artifacts_module.h"
#include "app/auth_module.h"
#include "app/claas_module.h"
#include "app/datasets_module.h"
#include "app/evals_module.h"
#include "app/launch_module.h"
#include "app/llm_module.h"
#include "app/tracking_module.h"
#include "app/training_module.h"
#include "cli/access_commands.h"
#include "cli/eval_commands.h"
#include "cli/launch_commands.h"
#include "common/file_util.h"
#include "common/log.h"
#include "store/store.h"
#include "ui/page.h"
#include "ui/static_routes.h"
#include "web/access_gate.h"
#include "web/http_server.h"

namespace {

// Request bodies of a few MB pass through every handler thread; glibc keeps freed
// memory in per-thread arenas. Few arenas plus a periodic trim keep the resident
// size near what is live (docs/benchmarks.md, memory).
class HeapTrimmer {
 public:
  HeapTrimmer() : thread_([this] { Loop(); }) {}
  ~HeapTrimmer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stop_; })) malloc_trim(0);
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

// What `loupe serve` was given: the HTTP server's and the store's settings, and the
// modules' configuration as they take it.
struct ServeOptions {
  std::string host;
  int port = 8080;
  int threads = 4;
  bool sync_full = true;
  int slow_request_ms = 1000;
  size_t max_connections = 0;
  int max_body_memory_mb = 512;
  bool allow_unauthenticated_network = false;
  loupe::StoreQuotas quotas;
  loupe::app::ServerConfig config;
};

// The data folder holds every run, dataset, password hash and token hash: readable by
// its owner only (a folder another tool created is tightened, and said so).
void PrivateDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077) == 0) return;
  if (::chmod(dir.c_str(), st.st_mode & 0700) == 0) {
    spdlog::warn("the data folder {} was readable by other users; it is now its owner's only (mode 0700)", dir);
  }
}

// A server others can reach must know who they are: --no-auth is refused on any
// address but loopback unless explicitly overridden.
bool RefuseOpenBind(const ServeOptions& o) {
  const bool loopback = loupe::IsLoopbackName(o.host);
  if (o.config.auth_enabled || loopback) return false;
  if (!o.allow_unauthenticated_network) {
    std::fprintf(stderr,
                 "loupe: refusing to serve %s without authentication: anyone who can reach it could read, change "
                 "and delete everything. Drop --no-auth (the default asks for a token or a sign-in), bind to "
                 "127.0.0.1, or add --allow-unauthenticated-network if this network is truly private.\n",
                 o.host.c_str());
    return true;
  }
  spdlog::warn("SERVING {} WITHOUT AUTHENTICATION: anyone who can reach this address can change and delete "
               "everything (--allow-unauthenticated-network)", o.host);
  return false;
}

int Serve(const ServeOptions& o) {
  const std::string& host = o.host;
  const loupe::app::ServerConfig& config = o.config;
  const std::string& data_dir = config.data_dir;
  const bool sync_full = o.sync_full;
  loupe::StoreOptions store_options;
  store_options.data_dir = data_dir;
  store_options.sync_full = sync_full;
  store_options.quotas = o.quotas;
  spdlog::info("starting loupe {}: host {}, port {}, data dir {}, {} HTTP threads, {} job workers, "
               "heartbeat timeout {} s, fsync {}, uploads up to {} MiB, CLaaS import every {} s",
               LOUPE_VERSION, host, o.port, data_dir, o.threads, config.workers, config.heartbeat_timeout_seconds,
               sync_full ? "on" : "off", config.max_upload_mb, config.claas_import_interval);
  PrivateDataDir(data_dir);
  // One server per data folder: a second one's start-up sweeps (temporary files, artifact
  // chunks not yet committed) would delete what the first is writing. The lock goes with
  // the process, also when it is killed.
  const std::string lock_path = data_dir + "/serve.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    spdlog::critical("another `loupe serve` is using the data folder {} (or {} cannot be locked); stop it, or "
                     "give this one another --data-dir",
                     data_dir, lock_path);
    return 1;
  }
  auto store = loupe::OpenSqliteStore(store_options);
  if (!store.ok()) {
    spdlog::critical("cannot open the store: {}", store.status().message());
    return 1;
  }
  // Files half-written when the last process died (the database keeps its own journal).
  if (int swept = loupe::RemoveTempFiles(data_dir); swept > 0) {
    spdlog::info("removed {} temporary file(s) an interrupted write left in {}", swept, data_dir);
  }
  {
    // One module per subsystem, in dependency order; destroyed in reverse.
    loupe::app::AuthModule auth(**store, **store, config);
    loupe::app::TrackingModule tracking(**store, config);
    loupe::app::ClaasModule claas(tracking.service(), config);
    loupe::app::DatasetsModule datasets(**store, config);
    loupe::app::TrainingModule training(**store, datasets.service(), tracking.service(), config);
    loupe::app::ArtifactsModule artifacts(**store, config);
    loupe::app::LlmModule llm(**store, **store, **store, auth.secrets(), datasets.service());
    loupe::app::EvalsModule evals(**store, **store, **store, **store, **store, **store, llm);
    loupe::app::LaunchModule launch(**store, **store, tracking.service(), auth.auth(), auth.secrets(), config);
    tracking.SetExperimentLinks([chat = llm.TestInChatLinks(), jobs = launch.JobLinks()](int64_t experiment_id) {
      std::vector<loupe::ExperimentLink> links = jobs(experiment_id);
      for (loupe::ExperimentLink& l : chat(experiment_id)) links.push_back(std::move(l));
      return links;
    });
    std::vector<loupe::app::Module*> modules = {&auth, &tracking, &claas, &datasets, &training, &artifacts, &llm, &evals,
                                                &launch};

    std::vector<loupe::Route> routes = loupe::StaticRoutes();
    for (loupe::app::Module* m : modules) m->AddRoutes(routes);
    loupe::HttpServerOptions http;
    http.host = host;
    http.port = static_cast<uint16_t>(o.port);
    http.threads = o.threads;
    http.slow_request_ms = o.slow_request_ms;
    http.max_connections = o.max_connections;
    http.max_body_memory = static_cast<uint64_t>(o.max_body_memory_mb) << 20;
    http.not_found = loupe::NotFoundPage;
    http.gate = auth.gate();
    http.done = auth.done();
    loupe::HttpServer server(http, std::move(routes));
    loupe::Status st = server.Start();
    if (!st.ok()) {
      spdlog::critical("{}", st.message());
      (*store)->Close();
      return 1;
    }
    server.WatchSignals();
    // Links printed here are for this machine: a loopback address when bound elsewhere.
    std::string local_host = loupe::IsLoopbackName(host) ? host : "127.0.0.1";
    if (local_host.find(':') != std::string::npos && local_host[0] != '[') local_host = "[" + local_host + "]";
    const std::string base_url = "http://" + local_host + ":" + std::to_string(server.port());
    // Suites that follow a no-code session call its runs' chat endpoints here, with the
    // local token (read once the auth module has made it).
    // Launched jobs' SDKs log here with it too.
    auto local_token = [&config, &data_dir] {
      if (!config.auth_enabled) return std::string();
      loupe::Result<std::string> token = loupe::ReadFileUpTo(data_dir + "/local.token", 4096);
      std::string t = token.ok() ? *token : "";
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
      return t;
    };
    evals.SetSelf(base_url, local_token);
    launch.SetSelf(base_url, local_token);
    for (loupe::app::Module* m : modules) {
      st = m->Start();
      if (!st.ok()) {
        spdlog::critical("{} cannot start: {}", m->name(), st.message());
        for (loupe::app::Module* started : modules) started->Stop();
        (*store)->Close();
        return 1;
      }
    }
    HeapTrimmer trimmer;
    loupe::Result<std::string> link = auth.Serving(base_url, server.port());
    if (!link.ok()) {
      spdlog::critical("cannot make the sign-in link: {}", link.status().message());
      for (auto it = modules.rbegin(); it != modules.rend(); ++it) (*it)->Stop();
      (*store)->Close();
      return 1;
    }
    // stdout while serving: the ready line (tests and scripts read the port from it) and
    // the one-time sign-in link, never the log.
    std::printf("Loupe is serving http://%s:%d (data in %s)\n", host.c_str(), server.port(), data_dir.c_str());
    if (!link->empty()) {
      std::error_code ec;
      const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
      std::printf("Sign in: %s (one-time link; `%s login-link --data-dir %s` makes another)\n", link->c_str(),
                  self.empty() ? "loupe" : self.c_str(), std::filesystem::absolute(data_dir, ec).string().c_str());
    } else {
      std::printf("Sign-in is off (--no-auth): anyone who can reach this address can change anything.\n");
    }
    std::fflush(stdout);
    spdlog::info("serving http://{}:{}", host, server.port());
    server.Run();
    spdlog::info("stopping: finishing requests and jobs in flight");
    for (auto it = modules.rbegin(); it != modules.rend(); ++it) (*it)->Stop();
  }
  (*store)->Close();  // commits everything accepted before returning
  spdlog::info("stopped; all accepted data is stored");
  std::printf("Loupe stopped; all accepted data is stored.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_ARENA_MAX, 2);
  // Everything Loupe writes (the database, media, datasets, models, tokens) is its
  // owner's alone, as PostgreSQL keeps its data folder: other local users get nothing.
  umask(077);
  CLI::App app{"Loupe: a self-hosted ML lab in one binary"};
  app.require_subcommand(1);

  ServeOptions o;
  o.host = EnvOr("LOUPE_HOST", "127.0.0.1");
  o.port = std::atoi(EnvOr("LOUPE_PORT", "8080").c_str());
  loupe::app::ServerConfig& c = o.config;
  c.data_dir = EnvOr("LOUPE_DATA_DIR", "./data");
  c.feedback_dir = EnvOr("FEEDBACK_LOG_DIR", "");
  bool no_fsync = false;
  loupe::LogOptions log;
  log.level = EnvOr("LOUPE_LOG_LEVEL", "info");

  CLI::App* serve = app.add_subcommand(
      "serve",
      "Serve the API and dashboards. Every request needs a credential: scripts on this machine find the local "
      "token by themselves, browsers sign in with the one-time link printed at start (docs/security.md). "
      "Env LOUPE_SECRET_KEY: base64 of the 32-byte key sealing stored secrets (default <data-dir>/secret.key)");
  serve->add_option("--host", o.host, "Address to listen on (env LOUPE_HOST)")->capture_default_str();
  serve->add_option("--port", o.port, "Port to listen on, 0 for any free port (env LOUPE_PORT)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  serve->add_option("--data-dir", c.data_dir, "Where Loupe keeps its data (env LOUPE_DATA_DIR)")->capture_default_str();
  serve->add_option("--heartbeat-timeout", c.heartbeat_timeout_seconds,
                    "Seconds without a heartbeat before a running experiment is marked crashed (0: never)")
      ->capture_default_str()->check(CLI::Range(0, 86400 * 30));
  serve->add_option("--threads", o.threads, "HTTP handler threads")->capture_default_str()->check(CLI::Range(1, 256));
  serve->add_option("--feedback-log-dir", c.feedback_dir,
                    "CLaaS feedback logs for /v1/dashboard (env FEEDBACK_LOG_DIR; default <data-dir>/feedback)");
  serve->add_option("--claas-import-interval", c.claas_import_interval,
                    "Seconds between imports of CLaaS feedback logs and eval results as experiments (0: off)")
      ->capture_default_str()->check(CLI::Range(0, 86400));
  serve->add_option("--import-root", c.import_root,
                    "Datasets may be imported from server-side paths inside this folder (default <data-dir>/imports)");
  serve->add_option("--max-upload-mb", c.max_upload_mb, "Largest dataset file accepted, in MiB")
      ->capture_default_str()->check(CLI::Range(1, 90));
  serve->add_option("--min-free-mb", c.min_free_mb,
                    "Refuse new runs, metrics, logs, media and datasets (507) while the data folder's disk has "
                    "less free space than this, in MiB (0: never); reads and deletes keep working")
      ->capture_default_str()->check(CLI::Range(0, 1 << 30));
  serve->add_option("--training-memory-mb", c.training_memory_mb,
                    "Refuse training runs whose estimated memory is above this, in MiB (0: no limit; default: "
                    "half the physical memory, at most 4096)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  serve->add_option("--workers", c.workers, "Job queue workers (training, imports)")
      ->capture_default_str()->check(CLI::Range(1, 64));
  serve->add_option("--log-level", log.level, "trace, debug, info, warn, error or off (env LOUPE_LOG_LEVEL)")
      ->capture_default_str();
  serve->add_option("--log-file", log.file, "Also append the log to this file (it always goes to stderr)");
  serve->add_option("--max-connections", o.max_connections,
                    "Connections served at once; one more is answered 503 (0: from the file descriptor limit)")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{1} << 20));
  serve->add_option("--max-body-memory-mb", o.max_body_memory_mb,
                    "Request bodies held in memory at once, over all connections, in MiB; a body that does not "
                    "fit is answered 503 before it is read (never below 192 MiB, twice the largest body)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  serve->add_option("--slow-request-ms", o.slow_request_ms, "Requests slower than this are logged (0: none)")
      ->capture_default_str()->check(CLI::Range(0, 3600000));
  serve->add_flag("--no-fsync", no_fsync,
                  "Commit without fsync: survives a crash of Loupe, not of the machine");
  bool no_auth = false;
  serve->add_flag("--no-auth", no_auth,
                  "Serve without sign-in or tokens (loopback only); changes still must come from Loupe's own pages");
  serve->add_flag("--allow-unauthenticated-network", o.allow_unauthenticated_network,
                  "With --no-auth, serve a non-loopback address anyway (anyone who reaches it can change anything)");
  serve->add_option("--public-url", c.public_url,
                    "The address RunPod pods reach this server at, e.g. https://loupe.example.com (env LOUPE_PUBLIC_URL)");
  serve->add_option("--runpod-url", c.runpod_url, "RunPod's API (env LOUPE_RUNPOD_URL)")->capture_default_str();
  serve->add_option("--runpod-poll-ms", c.runpod_poll_ms,
                    "How often RunPod's pods are read, in ms (RunPod limits requests per minute); pods no job has "
                    "are looked for 30 times less often")
      ->check(CLI::Range(200, 600000))
      ->capture_default_str();
  serve->add_option("--azure-prices-url", c.azure_prices_url,
                    "Azure's Retail Prices API, read when a user asks for a region's GPU prices (env LOUPE_AZURE_PRICES_URL)")
      ->capture_default_str();
  serve->add_option("--allowed-host", c.allowed_hosts,
                    "Also answer requests for this host name (repeatable; loopback names always are). Given for a "
                    "server bound to every interface, only these names and loopback are answered");
  c.secret_key_base64 = EnvOr("LOUPE_SECRET_KEY", "");
  c.public_url = EnvOr("LOUPE_PUBLIC_URL", "");
  c.runpod_url = EnvOr("LOUPE_RUNPOD_URL", c.runpod_url);
  c.azure_prices_url = EnvOr("LOUPE_AZURE_PRICES_URL", c.azure_prices_url);
  // Quotas (0: none). Past one, new data of that kind is refused with 507 and a message
  // naming the flag; reads and deletes go on.
  loupe::StoreQuotas& q = o.quotas;
  int64_t console_mb = q.max_console_bytes_per_experiment >> 20, media_mb = q.max_media_bytes_per_experiment >> 20;
  serve->add_option("--max-experiments", q.max_experiments, "Experiments kept on the server")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  serve->add_option("--max-keys", q.max_keys_per_experiment, "Metric and media keys per experiment")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  serve->add_option("--max-console-mb", console_mb, "Console text per experiment, in MiB")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  serve->add_option("--max-media-mb", media_mb, "Images and audio per experiment, in MiB")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  serve->add_option("--max-queued-jobs", q.max_queued_jobs, "Jobs waiting for a worker")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  serve->add_option("--max-datasets", q.max_datasets, "Datasets kept on the server")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  loupe::cli::AddAccessCommands(app);
  loupe::cli::AddEvalCommands(app);
  loupe::cli::AddLaunchCommands(app);

  app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("version")) {
    std::printf("loupe %s\n", LOUPE_VERSION);
    return 0;
  }
  if (int rc = loupe::cli::RunAccessCommand(app); rc >= 0) return rc;
  if (int rc = loupe::cli::RunEvalCommand(app); rc >= 0) return rc;
  if (int rc = loupe::cli::RunLaunchCommand(app); rc >= 0) return rc;
  if (o.port < 0 || o.port > 65535) {
    std::fprintf(stderr, "loupe: LOUPE_PORT must be a port number from 0 to 65535\n");
    return 1;
  }
  if (loupe::Status st = loupe::ConfigureLogging(log); !st.ok()) {
    std::fprintf(stderr, "loupe: %s\n", st.message().c_str());
    return 1;
  }
  o.sync_full = !no_fsync;
  q.max_console_bytes_per_experiment = console_mb << 20;
  q.max_media_bytes_per_experiment = media_mb << 20;
  c.auth_enabled = !no_auth;
  // A server bound to every interface answers any name unless names were given; one
  // bound to loopback (or a named address) answers loopback names and the given ones.
  const bool wildcard = o.host == "0.0.0.0" || o.host == "::" || o.host == "[::]";
  c.restrict_hosts = !wildcard || !c.allowed_hosts.empty();
  if (!wildcard && !loupe::IsLoopbackName(o.host)) c.allowed_hosts.push_back(o.host);
  if (RefuseOpenBind(o)) return 2;
  return Serve(o);
}
