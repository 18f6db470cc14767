#include "launch/launch_service.h"
#include "launch/active_job.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/time_util.h"
#include "launch/budget.h"
#include "launch/gpu_memory.h"
#include "launch/job_package.h"
#include "launch/local_process.h"
#include "launch/log_tail.h"
#include "launch/program_runner.h"
#include "launch/storage_mounts.h"
#include "tracking/validation.h"
#include "common/display_text.h"
#include "common/file_util.h"

extern char** environ;

namespace loupe::launch {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxConfigInEnv = 64 * 1024;


namespace {

// The end of a segment's stderr: its last 20 lines, at most 4 KiB (a traceback's end).
std::string StderrTail(const LaunchJob& j) {
  std::ifstream f(LogFile(j, "err"), std::ios::binary | std::ios::ate);
  if (!f) return "";
  const std::streamoff size = f.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  f.seekg(from);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  if (from > 0 && !lines.empty()) lines.erase(lines.begin());  // a partial first line
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (size_t k = lines.size() > 20 ? lines.size() - 20 : 0; k < lines.size(); ++k) out += (out.empty() ? "" : "\n") + lines[k];
  return out;
}



// "42.5 s", "12 min 05 s", "3 h 07 min": short jobs' budgets are seconds.
std::string Minutes(double seconds) {
  char buf[48];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", std::floor(seconds * 10) / 10);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(seconds / 60), static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%d h %02d min", static_cast<int>(seconds / 3600),
                  static_cast<int>(seconds / 60) % 60);
  }
  return buf;
}

// An executable of that name is in Loupe's PATH.
bool OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

double MachineMemoryGb() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * page / (1024.0 * 1024 * 1024) : 0;
}

// The first word of the command that names a file in the working directory: the script
// an interpreter runs ("python3 train.py"), or the program itself ("./train.sh").
std::string ScriptOf(const std::string& command) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < command.size() && words.size() < 2) {
    while (i < command.size() && std::isspace(static_cast<unsigned char>(command[i]))) ++i;
    size_t j = i;
    while (j < command.size() && !std::isspace(static_cast<unsigned char>(command[j]))) ++j;
    if (j > i) words.push_back(command.substr(i, j - i));
    i = j;
  }
  if (words.empty()) return "";
  for (char c : command) {
    if (c == ';' || c == '|' || c == '&' || c == '$' || c == '`' || c == '(' || c == '<' || c == '>') return "";
  }
  const std::string& first = words[0];
  if (first.rfind("./", 0) == 0) return first;
  // python3, /usr/bin/python3, python3.11, bash, ...: the program's own name.
  const std::string program = first.substr(first.rfind('/') == std::string::npos ? 0 : first.rfind('/') + 1);
  static const char* kInterpreters[] = {"python", "bash", "sh", "node", "Rscript", "julia"};
  for (const char* interp : kInterpreters) {
    const std::string name(interp);
    const bool named = program == name || (name == "python" && program.rfind("python", 0) == 0 &&
                                           program.find_first_not_of("0123456789.", 6) == std::string::npos);
    if (named && words.size() > 1 && words[1][0] != '-') return words[1];
  }
  return "";
}

}  // namespace

LaunchService::LaunchService(LaunchStore& store, ArtifactStore& artifacts, TrackingService& tracking,
                             LaunchOptions options)
    : store_(store), artifacts_(artifacts), tracking_(tracking), options_(std::move(options)), slurm_(options_.slurm_bin) {
  if (options_.cpus <= 0) options_.cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options_.memory_gb <= 0) options_.memory_gb = MachineMemoryGb();
  if (options_.gpus.empty() && options_.detect_gpus) options_.gpus = DetectGpus();
  http_ = std::make_unique<llm::HttpClient>();
  runpod_ = std::make_unique<RunPodClient>(options_.runpod_url, *http_);
}

LaunchService::~LaunchService() { Stop(); }

Status LaunchService::Start() {
  std::error_code ec;
  fs::create_directories(options_.data_dir + "/launch", ec);
  LoadPodsToDelete();
  (void)InstallationId();  // made at the first start, so it is there before any pod is
  LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchJob> jobs, store_.ActiveLaunchJobs());
  for (const LaunchJob& j : jobs) {
    if (Status s = Adopt(j); !s.ok()) spdlog::warn("launch: job {}: {}", j.id, s.message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void LaunchService::Stop() {
  webhooks_.Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) return;
    stopping_ = true;
    started_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LaunchService::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms), [this] { return stopping_; });
  }
}

Status LaunchService::Adopt(const LaunchJob& job) {
  auto a = std::make_unique<Active>();
  a->job = job;
  if (job.experiment_id == 0) {  // Loupe stopped between storing the job and making its run
    a->job.state = "failed";
    a->job.message = "Loupe stopped while launching it; launch it again";
    a->job.end_time = NowMicros();
    return store_.UpdateLaunchJob(a->job, LaunchEvent{job.id, a->job.end_time, "failed", a->job.message});
  }
  const json body = json::parse(job.spec_json, nullptr, false);
  std::vector<SpecProblem> problems = ParseJobSpec(body, a->spec);
  if (!problems.empty()) return Status::Corrupt("its stored spec no longer reads: " + ProblemsText(problems));
  LOUPE_ASSIGN_OR_RETURN(a->segments, store_.ListLaunchSegments(job.id));
  a->api_key = options_.api_key ? options_.api_key() : "";
  (void)ResolveEnvSecrets(*a);  // to hide them in what the job still prints
  {
    std::ifstream f(job.dir + "/job-token.json");
    const json t = json::parse(f, nullptr, false);
    if (t.is_object() && t.contains("token") && t["token"].is_string()) a->api_key = t["token"].get<std::string>();
  }
  {
    std::ifstream f(job.dir + "/stop-after-checkpoint.json");
    const json t = json::parse(f, nullptr, false);
    if (t.is_object() && t.value("until", json()).is_number_integer() &&
        t.value("newest_before", json()).is_number_integer()) {
      a->stop_after_checkpoint = t["until"].get<int64_t>();
      a->newest_before_stop = t["newest_before"].get<int64_t>();
    }
  }
  const int64_t now = NowMicros();
  const bool slurm = job.executor == "slurm";
  if (job.executor == "runpod") {
    if (job.state != "queued" && !job.external_id.empty()) AdoptPod(*a, now);
  } else if (job.state != "queued" && (slurm ? !job.external_id.empty() : job.segment > 0)) {
    for (int stream = 0; stream < 2; ++stream) {
      LOUPE_ASSIGN_OR_RETURN(int64_t offset, store_.ConsoleOffset(job.experiment_id, ConsoleClient(job, stream)));
      auto tail = std::make_unique<LogTail>(LogFile(job, stream == 0 ? "out" : "err"), stream, offset);
      (stream == 0 ? a->out : a->err) = std::move(tail);
    }
    if (slurm) {
      // Slurm runs it whether Loupe does or not: the next poll says where it is.
      Event(*a, now, "found", "Loupe restarted; following Slurm job " + job.external_id);
      if (job.state == "stopping") a->kill_at = now + static_cast<int64_t>(a->spec.stop_grace_seconds * 1e6);
      // The rate: the last run's, else (still waiting in the queue) the prices' now.
      int runs = 0;
      for (const LaunchSegment& seg : a->segments) {
        if (seg.external_id == job.external_id) {
          a->slurm_rate = seg.rate_per_hour;
          ++runs;
        }
      }
      if (runs == 0) {
        Result<std::map<std::string, double>> prices = store_.LaunchPrices();
        a->slurm_rate = prices.ok() ? LocalRate(a->spec.resources, a->spec.resources.gpu_type, *prices) : 0;
      }
      // The requeues Loupe saw: one fewer than the runs it recorded (a requeue while Loupe
      // was down is then noticed at the first poll).
      a->slurm_restarts = std::max(0, runs - 1);
    } else if (SameProcessAlive(static_cast<pid_t>(job.pid), job.pid_start)) {
      Event(*a, now, "found", "Loupe restarted and found the process (pid " + std::to_string(job.pid) + ") running");
      if (job.state == "stopping") a->kill_at = now + static_cast<int64_t>(a->spec.stop_grace_seconds * 1e6);
      if (a->spec.checkpoint.every_minutes > 0) {
        a->next_checkpoint_at = now + static_cast<int64_t>(a->spec.checkpoint.every_minutes * 60e6);
      }
    } else {
      a->gone_since = now;  // Supervise reads its exit file, or marks it lost
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  active_[job.id] = std::move(a);
  return Status::Ok();
}

std::vector<SpecProblem> LaunchService::Check(const json& body, JobSpec& spec) {
  spec = JobSpec{};
  std::vector<SpecProblem> problems = ParseJobSpec(body, spec);
  auto has = [&](const std::string& field) {
    for (const SpecProblem& p : problems) {
      if (p.field == field) return true;
    }
    return false;
  };
  if (!spec.workdir.empty() && !has("workdir")) {
    std::error_code ec;
    const fs::path data = fs::weakly_canonical(options_.data_dir, ec);
    const fs::path work = fs::weakly_canonical(spec.workdir, ec);
    auto within = [](const fs::path& inner, const fs::path& outer) {
      const std::string i = inner.string(), o = outer.string();
      return i == o || (i.size() > o.size() && i.compare(0, o.size(), o) == 0 && (o == "/" || i[o.size()] == '/'));
    };
    if (!fs::is_directory(spec.workdir, ec)) {
      problems.push_back({"workdir", "'" + spec.workdir + "' is not a folder on the server"});
    } else if (within(data, work) || within(work, data)) {
      problems.push_back({"workdir", "holds Loupe's data folder or is inside it; launch from the folder with the code"});
    } else if (const std::string script = ScriptOf(spec.command); !script.empty() && !has("command")) {
      const fs::path p = script[0] == '/' ? fs::path(script) : fs::path(spec.workdir) / script;
      if (!fs::is_regular_file(p, ec)) {
        problems.push_back({"command", "the script '" + script + "' is not in " +
                                           (script[0] == '/' ? std::string("that place") : "the working directory")});
      } else if (script.rfind("./", 0) == 0 && access(p.c_str(), X_OK) != 0) {
        problems.push_back({"command", "'" + script + "' is not executable (chmod +x it, or run it with its interpreter)"});
      }
    }
  }
  if (Status named = ValidateName("project", spec.project, tracking_.limits()); !named.ok() && !has("project")) {
    problems.push_back({"project", named.message()});
  }
  if (Status named = ValidateName("name", spec.name, tracking_.limits()); !named.ok() && !has("name")) {
    problems.push_back({"name", named.message()});
  }
  const bool local = spec.executor == "local";
  if (spec.executor == "slurm" && !has("executor")) {
    std::vector<SpecProblem> more = CheckSlurm(spec);
    problems.insert(problems.end(), more.begin(), more.end());
  }
  if (local && spec.resources.cpus > options_.cpus && !has("resources.cpus")) {
    problems.push_back({"resources.cpus", "this machine has " + std::to_string(options_.cpus) + " CPUs; asked for " +
                                              std::to_string(spec.resources.cpus)});
  }
  if (local && spec.resources.memory_gb > options_.memory_gb && options_.memory_gb > 0) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "this machine has %.1f GiB of memory; asked for %g", options_.memory_gb,
                  spec.resources.memory_gb);
    problems.push_back({"resources.memory_gb", buf});
  }
  if (local && spec.resources.gpus > 0) {
    int matching = 0;
    std::string names;
    for (const GpuInfo& g : options_.gpus) {
      if (GpuMatches(g, spec.resources.gpu_type)) ++matching;
      if (names.find(g.name) == std::string::npos) names += (names.empty() ? "" : ", ") + g.name;
    }
    if (matching < spec.resources.gpus) {
      std::string msg = options_.gpus.empty()
                            ? "this machine has no GPU (nvidia-smi found none)"
                            : "this machine has " + std::to_string(matching) + " GPU" + (matching == 1 ? "" : "s") +
                                  (spec.resources.gpu_type.empty() ? "" : " of type '" + spec.resources.gpu_type + "'") +
                                  " (it has: " + names + ")";
      problems.push_back({"resources.gpus", msg + "; asked for " + std::to_string(spec.resources.gpus)});
    }
  }
  if (local && !spec.model.is_null() && spec.resources.gpus > 0 && !has("resources.gpus")) {
    // The smallest GPU the job could be given must hold the estimate.
    const GpuInfo* smallest = nullptr;
    for (const GpuInfo& g : options_.gpus) {
      if (GpuMatches(g, spec.resources.gpu_type) && (!smallest || g.memory_gb < smallest->memory_gb)) smallest = &g;
    }
    ModelShape shape;
    (void)ParseModelShape(spec.model, "model.", shape);
    const MemoryEstimate e = EstimateGpuMemory(shape);
    const double need_gb = e.total() / (1024.0 * 1024 * 1024);
    if (smallest && need_gb > smallest->memory_gb) {
      const json parts = EstimateJson(e);
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "the model needs about %.1f GiB per GPU (weights %.1f, gradients %.1f, optimizer %.1f, "
                    "activations %.1f, overhead %.1f), more than the %.1f GiB of %s; try QLoRA, gradient "
                    "checkpointing or a smaller batch",
                    need_gb, parts["weights_gb"].get<double>(), parts["gradients_gb"].get<double>(),
                    parts["optimizer_gb"].get<double>(), parts["activations_gb"].get<double>(),
                    parts["overhead_gb"].get<double>(), smallest->memory_gb, smallest->name.c_str());
      problems.push_back({"model", buf});
    }
  }
  for (const auto& [k, name] : spec.env_secrets) {
    Result<std::string> v = options_.reveal_secret ? options_.reveal_secret(name)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
    if (!v.ok()) {
      problems.push_back({"env." + k, "no secret named '" + name + "' (PUT /api/v1/secrets/" + name +
                                             " with {\"value\": \"...\"}; the Access page lists secrets)"});
    }
  }
  // Every mount's secret, also of a mount with other problems (all of them at once).
  if (body.is_object() && body.contains("mounts") && body["mounts"].is_array() && body["mounts"].size() <= kMaxMounts) {
    for (size_t i = 0; i < body["mounts"].size(); ++i) {
      const json& item = body["mounts"][i];
      const std::string field = "mounts[" + std::to_string(i) + "].secret";
      if (!item.is_object() || !item.contains("secret") || !item["secret"].is_string() || has(field)) continue;
      const std::string name = item["secret"].get<std::string>();
      Result<std::string> v = options_.reveal_secret ? options_.reveal_secret(name)
                                                     : Result<std::string>(Status::NotFound("no secret store"));
      if (!v.ok()) {
        problems.push_back({field, "no secret named '" + name + "' (store it on the Access page, or PUT /api/v1/secrets/" +
                                       name + " with {\"value\": \"ACCESS_KEY_ID:SECRET_ACCESS_KEY\"})"});
      } else if (Result<std::pair<std::string, std::string>> keys = SplitS3Credentials(*v); !keys.ok()) {
        problems.push_back({field, "the secret '" + name + "' " + keys.status().message()});
      }
    }
  }
  for (const StorageMount& m : spec.mounts) {
    const std::string at = "mounts[" + std::to_string(m.index) + "]";
    // A link on the way would send the copy outside the working directory (storage.sh
    // refuses it too, in the copy it runs in).
    if (!spec.workdir.empty() && !has("workdir")) {
      for (size_t from = 0; from <= m.path.size();) {
        size_t slash = m.path.find('/', from);
        if (slash == std::string::npos) slash = m.path.size();
        const std::string sofar = m.path.substr(0, slash);
        std::error_code ec;
        if (fs::is_symlink(fs::path(spec.workdir) / sofar, ec)) {
          problems.push_back({at + ".path",
                              "'" + sofar + "' is a link in the working directory: a mount's folder must be a real folder "
                                            "(or not exist)"});
          break;
        }
        from = slash + 1;
      }
    }
    // Where Loupe runs the job itself, what storage.sh needs is checked here; elsewhere the
    // script says what is missing when it starts.
    if (local && m.mode == "mount" && ((!OnPath("fusermount3") && !OnPath("fusermount")) || access("/dev/fuse", R_OK | W_OK) != 0)) {
      problems.push_back({at + ".mode", "a read-only mount needs FUSE on this machine (/dev/fuse and fusermount3; "
                                        "Debian: apt install fuse3); use mode: copy"});
    }
  }
  if (local && !spec.mounts.empty() && !OnPath("rclone")) {
    problems.push_back({"mounts", "storage mounts need rclone on this machine (Debian: apt install rclone)"});
  }
  if (spec.executor == "runpod" && !has("executor")) {
    std::vector<SpecProblem> more = CheckRunPod(spec);
    problems.insert(problems.end(), more.begin(), more.end());
  }
  if (spec.budget.max_cost > 0 && spec.executor != "runpod") {  // RunPod prices its pods itself
    Result<std::map<std::string, double>> prices = store_.LaunchPrices();
    if (!prices.ok()) {
      problems.push_back({"budget.max_cost", "prices cannot be read: " + prices.status().message()});
    } else {
      // Priced as StartSegment will price it: by the name of a GPU the job could be given
      // (on Slurm, the type it asks for).
      std::string gpu_type = local ? "" : spec.resources.gpu_type;
      for (const GpuInfo& g : options_.gpus) {
        if (local && gpu_type.empty() && GpuMatches(g, spec.resources.gpu_type)) gpu_type = g.name;
      }
      std::vector<std::string> missing;
      const double rate = LocalRate(spec.resources, gpu_type, *prices, &missing);
      if (rate <= 0) {
        std::string names;
        for (const std::string& m : missing) names += (names.empty() ? "'" : ", '") + m + "'";
        problems.push_back({"budget.max_cost", "a money cap needs a price: this job costs $0/hour with the prices set "
                                               "(set the hourly price of " +
                                                   (names.empty() ? std::string("its resources") : names) +
                                                   " on the Launch page or PUT /api/v1/launch/prices)"});
      }
    }
  }
  return problems;
}

Status LaunchService::Snapshot(const std::string& from, const std::string& to) {
  std::error_code ec;
  int64_t bytes = 0, files = 0;
  for (auto it = fs::recursive_directory_iterator(from, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !it->is_symlink(ec) && (name == ".git" || name == "__pycache__")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    bytes += static_cast<int64_t>(it->file_size(ec));
    if (++files > options_.max_snapshot_files) {
      return Status::TooLarge("the working directory has more than " + std::to_string(options_.max_snapshot_files) +
                              " files; launch from a smaller folder (data belongs elsewhere)");
    }
    if (bytes > options_.max_snapshot_bytes) {
      return Status::TooLarge("the working directory holds more than " +
                              std::to_string(options_.max_snapshot_bytes >> 20) +
                              " MiB; launch from a folder with the code, and read data from elsewhere");
    }
  }
  if (ec) return Status::InvalidArgument("cannot read the working directory: " + ec.message());
  fs::create_directories(to, ec);
  if (ec) return Status::Internal("cannot make the snapshot folder: " + ec.message());
  json copied = json::array();  // what the package will hold (the job may add files beside them)
  for (auto it = fs::recursive_directory_iterator(from, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Lexically: fs::relative would follow a link to where it points, outside the folder.
    const fs::path rel = it->path().lexically_relative(from);
    const std::string name = it->path().filename().string();
    const fs::path dest = fs::path(to) / rel;
    if (it->is_symlink(ec)) {
      fs::copy_symlink(it->path(), dest, ec);  // as the link it is, never what it points at
      if (!ec) copied.push_back(rel.string());
      ec.clear();
    } else if (it->is_directory(ec)) {
      if (name == ".git" || name == "__pycache__") {
        it.disable_recursion_pending();
        continue;
      }
      fs::create_directories(dest, ec);
    } else if (it->is_regular_file(ec)) {
      fs::copy_file(it->path(), dest, fs::copy_options::overwrite_existing, ec);
      copied.push_back(rel.string());
    }
    if (ec) return Status::Internal("cannot copy " + rel.string() + " into the snapshot: " + ec.message());
    if (static_cast<int64_t>(copied.size()) > options_.max_snapshot_files) {  // it grew while copied
      return Status::TooLarge("the working directory grew past " + std::to_string(options_.max_snapshot_files) +
                              " files while it was copied");
    }
  }
  if (ec) return Status::Internal("cannot copy the working directory: " + ec.message());
  return WriteFileDurably((fs::path(to).parent_path() / "snapshot.json").string(),
                          copied.dump(-1, ' ', false, json::error_handler_t::replace), "the list of copied files");
}

Result<LaunchJob> LaunchService::Launch(const json& body, const std::string& user) {
  JobSpec spec;
  std::vector<SpecProblem> problems = Check(body, spec);
  if (!problems.empty()) return Status::InvalidArgument(ProblemsText(problems));
  LaunchJob job;
  job.name = spec.name;
  job.project = spec.project;
  job.spec_json = SpecToJson(spec).dump();
  job.executor = spec.executor;
  job.state = "queued";
  job.created_by = user;
  job.create_time = NowMicros();
  LOUPE_ASSIGN_OR_RETURN(job.id, store_.CreateLaunchJob(job));
  job.dir = fs::absolute(options_.data_dir + "/launch/" + std::to_string(job.id)).lexically_normal().string();
  auto fail = [&](const Status& why) -> Status {
    job.state = "failed";
    job.message = why.message();
    job.end_time = NowMicros();
    (void)store_.UpdateLaunchJob(job, LaunchEvent{job.id, job.end_time, "failed", why.message()});
    return why;
  };
  if (Status s = Snapshot(spec.workdir, job.dir + "/workdir"); !s.ok()) {
    std::error_code ec;
    fs::remove_all(job.dir, ec);  // a failed launch keeps its row and reason, not a partial copy
    return fail(s);
  }
  if (Status s = WriteFileDurably(job.dir + "/config.json", spec.config.dump(), "the job's config"); !s.ok()) {
    return fail(s);
  }
  if (!spec.mounts.empty()) {
    if (Status s = WriteFileDurably(job.dir + "/storage.sh", StorageScript(spec, job.id), "the job's storage script", 0755);
        !s.ok()) {
      return fail(s);
    }
  }
  NewExperiment e;
  e.project = spec.project;
  e.run_id = "job-" + std::to_string(job.id);
  e.name = spec.name;
  e.config_json = spec.config.dump();
  e.tags = {"launched"};
  Result<CreatedExperiment> run = tracking_.StartRun(e);
  if (!run.ok()) return fail(run.status());
  job.experiment_id = run->experiment.id;
  LOUPE_RETURN_IF_ERROR(store_.UpdateLaunchJob(job));
  auto a = std::make_unique<Active>();
  a->job = job;
  a->spec = spec;
  a->announced_checkpoint = 0;  // a new job has none: each one it saves is said
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_[job.id] = std::move(a);
  }
  {
    // Started now when its GPUs are free: the first log line should not wait a tick.
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(job.id);
    if (it != active_.end() && it->second->job.state == "queued") {
      if (Status s = StartSegment(*it->second, NowMicros()); !s.ok()) spdlog::warn("launch: job {}: {}", job.id, s.message());
      if (it->second->ended) active_.erase(it);
    }
  }
  cv_.notify_all();
  // Where it runs, for its training package; after the start, which need not wait for it.
  const json env = CaptureEnvironment(spec.workdir, spec.command);
  if (Status s = WriteFileDurably(job.dir + "/environment.json", env.dump(2, ' ', false, json::error_handler_t::replace),
                                  "the job's environment");
      !s.ok()) {
    spdlog::warn("launch: job {}: {}", job.id, s.message());
  }
  return store_.GetLaunchJob(job.id);
}

std::set<int> LaunchService::BusyGpus() const {
  std::set<int> busy;
  for (const auto& [id, a] : active_) {
    if (a->job.state == "queued") continue;
    size_t i = 0;
    const std::string& g = a->job.gpus;
    while (i < g.size()) {
      size_t j = g.find(',', i);
      if (j == std::string::npos) j = g.size();
      try {
        busy.insert(std::stoi(g.substr(i, j - i)));
      } catch (...) {
      }
      i = j + 1;
    }
  }
  return busy;
}

std::vector<std::string> LaunchService::JobEnvironment(const Active& a) const {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv(*e);
    // Loupe's own settings (its secret key among them) are not the job's.
    if (kv.rfind("LOUPE_", 0) == 0 || kv.rfind("CUDA_VISIBLE_DEVICES=", 0) == 0) continue;
    bool overridden = false;
    for (const auto& [k, v] : a.spec.env) overridden = overridden || kv.rfind(k + "=", 0) == 0;
    for (const auto& [k, v] : a.secret_env) overridden = overridden || kv.rfind(k + "=", 0) == 0;
    if (!overridden) env.push_back(kv);
  }
  for (const auto& [k, v] : a.spec.env) env.push_back(k + "=" + v);
  for (const auto& [k, v] : a.secret_env) env.push_back(k + "=" + v);
  for (const auto& [k, v] : a.mount_env) env.push_back(k + "=" + v.first);
  // Slurm sets it on the node from the GPUs it allocates; a job without GPUs sees none.
  if (a.job.executor != "slurm" || a.spec.resources.gpus == 0) env.push_back("CUDA_VISIBLE_DEVICES=" + a.job.gpus);
  env.push_back("LOUPE_JOB_ID=" + std::to_string(a.job.id));
  env.push_back("LOUPE_JOB_SEGMENT=" + std::to_string(a.job.segment));
  env.push_back("LOUPE_PROJECT=" + a.job.project);
  env.push_back("LOUPE_RUN_ID=job-" + std::to_string(a.job.id));
  // One environment variable may hold at most 128 KiB (MAX_ARG_STRLEN): a larger config
  // goes by file.
  if (const std::string config = a.spec.config.dump(); config.size() <= kMaxConfigInEnv) {
    env.push_back("LOUPE_CONFIG=" + config);
  } else {
    env.push_back("LOUPE_CONFIG_FILE=" + a.job.dir + "/config.json");
  }
  env.push_back("LOUPE_CONTROL_FILE=" + a.job.dir + "/control.json");
  if (a.spec.checkpoint.every_steps > 0) {
    env.push_back("LOUPE_CHECKPOINT_EVERY_STEPS=" + std::to_string(a.spec.checkpoint.every_steps));
  }
  if (a.spec.checkpoint.every_epochs > 0) {
    env.push_back("LOUPE_CHECKPOINT_EVERY_EPOCHS=" + std::to_string(a.spec.checkpoint.every_epochs));
  }
  if (!a.job.resume_from.empty()) env.push_back("LOUPE_RESUME_ARTIFACT=" + a.job.resume_from);
  if (!options_.server_url.empty()) env.push_back("LOUPE_URL=" + options_.server_url);
  if (!a.api_key.empty()) env.push_back("LOUPE_API_KEY=" + a.api_key);
  return env;
}

Result<std::string> LaunchService::MintJobToken(Active& a, const std::string& where) {
  RevokeJobToken(a.job);  // the last segment's, if Loupe stopped before revoking it
  if (!options_.mint_token) return options_.api_key ? options_.api_key() : std::string();
  const std::string& user = options_.remote_job_user.empty() ? options_.job_user : options_.remote_job_user;
  LOUPE_ASSIGN_OR_RETURN(auto minted, options_.mint_token(user, "launch job " + std::to_string(a.job.id) +
                                                                                 " (" + where + ")"));
  if (Status s = WriteFileDurably(a.job.dir + "/job-token.json",
                                  json{{"token_id", minted.first}, {"token", minted.second}}.dump(), "the job's token", 0600);
      !s.ok()) {
    if (options_.revoke_token) options_.revoke_token(minted.first);
    return s;
  }
  return minted.second;
}

void LaunchService::RevokeJobToken(const LaunchJob& j) {
  std::ifstream f(j.dir + "/job-token.json");
  const json t = json::parse(f, nullptr, false);
  if (!t.is_object() || !t.contains("token_id") || !t["token_id"].is_number_integer()) return;
  if (options_.revoke_token) options_.revoke_token(t["token_id"].get<int64_t>());
  std::error_code ec;
  fs::remove(j.dir + "/job-token.json", ec);
}

Status LaunchService::ResolveEnvSecrets(Active& a) {
  a.secret_env.clear();
  for (const auto& [k, name] : a.spec.env_secrets) {
    Result<std::string> v = options_.reveal_secret ? options_.reveal_secret(name)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
    if (!v.ok()) return Status::InvalidArgument("env." + k + ": the secret '" + name + "' cannot be read: " + v.status().message());
    a.secret_env[k] = *v;
  }
  a.mount_env.clear();
  for (size_t n = 0; n < a.spec.mounts.size(); ++n) {
    const StorageMount& m = a.spec.mounts[n];
    if (m.secret.empty()) continue;
    const std::string field = "mounts[" + std::to_string(n) + "].secret";
    Result<std::string> v = options_.reveal_secret ? options_.reveal_secret(m.secret)
                                                   : Result<std::string>(Status::NotFound("no secret store"));
    if (!v.ok()) return Status::InvalidArgument(field + ": the secret '" + m.secret + "' cannot be read: " + v.status().message());
    Result<std::pair<std::string, std::string>> keys = SplitS3Credentials(*v);
    if (!keys.ok()) return Status::InvalidArgument(field + ": the secret '" + m.secret + "' " + keys.status().message());
    a.mount_env[MountKeyVariable(n)] = {keys->first, m.secret};
    a.mount_env[MountSecretVariable(n)] = {keys->second, m.secret};
  }
  return Status::Ok();
}

Status LaunchService::FailStart(Active& a, int64_t now, const Status& why) {
  LaunchJob& j = a.job;
  RevokeJobToken(j);
  j.state = "failed";
  j.message = why.message();
  j.end_time = now;
  a.ended = true;
  (void)tracking_.Finish(j.experiment_id, RunStatus::kCrashed, "", 0, j.message);
  (void)store_.UpdateLaunchJob(j, LaunchEvent{j.id, now, "failed", j.message});
  return why;
}

Status LaunchService::StartSegment(Active& a, int64_t now) {
  if (a.job.executor == "slurm") return SubmitSlurm(a, now);
  if (a.job.executor == "runpod") return StartPod(a, now);
  LaunchJob& j = a.job;
  std::string gpu_type = a.spec.resources.gpu_type;
  if (a.spec.resources.gpus > 0) {
    std::optional<std::vector<int>> picked =
        PickGpus(options_.gpus, BusyGpus(), a.spec.resources.gpus, a.spec.resources.gpu_type);
    if (!picked) {
      const std::string wait = "waiting for " + std::to_string(a.spec.resources.gpus) + " free GPU" +
                               (a.spec.resources.gpus == 1 ? "" : "s");
      if (j.message != wait) {
        j.message = wait;
        (void)store_.UpdateLaunchJob(j);
      }
      return Status::Ok();
    }
    j.gpus.clear();
    for (int g : *picked) j.gpus += (j.gpus.empty() ? "" : ",") + std::to_string(g);
    for (const GpuInfo& g : options_.gpus) {
      if (g.index == picked->front()) gpu_type = g.name;
    }
  }
  Result<std::map<std::string, double>> prices = store_.LaunchPrices();
  const double rate = prices.ok() ? LocalRate(a.spec.resources, gpu_type, *prices) : 0;
  const int seg = j.segment + 1;
  SpawnRequest req;
  req.command = a.Command();
  req.workdir = j.dir + "/workdir";
  req.stdout_path = SegmentFile(j, seg, "out");  // this segment's own files
  req.stderr_path = SegmentFile(j, seg, "err");
  req.exit_path = SegmentFile(j, seg, "exit");
  req.grace_seconds = a.spec.stop_grace_seconds;
  LaunchJob next = j;
  next.segment = seg;
  a.job.segment = seg;  // the environment names the segment it starts
  a.api_key = options_.api_key ? options_.api_key() : "";
  if (Status st = ResolveEnvSecrets(a); !st.ok()) return FailStart(a, now, st);
  req.env = JobEnvironment(a);
  a.job.segment = seg - 1;
  Result<Spawned> spawned = SpawnJob(req);
  if (!spawned.ok()) return FailStart(a, now, spawned.status());
  next.state = "running";
  next.message.clear();
  next.exit_text.clear();  // of the segment before: this one has not ended
  next.pid = spawned->pid;
  next.pid_start = spawned->start_ticks;
  next.shim_pid = spawned->shim;
  if (next.start_time == 0) next.start_time = now;
  LaunchSegment s{j.id, seg, now, 0, rate, ""};
  const std::string what = seg == 1 ? "started" : a.resuming ? "started again" : "restarted";
  a.resuming = false;
  std::string msg = "pid " + std::to_string(spawned->pid);
  if (!next.gpus.empty()) msg += ", GPUs " + next.gpus;
  if (rate > 0) msg += ", " + FormatDollars(rate) + "/hour";
  if (!j.resume_from.empty()) msg += ", from checkpoint " + j.resume_from;
  Status st = store_.StartLaunchSegment(s, next, LaunchEvent{j.id, now, what, msg});
  a.job = next;
  a.segments.push_back(s);
  a.own_child = true;
  a.kill_at = 0;
  a.gone_since = 0;
  a.budget_wait_until = 0;
  a.next_checkpoint_at =
      a.spec.checkpoint.every_minutes > 0 ? now + static_cast<int64_t>(a.spec.checkpoint.every_minutes * 60e6) : 0;
  a.out = std::make_unique<LogTail>(req.stdout_path, 0, 0);
  a.err = std::make_unique<LogTail>(req.stderr_path, 1, 0);
  return st;
}

void LaunchService::CopyLogs(Active& a, int64_t now, bool final, std::chrono::steady_clock::time_point until) {
  if (a.job.executor == "runpod") return CopyPodLogs(a, now, final);
  for (int stream = 0; stream < 2; ++stream) {
    LogTail* tail = (stream == 0 ? a.out : a.err).get();
    if (!tail) continue;
    // Rounds of at most 2 MiB: until the file is drained at the end of the process, else
    // until `until` (at least one round, so every job moves each tick).
    for (int round = 0;; ++round) {
      if (!final && round > 0 && std::chrono::steady_clock::now() >= until) break;
      std::vector<LogBatch> batches = tail->Read(now, final, 10000, 2 << 20);
      if (batches.empty()) break;
      for (LogBatch& b : batches) {
        ConsoleBatch c;
        c.experiment_id = a.job.experiment_id;
        c.from.client = ConsoleClient(a.job, stream);
        c.from.seq = b.end_offset;
        c.lines = std::move(b.lines);
        for (ConsoleLine& line : c.lines) a.HideSecrets(line.text);
        Result<WriteAck> ack = tracking_.LogConsole(std::move(c));
        if (ack.ok()) continue;
        const Code code = ack.status().code();
        if (code == Code::kNotFound || code == Code::kGone) {
          // The run was deleted: its job has nowhere to log; stop it, drop the output.
          if (a.job.stop_requested == 0) SendStop(a, now, "user", "its run was deleted");
          continue;
        }
        // Not stored (the disk is full, the store is failing): read these lines again
        // next time rather than lose them. Said once per kind of failure.
        tail->Rewind(b.start_offset);
        if (a.log_error != ack.status().message()) {
          a.log_error = ack.status().message();
          spdlog::warn("launch: job {}: console lines not stored yet, will retry: {}", a.job.id, a.log_error);
        }
        return;
      }
      a.log_error.clear();
    }
  }
}

void LaunchService::Event(Active& a, int64_t now, const std::string& kind, const std::string& message) {
  if (Status s = store_.UpdateLaunchJob(a.job, LaunchEvent{a.job.id, now, kind, message}); !s.ok()) {
    spdlog::warn("launch: job {}: cannot record '{}': {}", a.job.id, kind, s.message());
  }
}

// A job killed before storage.sh unmounted its read-only mounts leaves them behind (rclone
// outlives the job's process group on purpose): they go when the segment ends.
void LaunchService::UnmountLeftovers(Active& a) {
  for (const StorageMount& m : a.spec.mounts) {
    if (m.mode != "mount") continue;
    const std::string path = a.job.dir + "/workdir/" + m.path;
    struct stat here {}, parent {};
    if (stat(path.c_str(), &here) != 0) {
      if (errno != ENOTCONN) continue;  // not there; ENOTCONN: mounted, its rclone dead
    } else if (stat((path + "/..").c_str(), &parent) != 0 || here.st_dev == parent.st_dev) {
      continue;  // not mounted
    }
    for (const char* tool : {"fusermount3", "fusermount"}) {
      Result<ProgramOutput> out = RunProgram(ProgramRun{{tool, "-u", "-z", path}, {}, 10000});
      if (out.ok()) {
        if (out->exit_code == 0) Event(a, NowMicros(), "storage", "unmounted " + m.source + " from " + m.path + "/ (left mounted)");
        break;
      }
    }
  }
}

void LaunchService::Ended(Active& a, int64_t now, int64_t end, const std::string& end_text, bool known_exit,
                          int exit_code) {
  CopyLogs(a, now, true, {});
  if (a.job.executor == "local") UnmountLeftovers(a);
  AnnounceCheckpoints(a, now, true);
  ForgetStopAfterCheckpoint(a);  // a resumed job must not find it
  a.next_retention = 0;  // the last checkpoints (one asked before a stop) are kept to the policy too
  KeepCheckpoints(a, now);
  LaunchJob& j = a.job;
  // A Slurm job cancelled while it waited in the queue never had a segment open.
  if (!a.segments.empty() && a.segments.back().end_time == 0) {
    (void)store_.EndLaunchSegment(j.id, a.segments.back().seq, end, end_text);
    a.segments.back().end_time = end;
    a.segments.back().end_text = end_text;
  }
  j.exit_text = end_text;
  j.pid = j.pid_start = j.shim_pid = 0;
  if (j.stop_requested == 0) {
    // Stopped from the run's page: the SDK ends the script (exit 130) before the status
    // poll sees the stop; that is the user's stop, not a failure to restart after.
    if (Result<Experiment> e = tracking_.GetExperiment(j.experiment_id); e.ok() && e->status == RunStatus::kStopped) {
      j.stop_requested = end;
      j.stop_reason = "user";
    }
  }
  const bool stop_asked = j.stop_requested > 0;
  const bool failed = !known_exit || exit_code != 0;
  if (!stop_asked && known_exit && failed && j.restarts < a.spec.max_restarts) {
    ++j.restarts;
    j.gpus.clear();
    j.state = "queued";  // until the restart starts (after its backoff, and when its GPUs are free)
    // 0 s, then 1, 2, 4 ... 60 s: a script that fails at once does not spin.
    a.not_before = now + (j.restarts <= 1 ? 0 : std::min<int64_t>(60, int64_t{1} << std::min(j.restarts - 2, 6))) * 1'000'000;
    if (Result<std::vector<ArtifactVersion>> saved = Checkpoints(j); saved.ok() && !saved->empty()) {
      j.resume_from = saved->front().name + ":v" + std::to_string(saved->front().version);
    }
    Event(a, now, "exited", end_text + "; restart " + std::to_string(j.restarts) + " of " +
                                std::to_string(a.spec.max_restarts));
    if (now >= a.not_before) {
      if (Status s = StartSegment(a, now); !s.ok()) spdlog::warn("launch: job {}: restart: {}", j.id, s.message());
    }
    return;
  }
  RunStatus run_status;
  std::string message = end_text;
  std::string error;
  if (stop_asked) {
    j.state = "stopped";
    j.message.clear();  // "waiting in Slurm's queue" and the like no longer hold
    run_status = RunStatus::kStopped;
    message = (j.stop_reason == "budget_time"   ? "stopped: time budget spent; "
               : j.stop_reason == "budget_cost" ? "stopped: money budget spent; "
                                                : "stopped; ") +
              end_text;
  } else if (!known_exit) {
    j.state = "lost";
    run_status = RunStatus::kCrashed;
  } else if (exit_code == 0) {
    j.state = "finished";
    j.message.clear();
    run_status = RunStatus::kFinished;
  } else {
    j.state = "failed";
    run_status = RunStatus::kCrashed;
    // A pod's log is one stream: its last lines before the exit line stand for stderr's.
    std::string tail;
    if (j.executor != "runpod") {
      tail = StderrTail(j);
    } else {
      for (const std::string& l : a.pod_tail) tail += (tail.empty() ? "" : "\n") + l;
    }
    if (!tail.empty()) {
      const size_t last = tail.find_last_of('\n');
      j.message = last == std::string::npos ? tail : tail.substr(last + 1);
      error = end_text + "; the last of stderr:\n" + tail;  // the run's error box: the traceback's end
      message = end_text + ": " + j.message;
    }
  }
  j.end_time = end;
  j.gpus.clear();
  a.ended = true;
  RevokeJobToken(j);
  // The run first: whoever sees the job ended then finds its run ended too.
  if (error.empty() && run_status == RunStatus::kCrashed) error = message;
  (void)tracking_.Finish(j.experiment_id, run_status, "", end, error);
  Event(a, end, j.state == "lost" ? "lost" : "exited", message);
}

void LaunchService::SendStop(Active& a, int64_t now, const std::string& reason, const std::string& why) {
  ForgetStopAfterCheckpoint(a);  // this stop is the one it waited to send, or replaces it
  LaunchJob& j = a.job;
  j.stop_requested = now;
  j.stop_reason = reason;
  if (j.state == "queued") {
    // A RunPod job queued for a retry may have a pod RunPod made but never said so (one on its
    // way now is deleted when its answer comes, the job being gone).
    if (j.executor == "runpod" && !a.runpod_key.empty()) {
      left_sweeps_.push_back({"loupe-" + InstallationId() + "-job-" + std::to_string(j.id) + "-", a.spec.runpod.secret});
    }
    j.state = "stopped";
    j.message.clear();  // ("asking RunPod for pod ...": no longer)
    j.end_time = now;
    a.ended = true;
    (void)tracking_.Finish(j.experiment_id, RunStatus::kStopped, "", now);
    Event(a, now, "stopped", why + " before it started");
    return;
  }
  const bool waiting = j.state == "pending";
  j.state = "stopping";
  if (j.executor == "slurm") {
    // Waiting in the queue: cancelled at once. Running: TERM to the batch shell, which passes
    // it to the command; scancel after the grace period.
    Status sent = waiting ? slurm_.Cancel(j.external_id) : slurm_.SignalBatch(j.external_id, "TERM");
    next_slurm_poll_ = std::min(next_slurm_poll_, now + 300'000);  // the end is seen soon, not at the next second
    // Waiting: scancel again in 5 s should this one have failed (until Slurm says it ended).
    a.kill_at = now + (waiting ? 5'000'000 : static_cast<int64_t>(a.spec.stop_grace_seconds * 1e6));
    Event(a, now, "stopping", why + (waiting ? ": cancelled in Slurm's queue" : ": SIGTERM sent through Slurm") +
                                  (sent.ok() ? "" : " (failed: " + sent.message() + ")"));
    return;
  }
  if (j.executor == "runpod") {
    // Not started yet: the pod is deleted at once. Running: RunPod's stop gives the container
    // SIGTERM, which the bootstrap passes to the command; the pod is deleted after the grace period.
    // Sent by the supervisor without its lock (Tick); a failure is said then.
    if (waiting) {
      DeletePodLater(j.external_id, a.spec.runpod.secret, j.id);
    } else {
      pods_to_stop_.push_back({j.id, j.external_id, a.spec.runpod.secret});
    }
    next_pod_poll_ = std::min(next_pod_poll_, now + 300'000);
    a.kill_at = now + (waiting ? 5'000'000 : static_cast<int64_t>(a.spec.stop_grace_seconds * 1e6));
    Event(a, now, "stopping", why + (waiting ? ": the pod is deleted before it started" : ": RunPod stops the pod (SIGTERM)"));
    return;
  }
  a.kill_at = now + static_cast<int64_t>(a.spec.stop_grace_seconds * 1e6);
  (void)SignalGroup(static_cast<pid_t>(j.pid), SIGTERM);
  char grace[64];
  std::snprintf(grace, sizeof grace, "%g s", a.spec.stop_grace_seconds);
  Event(a, now, "stopping", why + ": SIGTERM sent, SIGKILL after " + grace);
}

void LaunchService::AskCheckpoint(Active& a, int64_t now, const std::string& reason) {
  if (a.job.executor == "slurm" && a.job.state == "running") {
    // To the batch shell, whose USR1 trap writes the control file (as at Slurm's own warning
    // before the time limit).
    if (Status s = slurm_.SignalBatch(a.job.external_id, "USR1"); s.ok()) {
      ++a.job.checkpoint_requests;
      Event(a, now, "checkpoint", "checkpoint asked (" + reason + "; SIGUSR1 to the batch script)");
      return;
    } else {
      spdlog::warn("launch: job {}: scancel --signal=USR1: {}; writing the control file instead", a.job.id, s.message());
    }
  }
  // The number only grows: the batch script's trap counts on from what the file says.
  {
    std::ifstream f(a.job.dir + "/control.json");
    const json old = json::parse(f, nullptr, false);
    if (old.is_object() && old.contains("checkpoint_request") && old["checkpoint_request"].is_number_integer()) {
      a.job.checkpoint_requests = std::max<int>(a.job.checkpoint_requests, old["checkpoint_request"].get<int>());
    }
  }
  ++a.job.checkpoint_requests;
  // The segment it was asked in: a script starting in that segment answers it.
  const json control = {{"checkpoint_request", a.job.checkpoint_requests}, {"reason", reason}, {"segment", a.job.segment}};
  if (Status s = WriteFileDurably(a.job.dir + "/control.json", control.dump(), "the job's control file"); !s.ok()) {
    spdlog::warn("launch: job {}: cannot ask for a checkpoint: {}", a.job.id, s.message());
    --a.job.checkpoint_requests;
    return;
  }
  Event(a, now, "checkpoint", "checkpoint asked (" + reason + ")");
}

Result<std::vector<ArtifactVersion>> LaunchService::Checkpoints(const LaunchJob& job) {
  LOUPE_ASSIGN_OR_RETURN(RunArtifacts all, artifacts_.ArtifactsOfRun(job.experiment_id));
  std::vector<ArtifactVersion> out;
  for (ArtifactVersion& v : all.produced) {
    if (v.type != "checkpoint") continue;
    // Saved by the job's own SDK (its key's user, with its job id), not uploaded by someone
    // else for a resume to load.
    if (!options_.job_user.empty() && v.created_by != options_.job_user &&
        (options_.remote_job_user.empty() || v.created_by != options_.remote_job_user)) {
      continue;
    }
    const json meta = json::parse(v.metadata_json, nullptr, false);
    if (!meta.is_object() || !meta.contains("job_id") || meta["job_id"] != job.id) continue;
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const ArtifactVersion& x, const ArtifactVersion& y) {
    return x.create_time != y.create_time ? x.create_time > y.create_time : x.id > y.id;
  });
  return out;
}

namespace {

std::optional<double> CheckpointMetric(const ArtifactVersion& v, const std::string& metric) {
  const json meta = json::parse(v.metadata_json, nullptr, false);
  if (!meta.is_object() || !meta.contains("metrics") || !meta["metrics"].is_object()) return std::nullopt;
  const json& m = meta["metrics"];
  if (!m.contains(metric) || !m[metric].is_number()) return std::nullopt;
  const double x = m[metric].get<double>();
  return std::isfinite(x) ? std::optional<double>(x) : std::nullopt;
}

std::optional<int64_t> CheckpointStep(const ArtifactVersion& v) {
  const json meta = json::parse(v.metadata_json, nullptr, false);
  if (!meta.is_object() || !meta.contains("step") || !meta["step"].is_number_integer()) return std::nullopt;
  return meta["step"].get<int64_t>();
}

}  // namespace

// Each checkpoint the script stores is an event of the job's timeline ("saved
// checkpoint-job-3:v2 at step 400"), looked for every 5 s and when the job ends. A job
// Loupe found again after a restart, or resumed, starts from the ones it has.
void LaunchService::AnnounceCheckpoints(Active& a, int64_t now, bool at_end) {
  if (!at_end && now < a.next_announce) return;
  a.next_announce = now + 5'000'000;
  Result<std::vector<ArtifactVersion>> saved = Checkpoints(a.job);
  if (!saved.ok()) return;
  const int64_t newest = saved->empty() ? 0 : saved->front().id;
  if (a.announced_checkpoint < 0) {
    a.announced_checkpoint = newest;
    return;
  }
  if (newest > a.announced_checkpoint && a.job.checkpoint_requests > 0) MarkRequestsAnswered(a);
  for (auto it = saved->rbegin(); it != saved->rend(); ++it) {  // oldest first
    if (it->id <= a.announced_checkpoint) continue;
    const std::optional<int64_t> step = CheckpointStep(*it);
    Event(a, now, "checkpoint", "saved " + it->name + ":v" + std::to_string(it->version) +
                                    (step ? " at step " + std::to_string(*step) : std::string()));
  }
  a.announced_checkpoint = std::max(a.announced_checkpoint, newest);
}

// A checkpoint stored since: the requests so far are answered. Said in the control file, so
// that a script started later in the same segment does not answer them again.
void LaunchService::MarkRequestsAnswered(Active& a) {
  const std::string path = a.job.dir + "/control.json";
  std::ifstream f(path);
  json control = json::parse(f, nullptr, false);
  if (!control.is_object() || !control.contains("checkpoint_request") || !control["checkpoint_request"].is_number_integer()) {
    return;
  }
  control["answered"] = control["checkpoint_request"];
  (void)WriteFileDurably(path, control.dump(), "the job's control file");
}

void LaunchService::KeepCheckpoints(Active& a, int64_t now) {
  const CheckpointPolicy& p = a.spec.checkpoint;
  if (!p.set || now < a.next_retention) return;
  a.next_retention = now + 5'000'000;
  Result<std::vector<ArtifactVersion>> saved = Checkpoints(a.job);
  if (!saved.ok() || static_cast<int>(saved->size()) <= p.keep_latest) return;
  std::set<int64_t> keep;
  for (int i = 0; i < p.keep_latest; ++i) keep.insert((*saved)[i].id);
  if (!p.best_metric.empty()) {
    const ArtifactVersion* best = nullptr;
    std::optional<double> best_value;
    for (const ArtifactVersion& v : *saved) {
      std::optional<double> x = CheckpointMetric(v, p.best_metric);
      if (x && (!best_value || (p.best_max ? *x > *best_value : *x < *best_value))) {
        best_value = x;
        best = &v;
      }
    }
    if (best) keep.insert(best->id);
  }
  for (const ArtifactVersion& v : *saved) {
    if (keep.count(v.id) || v.name + ":v" + std::to_string(v.version) == a.job.resume_from) continue;
    bool pinned = false;  // an alias someone gave it ("best", "for-paper") keeps it
    for (const std::string& alias : v.aliases) pinned = pinned || alias != "latest";
    if (pinned) continue;
    if (Status s = artifacts_.DeleteArtifactVersion(v.id); s.ok()) {
      Event(a, now, "checkpoint", "removed " + v.name + ":v" + std::to_string(v.version) + " (keeping the latest " +
                                      std::to_string(p.keep_latest) +
                                      (p.best_metric.empty() ? "" : " and the best by " + p.best_metric) + ")");
    }
  }
}

void LaunchService::CheckBudget(Active& a, int64_t now) {
  const JobBudget& b = a.spec.budget;
  if (b.max_minutes <= 0 && b.max_cost <= 0) return;
  const BudgetUse use = UseOf(a.segments, now);
  const double fraction = BudgetFraction(b, use);
  const int bits = AlertBits(fraction);
  if ((bits & ~a.job.alerts) != 0) {
    a.job.alerts |= bits;
    std::string used;
    if (b.max_minutes > 0) used += Minutes(use.elapsed_seconds) + " of " + Minutes(b.max_minutes * 60);
    if (b.max_cost > 0) used += (used.empty() ? "" : ", ") + FormatDollars(use.cost) + " of " + FormatDollars(b.max_cost);
    const int pct = bits & 4 ? 100 : bits & 2 ? 80 : 50;
    const std::string message = "budget " + std::to_string(pct) + "% used (" + used + ")";
    Event(a, now, "alert", message);
    if (!b.alert_webhook.empty()) {
      json alert = {{"job_id", a.job.id},     {"name", a.job.name},
                    {"experiment_id", a.job.experiment_id}, {"percent", pct},
                    {"message", message},     {"elapsed_seconds", use.elapsed_seconds},
                    {"cost", use.cost},       {"max_minutes", b.max_minutes > 0 ? json(b.max_minutes) : json(nullptr)},
                    {"max_cost", b.max_cost > 0 ? json(b.max_cost) : json(nullptr)}};
      if (!options_.server_url.empty()) alert["url"] = options_.server_url + "/launch/" + std::to_string(a.job.id);
      webhooks_.Post(b.alert_webhook, alert.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  if (fraction < 1.0 || a.job.stop_requested != 0) return;
  const bool time = b.max_minutes > 0 && use.elapsed_seconds >= b.max_minutes * 60;
  const std::string why = time ? "time budget spent (" + Minutes(use.elapsed_seconds) + ")"
                               : "money budget spent (" + FormatDollars(use.cost) + ")";
  // With a checkpoint policy the script is asked for a checkpoint first, and the stop
  // waits for it (at most the policy's grace period).
  const CheckpointPolicy& p = a.spec.checkpoint;
  if (p.set && p.grace_seconds > 0) {
    Result<std::vector<ArtifactVersion>> saved = Checkpoints(a.job);
    // By id, not by count: retention removes old ones while new ones come.
    const int64_t newest = saved.ok() && !saved->empty() ? saved->front().id : 0;
    if (a.budget_wait_until == 0) {
      a.newest_before = newest;
      a.budget_wait_until = now + static_cast<int64_t>(p.grace_seconds * 1e6);
      AskCheckpoint(a, now, "budget");
      return;
    }
    if (!CheckpointWaitOver(a, now, saved, a.newest_before, a.budget_wait_until, "budget stop")) return;
  }
  SendStop(a, now, time ? "budget_time" : "budget_cost", why);
}

// Whether a stop that waits for a checkpoint may go: one newer than `newest_before` is
// stored (said: "saved before the <what>: NAME:vN"), or `until` passed without one (said too).
bool LaunchService::CheckpointWaitOver(Active& a, int64_t now, const Result<std::vector<ArtifactVersion>>& saved,
                                       int64_t newest_before, int64_t until, const std::string& what) {
  const int64_t newest = saved.ok() && !saved->empty() ? saved->front().id : 0;
  if (newest > newest_before) {
    Event(a, now, "checkpoint", "saved before the " + what + ": " + saved->front().name + ":v" +
                                    std::to_string(saved->front().version));
  } else if (now < until) {
    return false;
  } else {
    Event(a, now, "checkpoint", "none saved within the grace period; stopping without one");
  }
  return true;
}

// A user's "checkpoint, then stop": the stop goes once a checkpoint newer than the ones
// before the request is stored, or when the grace period is over without one.
void LaunchService::StopAfterCheckpoint(Active& a, int64_t now) {
  if (a.stop_after_checkpoint == 0 || a.job.stop_requested != 0) return;
  if (!CheckpointWaitOver(a, now, Checkpoints(a.job), a.newest_before_stop, a.stop_after_checkpoint, "stop")) return;
  SendStop(a, now, "user", "stopped by a user, after a checkpoint");
}

void LaunchService::ForgetStopAfterCheckpoint(Active& a) {
  if (a.stop_after_checkpoint == 0) return;
  a.stop_after_checkpoint = 0;
  std::error_code ec;
  fs::remove(a.job.dir + "/stop-after-checkpoint.json", ec);
}

namespace {

// When a process Loupe did not see end ended: its exit file's time, else the last time it
// wrote output, within [start, now]; now when neither tells.
int64_t EndedAt(const LaunchJob& j, int64_t start, int64_t now) {
  int64_t best = 0;
  for (const char* ext : {"exit", "out", "err"}) {
    struct stat st {};
    if (stat(LogFile(j, ext).c_str(), &st) != 0) continue;
    const int64_t t = int64_t{st.st_mtim.tv_sec} * 1000000 + st.st_mtim.tv_nsec / 1000;
    if (std::string(ext) == "exit") {
      best = t;
      break;
    }
    best = std::max(best, t);
  }
  return best >= start && best <= now ? best : now;
}

}  // namespace

void LaunchService::Supervise(Active& a, int64_t now, std::chrono::steady_clock::time_point copy_until,
                              const SlurmPoll* poll, const PodReads& pods) {
  LaunchJob& j = a.job;
  if (j.state == "queued") {
    if (now < a.not_before) return;
    if (Status s = StartSegment(a, now); !s.ok()) spdlog::warn("launch: job {}: {}", j.id, s.message());
    return;
  }
  if (j.executor == "slurm") {
    if (poll) {
      FollowSlurm(a, now, *poll);
      if (a.ended || j.state == "queued") return;
    }
    if (a.kill_at > 0 && now >= a.kill_at) {
      // Until Slurm says it ended: a failed scancel is tried again.
      Status s = slurm_.Cancel(j.external_id);
      Event(a, now, "killed", "still running after the grace period: scancel" + (s.ok() ? "" : " failed: " + s.message()));
      a.kill_at = now + 5'000'000;
    }
    SuperviseRunning(a, now, copy_until);
    return;
  }
  if (j.executor == "runpod") {
    auto read = pods.find(j.id);
    FollowPod(a, now, read == pods.end() ? nullptr : &read->second);
    if (a.ended || j.state == "queued") return;
    if (a.kill_at > 0 && now >= a.kill_at) {
      // Until RunPod says the pod is gone: a failed delete is tried again.
      Status s = runpod_->Action(a.runpod_key, j.external_id, "terminate");
      Event(a, now, "killed", "still running after the grace period: pod deleted" + (s.ok() ? "" : " (failed: " + s.message() + ")"));
      a.kill_at = now + 5'000'000;
    }
    SuperviseRunning(a, now, copy_until);
    return;
  }
  const std::string exit_path = SegmentFile(j, j.segment, "exit");
  const int64_t start = a.segments.empty() ? now : a.segments.back().start_time;
  if (a.own_child) {
    if (ReapChild(static_cast<pid_t>(j.shim_pid))) {
      if (std::optional<ExitStatus> st = ReadExitFile(exit_path)) {
        Ended(a, now, now, st->Text(), true, st->code);
        return;
      }
      if (!SameProcessAlive(static_cast<pid_t>(j.pid), j.pid_start)) {
        Ended(a, now, now, "ended without an exit status", false, -1);
        return;
      }
      // Its supervisor process was killed, not the job: watch the job's own process.
      a.own_child = false;
      Event(a, now, "found", "the job's supervisor process ended; watching pid " + std::to_string(j.pid) + " itself");
    }
  } else if (a.gone_since > 0 || !SameProcessAlive(static_cast<pid_t>(j.pid), j.pid_start)) {
    if (a.gone_since == 0) a.gone_since = now;
    if (std::optional<ExitStatus> st = ReadExitFile(exit_path)) {
      Ended(a, now, EndedAt(j, start, now), st->Text(), true, st->code);
      return;
    }
    if (now - a.gone_since > 5'000'000) {  // no exit status is coming: its supervisor died too
      j.message = "the process was gone without an exit status (Loupe was not running when it ended)";
      Ended(a, now, EndedAt(j, start, a.gone_since), "lost", false, -1);
      return;
    }
  }
  if (a.kill_at > 0 && now >= a.kill_at) {
    (void)SignalGroup(static_cast<pid_t>(j.pid), SIGKILL);
    Event(a, now, "killed", "still running after the grace period: SIGKILL sent");
    a.kill_at = 0;
  }
  SuperviseRunning(a, now, copy_until);
}

void LaunchService::SuperviseRunning(Active& a, int64_t now, std::chrono::steady_clock::time_point copy_until) {
  LaunchJob& j = a.job;
  if (a.next_checkpoint_at > 0 && now >= a.next_checkpoint_at && j.stop_requested == 0) {
    a.next_checkpoint_at = now + static_cast<int64_t>(a.spec.checkpoint.every_minutes * 60e6);
    AskCheckpoint(a, now, "every " + Minutes(a.spec.checkpoint.every_minutes * 60));
  }
  CheckBudget(a, now);
  StopAfterCheckpoint(a, now);
  AnnounceCheckpoints(a, now, false);
  KeepCheckpoints(a, now);
  // A Stop on the run's page reaches the job within a second (a read); the heartbeat that
  // keeps the run from being taken for a silent one is a write, less often.
  if (now - a.last_status_check >= 1'000'000) {
    a.last_status_check = now;
    Result<Experiment> e = tracking_.GetExperiment(j.experiment_id);
    if (e.ok() && e->status == RunStatus::kStopped && j.stop_requested == 0) {
      SendStop(a, now, "user", "stopped from the run's page");
    } else if (!e.ok() && e.status().code() == Code::kNotFound && j.stop_requested == 0) {
      SendStop(a, now, "user", "its run was deleted");
    }
  }
  if (now - a.last_heartbeat >= int64_t{options_.heartbeat_seconds} * 1'000'000) {
    a.last_heartbeat = now;
    (void)tracking_.Heartbeat(j.experiment_id);
  }
  CopyLogs(a, now, false, copy_until);
}

void LaunchService::Tick() {
  // Slurm and RunPod are asked without the lock held: a slow controller or API must not hold
  // up local jobs, launches or the API.
  std::optional<SlurmPoll> poll;
  PodReads pods;  // RunPod likewise
  std::vector<PodCreation> creations;
  std::vector<PodStop> stops;
  std::vector<Status> stopped;  // stops[i]'s answer
  std::vector<LeftSweep> sweeps;
  struct {
    std::string prefix;
    std::set<std::string> secrets, known;
  } reconcile;
  {
    std::vector<std::string> ids;
    std::unique_lock<std::mutex> lock(mu_);
    const int64_t now = NowMicros();
    if (now >= next_slurm_poll_) {
      for (const auto& [id, a] : active_) {
        if (a->job.executor == "slurm" && !a->ended && !a->job.external_id.empty() && a->job.state != "queued") {
          ids.push_back(a->job.external_id);
        }
      }
      if (!ids.empty() || !unaccounted_.empty()) next_slurm_poll_ = now + int64_t{options_.slurm_poll_ms} * 1000;
      if (!ids.empty()) poll = SlurmPoll{now, Status::Ok()};
      if (!unaccounted_.empty()) AccountEndedSlurmJobs(now);
    }
    std::vector<PodToDelete> deletes;  // due now, tried below without the lock
    for (const PodToDelete& p : pods_to_delete_) {
      if (now >= p.next_try) deletes.push_back(p);
    }
    // Pods StartPod prepared, stops SendStop asked, left pods of stopped queued jobs.
    for (auto& [id, a] : active_) {
      if (a->job.executor != "runpod" || !a->pod_create || a->pod_creating || a->ended) continue;
      PodCreation p;
      p.job = id;
      p.seq = ++pod_creations_;
      p.key = a->runpod_key;
      p.secret = a->spec.runpod.secret;
      p.job_dir = a->job.dir;
      p.prefix = "loupe-" + InstallationId() + "-job-" + std::to_string(id) + "-";
      p.create = std::move(*a->pod_create);
      a->pod_create.reset();
      a->pod_creating = true;
      a->pod_creation = p.seq;
      creations.push_back(std::move(p));
    }
    stops.swap(pods_to_stop_);
    sweeps.swap(left_sweeps_);
    // Every minute while RunPod jobs run, and for ten minutes after the last one (or after
    // a start): the account's pods named for this Loupe's jobs that no job has are deleted.
    // A Loupe killed while RunPod made a pod, or a stop that came meanwhile, leaves one.
    bool runpod_jobs = false;
    for (const auto& [id, a] : active_) runpod_jobs = runpod_jobs || a->job.executor == "runpod";
    if (runpod_jobs || last_runpod_activity_ == 0) last_runpod_activity_ = now;
    if (now >= next_reconcile_ && now - last_runpod_activity_ < 600'000'000) {
      next_reconcile_ = now + int64_t{options_.runpod_poll_ms} * 30'000;  // a minute at the default 2 s
      reconcile.prefix = "loupe-" + InstallationId() + "-job-";
      reconcile.secrets.insert("runpod");
      for (const auto& [id, a] : active_) {
        if (a->job.executor != "runpod") continue;
        reconcile.secrets.insert(a->spec.runpod.secret);
        if (!a->job.external_id.empty()) reconcile.known.insert(a->job.external_id);
      }
      for (const PodToDelete& p : pods_to_delete_) reconcile.known.insert(p.pod);
    }
    std::vector<std::tuple<int64_t, std::string, std::string>> to_read;  // job, pod, key
    if (now >= next_pod_poll_) {
      for (const auto& [id, a] : active_) {
        if (a->job.executor == "runpod" && !a->ended && !a->job.external_id.empty() && a->job.state != "queued") {
          to_read.emplace_back(id, a->job.external_id, a->runpod_key);
        }
      }
      if (!to_read.empty()) next_pod_poll_ = now + int64_t{options_.runpod_poll_ms} * 1000;
    }
    lock.unlock();
    if (poll) poll->jobs = slurm_.Jobs(ids);
    // (Before this tick's creations, as the sweeps: it must not find their pods.)
    for (const std::string& secret : reconcile.secrets) {
      Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(secret) : Result<std::string>(Status::NotFound(""));
      if (!key.ok()) continue;  // no such secret: no RunPod account to look at
      Result<std::vector<std::pair<std::string, RunPodPod>>> listed = runpod_->ListPods(*key);
      if (!listed.ok()) continue;  // said by the polls; tried again in a minute
      for (const auto& [name, pod] : *listed) {
        if (name.rfind(reconcile.prefix, 0) != 0 || pod.status == "TERMINATED" || reconcile.known.count(pod.id)) continue;
        const Status st = runpod_->Action(*key, pod.id, "terminate");
        spdlog::warn("launch: RunPod pod {} ({}) belongs to no running job of this Loupe: {}", pod.id, name,
                     st.ok() ? "deleted" : "not deleted yet: " + st.message());
      }
    }
    // Before this tick's creations: a job stopped and resumed at once has a new pod on its
    // way, with the same name prefix, that the sweep must not find.
    for (const LeftSweep& sw : sweeps) {
      Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(sw.secret) : Result<std::string>(Status::NotFound(""));
      Result<std::vector<std::pair<std::string, RunPodPod>>> listed =
          key.ok() ? runpod_->ListPods(*key) : Result<std::vector<std::pair<std::string, RunPodPod>>>(key.status());
      if (!listed.ok()) {
        spdlog::warn("launch: RunPod's pods cannot be listed to delete those named {}*: {}", sw.prefix, listed.status().message());
        continue;
      }
      for (const auto& [name, pod] : *listed) {
        if (name.rfind(sw.prefix, 0) != 0 || pod.status == "TERMINATED") continue;
        const Status st = runpod_->Action(*key, pod.id, "terminate");
        spdlog::info("launch: RunPod pod {} ({}), left by a create whose answer was lost: {}", pod.id, name,
                     st.ok() ? "deleted" : "not deleted: " + st.message());
      }
    }
    for (PodCreation& p : creations) CreatePodOutsideLock(p);
    for (const PodStop& st : stops) {
      Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(st.secret) : Result<std::string>(Status::NotFound(""));
      stopped.push_back(key.ok() ? runpod_->Action(*key, st.pod, "stop") : key.status());
    }
    std::set<std::string> deleted;
    std::map<std::string, std::string> why_not;  // pod -> why its delete failed
    for (const PodToDelete& p : deletes) {
      Result<std::string> key = options_.reveal_secret ? options_.reveal_secret(p.secret) : Result<std::string>(Status::NotFound(""));
      const Status st = key.ok() ? runpod_->Action(*key, p.pod, "terminate") : key.status();
      if (st.ok()) {
        deleted.insert(p.pod);
      } else {
        why_not[p.pod] = st.message();
      }
    }
    if (!deletes.empty()) {
      lock.lock();
      const int64_t later = NowMicros() + 10'000'000;
      for (auto it = pods_to_delete_.begin(); it != pods_to_delete_.end();) {
        if (deleted.count(it->pod)) {
          spdlog::info("launch: RunPod pod {} deleted", it->pod);
          it = pods_to_delete_.erase(it);
          continue;
        }
        if (it->next_try <= now) {
          it->next_try = later;
          // Said once, in the job's timeline: a pod bills until it is deleted.
          if (!it->told && why_not.count(it->pod)) {
            it->told = true;
            const std::string msg = "RunPod pod " + it->pod + " could not be deleted yet (" + why_not[it->pod] +
                                    "); Loupe tries again every 10 s";
            spdlog::warn("launch: {}", msg);
            if (auto a = active_.find(it->job); a != active_.end()) {
              Event(*a->second, NowMicros(), "warning", msg);
            } else if (Result<LaunchJob> j = it->job > 0 ? store_.GetLaunchJob(it->job) : Result<LaunchJob>(Status::NotFound(""));
                       j.ok()) {
              (void)store_.UpdateLaunchJob(*j, LaunchEvent{it->job, NowMicros(), "warning", msg});
            }
          }
        }
        ++it;
      }
      if (!deleted.empty()) SavePodsToDelete();
      lock.unlock();
    }
    // One list of the account's pods per key a poll (not a read per pod: RunPod limits
    // requests per minute); a pod not in it is gone.
    std::map<std::string, Result<std::vector<std::pair<std::string, RunPodPod>>>> lists;
    for (const auto& [job, pod, key] : to_read) {
      if (!lists.count(key)) lists.emplace(key, runpod_->ListPods(key));
    }
    for (const auto& [job, pod, key] : to_read) {
      const auto& list = lists.at(key);
      if (!list.ok()) {
        pods.emplace(job, list.status());
        continue;
      }
      Result<RunPodPod> found = Status::NotFound("RunPod lists no pod " + pod);
      for (const auto& [name, p] : *list) {
        if (p.id == pod) found = p;
      }
      pods.emplace(job, std::move(found));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMicros();
  for (PodCreation& p : creations) {
    auto it = active_.find(p.job);
    Active* a = it == active_.end() ? nullptr : it->second.get();
    if (a && a->pod_creation == p.seq) a->pod_creating = false;
    if (!a || a->ended || a->pod_creation != p.seq || a->job.stop_requested != 0) {
      // Stopped (or gone) while RunPod made it: the pod is not the job's, and must not bill.
      if (p.pod.ok()) {
        spdlog::info("launch: job {}: RunPod pod {} made after the job stopped; deleting it", p.job, p.pod->id);
        DeletePodLater(p.pod->id, p.secret);
      }
      if (!a || a->ended) {
        LaunchJob gone;
        gone.id = p.job;
        gone.dir = p.job_dir;
        RevokeJobToken(gone);
      }
      continue;
    }
    if (Status st = PodCreated(*a, now, p); !st.ok()) spdlog::warn("launch: job {}: {}", p.job, st.message());
  }
  for (size_t i = 0; i < stops.size(); ++i) {
    auto it = active_.find(stops[i].job);
    if (!stopped[i].ok() && it != active_.end()) {
      Event(*it->second, now, "warning", "RunPod did not stop pod " + stops[i].pod + ": " + stopped[i].message() +
                                             "; it is deleted after the grace period");
    }
  }
  // Copying a flood of output from one job must not hold up the others' budgets and stops
  // (nor a launch waiting for this lock): output beyond this is read on the next tick.
  const auto copy_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->second->ended) {  // ended outside a tick (a resume that failed to start)
      it = active_.erase(it);
      continue;
    }
    Supervise(*it->second, now, copy_until, poll ? &*poll : nullptr, pods);
    it = it->second->ended ? active_.erase(it) : std::next(it);
  }
}

Result<LaunchJob> LaunchService::StopJob(int64_t id, const std::string& reason, bool checkpoint_first) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(id);
  if (it == active_.end()) {
    LOUPE_ASSIGN_OR_RETURN(LaunchJob j, store_.GetLaunchJob(id));
    return Status::Conflict("job " + std::to_string(id) + " is not running (it is " + j.state + ")");
  }
  Active& a = *it->second;
  if (a.job.stop_requested > 0) return a.job;  // asked already; the grace period runs
  const int64_t now = NowMicros();
  if (checkpoint_first && a.job.state == "running") {
    if (a.stop_after_checkpoint > 0) return a.job;  // waiting for it already
    Result<std::vector<ArtifactVersion>> saved = Checkpoints(a.job);
    a.newest_before_stop = saved.ok() && !saved->empty() ? saved->front().id : 0;
    const double grace = a.spec.checkpoint.set ? a.spec.checkpoint.grace_seconds : 60;
    a.stop_after_checkpoint = now + static_cast<int64_t>(grace * 1e6);
    // Kept on disk: a Loupe restarted meanwhile still stops the job.
    (void)WriteFileDurably(a.job.dir + "/stop-after-checkpoint.json",
                           json{{"until", a.stop_after_checkpoint}, {"newest_before", a.newest_before_stop}}.dump(),
                           "the job's pending stop");
    AskCheckpoint(a, now, "before a user's stop");
    a.job.message = "stopping after a checkpoint (waiting up to " + Minutes(grace) + ")";
    (void)store_.UpdateLaunchJob(a.job, LaunchEvent{a.job.id, now, "stop", a.job.message});
    return a.job;
  }
  SendStop(a, now, reason, reason == "user" ? "stopped by a user" : "stopped: " + reason);
  LaunchJob out = a.job;
  if (a.ended) active_.erase(it);
  return out;
}

Result<LaunchJob> LaunchService::RequestCheckpoint(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(id);
  if (it == active_.end() || it->second->job.state != "running") {
    LOUPE_ASSIGN_OR_RETURN(LaunchJob j, store_.GetLaunchJob(id));
    return Status::Conflict("job " + std::to_string(id) + " is not running (it is " + j.state + ")");
  }
  AskCheckpoint(*it->second, NowMicros(), "asked by a user");
  return it->second->job;
}

Result<LaunchJob> LaunchService::Resume(int64_t id, const json& body, const std::string& user) {
  if (!body.is_object()) return Status::InvalidArgument("send {} or {\"checkpoint\": id, \"budget\": {...}}");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "checkpoint" && it.key() != "budget") {
      return Status::InvalidArgument("unknown field '" + it.key() + "' (known: checkpoint, budget)");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (active_.count(id)) return Status::Conflict("job " + std::to_string(id) + " is still active: stop it first");
  LOUPE_ASSIGN_OR_RETURN(LaunchJob job, store_.GetLaunchJob(id));
  if (job.state == "queued" || job.state == "running" || job.state == "stopping") {
    return Status::Conflict("job " + std::to_string(id) + " is " + job.state);
  }
  if (job.experiment_id == 0 || job.segment == 0) {
    return Status::Conflict("job " + std::to_string(id) + " never started (" + job.message + "); launch it again");
  }
  json spec_json = json::parse(job.spec_json, nullptr, false);
  if (body.contains("budget")) {  // the caps given replace those caps; the others stay
    if (!body["budget"].is_object()) return Status::InvalidArgument("'budget' must be an object");
    if (!spec_json["budget"].is_object()) spec_json["budget"] = json::object();
    for (auto it = body["budget"].begin(); it != body["budget"].end(); ++it) spec_json["budget"][it.key()] = it.value();
  }
  auto a = std::make_unique<Active>();
  std::vector<SpecProblem> problems = ParseJobSpec(spec_json, a->spec);
  if (!problems.empty()) return Status::InvalidArgument(ProblemsText(problems));
  LOUPE_ASSIGN_OR_RETURN(a->segments, store_.ListLaunchSegments(id));
  const int64_t now = NowMicros();
  const BudgetUse use = UseOf(a->segments, now);
  if (BudgetFraction(a->spec.budget, use) >= 1.0) {
    return Status::InvalidArgument("the job's budget is spent (" + Minutes(use.elapsed_seconds) + ", " +
                                   FormatDollars(use.cost) + " so far): give a larger \"budget\" to resume it");
  }
  LOUPE_ASSIGN_OR_RETURN(std::vector<ArtifactVersion> saved, Checkpoints(job));
  std::string from;
  if (body.contains("checkpoint")) {
    const json& c = body["checkpoint"];
    if (!c.is_number_integer()) return Status::InvalidArgument("'checkpoint' must be a checkpoint's version id");
    for (const ArtifactVersion& v : saved) {
      if (v.id == c.get<int64_t>()) from = v.name + ":v" + std::to_string(v.version);
    }
    if (from.empty()) {
      return Status::NotFound("checkpoint " + c.dump() + " is not one of job " + std::to_string(id) + "'s checkpoints");
    }
  } else if (!saved.empty()) {
    from = saved.front().name + ":v" + std::to_string(saved.front().version);
  }
  job.spec_json = SpecToJson(a->spec).dump();
  job.resume_from = from;
  job.state = "queued";
  job.stop_requested = 0;
  job.stop_reason.clear();
  job.exit_text.clear();
  job.message.clear();
  job.end_time = 0;
  job.alerts = AlertBits(BudgetFraction(a->spec.budget, use));  // alerts already given are not given again
  LOUPE_RETURN_IF_ERROR(store_.UpdateLaunchJob(job, LaunchEvent{id, now, "resumed",
                                                                (from.empty() ? std::string("from the beginning")
                                                                              : "from checkpoint " + from) +
                                                                    " by " + (user.empty() ? "a user" : user)}));
  (void)tracking_.Finish(job.experiment_id, RunStatus::kRunning);
  a->job = job;
  a->resuming = true;
  Active& added = *a;
  active_[id] = std::move(a);
  if (Status s = StartSegment(added, now); !s.ok()) {
    if (added.ended) active_.erase(id);
    return s;
  }
  return added.job;
}

Status LaunchService::SetPrices(const json& body) {
  if (!body.is_object() || !body.contains("prices") || !body["prices"].is_object()) {
    return Status::InvalidArgument("send {\"prices\": {\"cpu\": 0.05, \"H100\": 2.49, ...}} (US dollars per hour, per unit)");
  }
  std::map<std::string, double> prices;
  if (body["prices"].size() > 256) return Status::InvalidArgument("at most 256 prices");
  for (auto it = body["prices"].begin(); it != body["prices"].end(); ++it) {
    if (it.key().empty() || it.key().size() > 128) {
      return Status::InvalidArgument("a price's name must be 1-128 bytes (\"cpu\" or a GPU type)");
    }
    if (!it.value().is_number() || !std::isfinite(it.value().get<double>()) || it.value().get<double>() < 0 ||
        it.value().get<double>() > 1e6) {
      return Status::InvalidArgument("prices." + it.key() + " must be US dollars per hour from 0 to 1,000,000");
    }
    prices[it.key()] = it.value().get<double>();
  }
  return store_.SetLaunchPrices(prices);
}

namespace {

json JobBrief(const LaunchJob& j, const std::vector<LaunchSegment>& segments, const JobSpec& spec, int64_t now) {
  const BudgetUse use = UseOf(segments, now);
  json budget = json::object();
  if (spec.budget.max_minutes > 0) budget["max_minutes"] = spec.budget.max_minutes;
  if (spec.budget.max_cost > 0) budget["max_cost"] = spec.budget.max_cost;
  const double rate = segments.empty() ? 0 : segments.back().rate_per_hour;
  return {{"id", j.id},
          {"name", j.name},
          {"project", j.project},
          {"experiment_id", j.experiment_id},
          {"executor", j.executor},
          {"state", j.state},
          {"stop_reason", j.stop_reason.empty() ? json(nullptr) : json(j.stop_reason)},
          {"exit", j.exit_text.empty() ? json(nullptr) : json(j.exit_text)},
          {"message", j.message},
          {"created_by", j.created_by},
          {"create_time", j.create_time / 1e6},
          {"start_time", j.start_time ? json(j.start_time / 1e6) : json(nullptr)},
          {"end_time", j.end_time ? json(j.end_time / 1e6) : json(nullptr)},
          {"restarts", j.restarts},
          {"segments", static_cast<int64_t>(segments.size())},
          {"gpus", j.gpus},
          {"pid", j.pid ? json(j.pid) : json(nullptr)},
          {"slurm_job_id", j.executor == "slurm" && !j.external_id.empty() ? json(j.external_id) : json(nullptr)},
          {"runpod_pod_id", j.executor == "runpod" && !j.external_id.empty() ? json(j.external_id) : json(nullptr)},
          {"elapsed_seconds", use.elapsed_seconds},
          {"cost", use.cost},
          {"rate_per_hour", rate},
          {"budget", budget},
          {"budget_used", BudgetFraction(spec.budget, use)}};
}

}  // namespace

Result<json> LaunchService::JobJson(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(LaunchJob j, store_.GetLaunchJob(id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchSegment> segments, store_.ListLaunchSegments(id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchEvent> events, store_.ListLaunchEvents(id));
  JobSpec spec;
  const json stored = json::parse(j.spec_json, nullptr, false);
  (void)ParseJobSpec(stored, spec);
  const int64_t now = NowMicros();
  json out = JobBrief(j, segments, spec, now);
  out["spec"] = stored;
  json segs = json::array();
  for (const LaunchSegment& s : segments) {
    const int64_t end = s.end_time ? s.end_time : now;
    segs.push_back({{"seq", s.seq},
                    {"start_time", s.start_time / 1e6},
                    {"end_time", s.end_time ? json(s.end_time / 1e6) : json(nullptr)},
                    {"seconds", std::max<int64_t>(0, end - s.start_time) / 1e6},
                    {"rate_per_hour", s.rate_per_hour},
                    {"cost", s.rate_per_hour * std::max<int64_t>(0, end - s.start_time) / 1e6 / 3600.0},
                    {"end", s.end_text.empty() ? json(nullptr) : json(s.end_text)}});
  }
  out["segment_list"] = segs;
  json ev = json::array();
  for (const LaunchEvent& e : events) ev.push_back({{"time", e.time / 1e6}, {"kind", e.kind}, {"message", e.message}});
  out["events"] = ev;
  json checkpoints = json::array();
  LOUPE_ASSIGN_OR_RETURN(std::vector<ArtifactVersion> saved, Checkpoints(j));
  for (const ArtifactVersion& v : saved) {
    const json meta = json::parse(v.metadata_json, nullptr, false);
    std::optional<int64_t> step = CheckpointStep(v);
    checkpoints.push_back({{"id", v.id},
                           {"ref", v.name + ":v" + std::to_string(v.version)},
                           {"step", step ? json(*step) : json(nullptr)},
                           {"metrics", meta.is_object() && meta.contains("metrics") ? meta["metrics"] : json::object()},
                           {"size", v.size},
                           {"files", v.file_count},
                           {"create_time", v.create_time / 1e6},
                           {"download", "/api/v1/artifact-versions/" + std::to_string(v.id) + "/zip"}});
  }
  out["checkpoints"] = checkpoints;
  out["resume_from"] = j.resume_from.empty() ? json(nullptr) : json(j.resume_from);
  out["checkpoint_requests"] = j.checkpoint_requests;
  if (!spec.model.is_null()) {
    ModelShape shape;
    (void)ParseModelShape(spec.model, "model.", shape);
    out["memory_estimate"] = EstimateJson(EstimateGpuMemory(shape));
  }
  LOUPE_ASSIGN_OR_RETURN(out["progress"], ProgressJson(j, spec, out["elapsed_seconds"].get<double>(),
                                                       out["cost"].get<double>()));
  return out;
}

Result<json> LaunchService::ProgressJson(const LaunchJob& j, const JobSpec& spec, double elapsed, double cost) {
  // The step the run has reached: the highest of its metrics (system metrics count their own).
  int64_t step = -1;
  if (j.experiment_id > 0) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<Series> series, tracking_.ListSeries(j.experiment_id));
    for (const Series& s : series) {
      if (s.type == "line" && s.key.rfind("system/", 0) != 0) step = std::max(step, s.last_step);
    }
  }
  int64_t total = spec.total_steps;
  if (total == 0 && j.experiment_id > 0) {
    if (Result<Experiment> e = tracking_.GetExperiment(j.experiment_id); e.ok()) {
      const json config = json::parse(e->config_json, nullptr, false);
      if (config.is_object() && config.contains("total_steps") && config["total_steps"].is_number_integer() &&
          config["total_steps"].get<int64_t>() > 0) {
        total = config["total_steps"].get<int64_t>();
      }
    }
  }
  json out = {{"step", step >= 0 ? json(step) : json(nullptr)},
              {"total_steps", total > 0 ? json(total) : json(nullptr)},
              {"fraction", nullptr},
              {"projected_seconds", nullptr},
              {"projected_cost", nullptr}};
  if (total > 0 && j.state == "finished") {
    // It ran to its end: done, whether its steps counted from 0 or from 1; the totals are what it took.
    out["fraction"] = 1.0;
    out["projected_seconds"] = elapsed;
    out["projected_cost"] = cost;
  } else if (total > 0 && step > 0) {
    // Time and money so far over the share of steps done, as if the rest goes at the same pace.
    const double fraction = std::min(1.0, static_cast<double>(step) / static_cast<double>(total));
    out["fraction"] = fraction;
    out["projected_seconds"] = elapsed / fraction;
    out["projected_cost"] = cost / fraction;
  }
  return out;
}

Result<json> LaunchService::SpendJson() {
  LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchJob> jobs, store_.ListLaunchJobs(100000));
  const int64_t now = NowMicros();
  struct Total {
    double cost = 0, seconds = 0;
    int64_t jobs = 0;
  };
  std::map<std::string, Total> by_project, by_executor, by_gpu;
  std::map<std::string, DaySpend> by_day;
  Total all;
  for (const LaunchJob& j : jobs) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchSegment> segments, store_.ListLaunchSegments(j.id));
    if (segments.empty()) continue;
    JobSpec spec;
    (void)ParseJobSpec(json::parse(j.spec_json, nullptr, false), spec);
    const std::string gpu = spec.resources.gpus == 0 ? "none (CPU)"
                            : spec.resources.gpu_type.empty() ? "any GPU"
                                                              : spec.resources.gpu_type;
    const BudgetUse use = UseOf(segments, now);
    for (Total* t : {&by_project[j.project], &by_executor[j.executor], &by_gpu[gpu], &all}) {
      t->cost += use.cost;
      t->seconds += use.elapsed_seconds;
      t->jobs += 1;
    }
    for (const LaunchSegment& s : segments) AddSpendByDay(s, now, by_day);
  }
  auto rows = [](const std::map<std::string, Total>& m, const char* key) {
    json out = json::array();
    for (const auto& [name, t] : m) out.push_back({{key, name}, {"cost", t.cost}, {"seconds", t.seconds}, {"jobs", t.jobs}});
    return out;
  };
  json days = json::array();
  for (const auto& [day, d] : by_day) days.push_back({{"day", day}, {"cost", d.cost}, {"seconds", d.seconds}});
  return json{{"total", {{"cost", all.cost}, {"seconds", all.seconds}, {"jobs", all.jobs}}},
              {"by_project", rows(by_project, "project")},
              {"by_executor", rows(by_executor, "executor")},
              {"by_gpu_type", rows(by_gpu, "gpu_type")},
              {"by_day", days}};
}

Result<json> LaunchService::ListJson(int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchJob> jobs, store_.ListLaunchJobs(limit));
  const int64_t now = NowMicros();
  json list = json::array();
  for (const LaunchJob& j : jobs) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<LaunchSegment> segments, store_.ListLaunchSegments(j.id));
    JobSpec spec;
    (void)ParseJobSpec(json::parse(j.spec_json, nullptr, false), spec);
    list.push_back(JobBrief(j, segments, spec, now));
  }
  return json{{"jobs", list}};
}

Result<std::string> LaunchService::Package(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(LaunchJob j, store_.GetLaunchJob(id));
  std::error_code ec;
  if (j.dir.empty() || !fs::exists(j.dir + "/snapshot.json", ec)) {
    return Status::NotFound("job " + std::to_string(id) + " has no copied files to package (it failed before)");
  }
  JobSpec spec;
  (void)ParseJobSpec(json::parse(j.spec_json, nullptr, false), spec);
  const fs::path folder = fs::path(j.dir) / "packages";
  fs::create_directories(folder, ec);
  // Earlier packages of this job, once no download can still be reading them.
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(10);
  for (const auto& f : fs::directory_iterator(folder, ec)) {
    if (f.last_write_time(ec) < old) fs::remove(f.path(), ec);
  }
  const std::string path = (folder / (std::to_string(NowMicros()) + ".tar.gz")).string();
  LOUPE_RETURN_IF_ERROR(WriteJobPackage(j, spec, path));
  return path;
}

Result<json> LaunchService::Estimate(const json& model) const {
  ModelShape shape;
  std::vector<SpecProblem> problems = ParseModelShape(model, "", shape);
  if (!problems.empty()) return Status::InvalidArgument(ProblemsText(problems));
  const MemoryEstimate e = EstimateGpuMemory(shape);
  json out = EstimateJson(e);
  json gpus = json::array();
  for (const GpuInfo& g : options_.gpus) {
    gpus.push_back({{"index", g.index}, {"name", g.name}, {"memory_gb", g.memory_gb},
                    {"fits", e.total() / (1024.0 * 1024 * 1024) <= g.memory_gb}});
  }
  out["gpus"] = gpus;
  return out;
}

json LaunchService::MachineJson() const {
  json gpus = json::array();
  for (const GpuInfo& g : options_.gpus) gpus.push_back({{"index", g.index}, {"name", g.name}, {"memory_gb", g.memory_gb}});
  return {{"cpus", options_.cpus}, {"memory_gb", options_.memory_gb}, {"gpus", gpus}};
}

}  // namespace loupe::launch
