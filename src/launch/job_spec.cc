#include "launch/job_spec.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "common/ascii_case.h"
#include "common/bounded_json.h"
#include "launch/gpu_memory.h"
#include "launch/storage_mounts.h"

namespace loupe::launch {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;
constexpr size_t kMaxCommandBytes = 64 * 1024;
constexpr size_t kMaxEnvEntries = 256;
constexpr size_t kMaxEnvValueBytes = 32 * 1024;
constexpr size_t kMaxConfigBytes = 1 << 20;

// Digits, an optional sign, one '.', an exponent: a YAML 1.2 core-schema number, checked
// by hand (std::regex recurses once per character: a long scalar overflowed the stack).
bool LooksNumeric(const std::string& s, bool& integer) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0, frac = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  integer = i == s.size() && digits > 0;
  if (integer) return true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac;
  }
  if (digits + frac == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

// YAML 1.2 core schema for plain scalars; anything quoted (or tagged !!str) is a string. A
// number too long or too large for a double stays text (and is refused where a number is
// wanted).
json YamlScalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  bool integer = false;
  if (s.size() > 64 || !LooksNumeric(s, integer)) return s;
  errno = 0;
  char* end = nullptr;
  if (integer) {
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0) return static_cast<int64_t>(v);
    errno = 0;
  }
  const double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || !std::isfinite(d)) return s;
  return d;
}

// Aliases are expanded: a few hundred bytes of nested aliases ("billion laughs") would be
// billions of values, so the values made are counted and capped.
constexpr int64_t kMaxSpecValues = 200000;

Result<json> YamlToJson(const YAML::Node& n, int depth, int64_t& values) {
  if (depth > kMaxDepth) return Status::InvalidArgument("the spec is nested more than 32 levels deep");
  if (++values > kMaxSpecValues) {
    return Status::InvalidArgument("the spec holds more than 200,000 values (with its aliases expanded)");
  }
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      return YamlScalar(n);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const YAML::Node& item : n) {
        LOUPE_ASSIGN_OR_RETURN(json v, YamlToJson(item, depth + 1, values));
        out.push_back(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return Status::InvalidArgument("the spec's keys must be plain words");
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) return Status::InvalidArgument("key '" + key + "' appears twice");
        LOUPE_ASSIGN_OR_RETURN(json v, YamlToJson(kv.second, depth + 1, values));
        out[key] = std::move(v);
      }
      return out;
    }
  }
  return json(nullptr);
}

class Reader {
 public:
  explicit Reader(std::vector<SpecProblem>& problems) : problems_(problems) {}

  void Problem(const std::string& field, const std::string& message) { problems_.push_back({field, message}); }

  // Unknown keys of an object, each a problem naming the keys that are known.
  void OnlyKeys(const json& obj, const std::string& prefix, const std::vector<std::string>& known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      Problem(prefix + it.key(), "unknown key (known: " + list + ")");
    }
  }

  bool String(const json& obj, const std::string& key, const std::string& field, std::string& out, size_t max_bytes) {
    if (!obj.contains(key) || obj[key].is_null()) return false;
    const json& v = obj[key];
    if (!v.is_string()) {
      Problem(field, "must be a string");
      return false;
    }
    std::string s = v.get<std::string>();
    if (s.size() > max_bytes) {
      Problem(field, "is longer than " + std::to_string(max_bytes) + " bytes");
      return false;
    }
    if (s.find('\0') != std::string::npos) {
      Problem(field, "must not contain a NUL character");
      return false;
    }
    out = std::move(s);
    return true;
  }

  void Int(const json& obj, const std::string& key, const std::string& field, int& out, int lo, int hi) {
    if (!obj.contains(key) || obj[key].is_null()) return;
    const json& v = obj[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      Problem(field, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
      return;
    }
    out = static_cast<int>(v.get<int64_t>());
  }

  void Number(const json& obj, const std::string& key, const std::string& field, double& out, double lo, double hi,
              const std::string& what) {
    if (!obj.contains(key) || obj[key].is_null()) return;
    const json& v = obj[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi) {
      Problem(field, "must be " + what);
      return;
    }
    out = v.get<double>();
  }

  const json* Object(const json& obj, const std::string& key, const std::string& field) {
    if (!obj.contains(key) || obj[key].is_null()) return nullptr;
    if (!obj[key].is_object()) {
      Problem(field, "must be an object");
      return nullptr;
    }
    return &obj[key];
  }

 private:
  std::vector<SpecProblem>& problems_;
};

// "python3 train.py --lr 1" -> "train.py"; the first words are what a spec is called by default.
std::string DefaultName(const std::string& command) {
  std::string words;
  size_t taken = 0;
  for (size_t i = 0; i < command.size() && taken < 3;) {
    while (i < command.size() && std::isspace(static_cast<unsigned char>(command[i]))) ++i;
    size_t j = i;
    while (j < command.size() && !std::isspace(static_cast<unsigned char>(command[j]))) ++j;
    if (j > i) {
      std::string w = command.substr(i, j - i);
      if (const size_t slash = w.rfind('/'); slash != std::string::npos && slash + 1 < w.size()) w = w.substr(slash + 1);
      words += (words.empty() ? "" : " ") + w;
      ++taken;
    }
    i = j;
  }
  if (words.size() > 120) words.resize(120);
  return words.empty() ? "job" : words;
}

}  // namespace

Result<json> SpecFromText(const std::string& text) {
  if (text.size() > kMaxSpecBytes) {
    return Status::TooLarge("a job spec may be at most " + std::to_string(kMaxSpecBytes) + " bytes");
  }
  // Nesting is counted on the text in one pass before anything recursive reads it.
  if (JsonNestingDepth(text, kMaxDepth) > kMaxDepth) {
    return Status::InvalidArgument("the spec is nested more than 32 levels deep");
  }
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{')) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_discarded()) return j;
    // Not JSON: maybe a YAML flow mapping ({command: train.sh, ...}); YAML says why not.
  }
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Status::InvalidArgument("the spec must be a mapping of keys (command:, workdir:, ...)");
    int64_t values = 0;
    return YamlToJson(root, 0, values);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("the spec is not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

std::vector<SpecProblem> ParseJobSpec(const json& body, JobSpec& spec) {
  spec = JobSpec{};
  std::vector<SpecProblem> problems;
  Reader r(problems);
  if (!body.is_object()) {
    r.Problem("", "the spec must be an object");
    return problems;
  }
  r.OnlyKeys(body, "", {"name", "project", "command", "workdir", "env", "config", "resources", "executor", "budget",
                        "restart", "stop_grace_seconds", "checkpoint", "mounts", "model", "total_steps", "slurm",
                        "runpod"});
  if (!r.String(body, "command", "command", spec.command, kMaxCommandBytes)) {
    if (!body.contains("command") || body["command"].is_null()) r.Problem("command", "is required (what to run)");
  } else if (spec.command.find_first_not_of(" \t\r\n") == std::string::npos) {
    r.Problem("command", "is empty");
  }
  if (!r.String(body, "workdir", "workdir", spec.workdir, 4096)) {
    if (!body.contains("workdir") || body["workdir"].is_null()) {
      r.Problem("workdir", "is required (the folder the command runs in; it is copied at launch)");
    }
  } else if (spec.workdir.empty() || spec.workdir[0] != '/') {
    r.Problem("workdir", "must be an absolute path (the CLI makes a relative one absolute)");
  }
  r.String(body, "name", "name", spec.name, 255);
  if (spec.name.empty()) spec.name = DefaultName(spec.command);
  if (r.String(body, "project", "project", spec.project, 255) && spec.project.empty()) r.Problem("project", "is empty");
  if (r.String(body, "executor", "executor", spec.executor, 32)) {
    if (spec.executor != "local" && spec.executor != "slurm" && spec.executor != "runpod") {
      r.Problem("executor", "must be 'local', 'slurm' or 'runpod'");
    }
  }
  if (const json* sl = r.Object(body, "slurm", "slurm")) {
    if (spec.executor != "slurm") r.Problem("slurm", "is only for executor 'slurm'");
    r.OnlyKeys(*sl, "slurm.", {"partition", "account", "qos", "time_minutes", "signal_seconds"});
    // Passed to sbatch as arguments: names only, never options of their own.
    static const std::regex kSlurmName(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$)");
    for (auto [key, out] : {std::pair<const char*, std::string*>{"partition", &spec.slurm.partition},
                            {"account", &spec.slurm.account},
                            {"qos", &spec.slurm.qos}}) {
      if (r.String(*sl, key, std::string("slurm.") + key, *out, 64) && !std::regex_match(*out, kSlurmName)) {
        r.Problem(std::string("slurm.") + key, "must be a Slurm name (letters, digits, _ . -)");
        out->clear();
      }
    }
    r.Number(*sl, "time_minutes", "slurm.time_minutes", spec.slurm.time_minutes, 1, 1e7,
             "a number of minutes from 1 to 10,000,000");
    r.Int(*sl, "signal_seconds", "slurm.signal_seconds", spec.slurm.signal_seconds, 0, 65535);
  }
  if (const json* rp = r.Object(body, "runpod", "runpod")) {
    if (spec.executor != "runpod") r.Problem("runpod", "is only for executor 'runpod'");
    r.OnlyKeys(*rp, "runpod.", {"image", "cloud", "disk_gb", "data_centers", "secret", "start_timeout_minutes"});
    r.Number(*rp, "start_timeout_minutes", "runpod.start_timeout_minutes", spec.runpod.start_timeout_minutes, 1, 1440,
             "a number of minutes from 1 to 1,440");
    // A Docker image reference: [registry/]name[:tag][@digest].
    static const std::regex kImage(R"(^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$)");
    if (r.String(*rp, "image", "runpod.image", spec.runpod.image, 512) && !std::regex_match(spec.runpod.image, kImage)) {
      r.Problem("runpod.image", "must be a container image name (e.g. runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04)");
    }
    if (r.String(*rp, "cloud", "runpod.cloud", spec.runpod.cloud, 16)) {
      spec.runpod.cloud = AsciiUpper(spec.runpod.cloud);  // RunPod's enum is upper case; "community" means it
      if (spec.runpod.cloud != "SECURE" && spec.runpod.cloud != "COMMUNITY") {
        r.Problem("runpod.cloud", "must be SECURE or COMMUNITY");
        spec.runpod.cloud = "SECURE";
      }
    }
    r.Int(*rp, "disk_gb", "runpod.disk_gb", spec.runpod.disk_gb, 1, 10000);
    if (rp->contains("data_centers") && !(*rp)["data_centers"].is_null()) {
      const json& dcs = (*rp)["data_centers"];
      static const std::regex kDataCenter(R"(^[A-Za-z0-9-]{1,32}$)");
      if (!dcs.is_array() || dcs.size() > 64) {
        r.Problem("runpod.data_centers", "must be a list of at most 64 data center ids (e.g. EU-RO-1)");
      } else {
        for (const json& dc : dcs) {
          if (!dc.is_string() || !std::regex_match(dc.get<std::string>(), kDataCenter)) {
            r.Problem("runpod.data_centers", "must be a list of data center ids (e.g. EU-RO-1)");
            spec.runpod.data_centers.clear();
            break;
          }
          spec.runpod.data_centers.push_back(dc.get<std::string>());
        }
      }
    }
    static const std::regex kSecret(R"(^[A-Za-z0-9_.-]{1,64}$)");
    if (r.String(*rp, "secret", "runpod.secret", spec.runpod.secret, 64) && !std::regex_match(spec.runpod.secret, kSecret)) {
      r.Problem("runpod.secret", "must be a secret's name (letters, digits, _ . -)");
    }
  }
  if (spec.executor == "runpod") {
    if (spec.runpod.image.empty()) {
      r.Problem("runpod.image", "is required (the container image the command runs in; it needs bash and python3)");
    }
  }
  if (const json* env = r.Object(body, "env", "env")) {
    static const std::regex kEnvName(R"(^[A-Za-z_][A-Za-z0-9_]{0,127}$)");
    if (env->size() > kMaxEnvEntries) r.Problem("env", "may have at most " + std::to_string(kMaxEnvEntries) + " variables");
    for (auto it = env->begin(); it != env->end() && spec.env.size() + spec.env_secrets.size() < kMaxEnvEntries; ++it) {
      const std::string field = "env." + it.key();
      if (!std::regex_match(it.key(), kEnvName)) {
        r.Problem(field, "is not a variable name (letters, digits and _, not starting with a digit)");
      } else if (it.key().rfind("LOUPE_", 0) == 0) {
        r.Problem(field, "LOUPE_ variables are set by Loupe for the job");
      } else if (spec.executor == "slurm" &&
                 (it.key().rfind("SBATCH_", 0) == 0 || it.key().rfind("SLURM_", 0) == 0 ||
                  it.key().rfind("SALLOC_", 0) == 0 || it.key().rfind("SRUN_", 0) == 0)) {
        r.Problem(field, "sbatch reads it as an option of its own; use the slurm section and resources");
      } else if (spec.executor == "runpod" && it.key().rfind("RUNPOD_", 0) == 0) {
        r.Problem(field, "RunPod sets RUNPOD_ variables in the pod");
      } else if (it.key() == "CUDA_VISIBLE_DEVICES") {
        r.Problem(field, "is set by Loupe from the GPUs it assigns (ask for them in resources.gpus)");
      } else if (it.value().is_string()) {
        const std::string v = it.value().get<std::string>();
        if (v.size() > kMaxEnvValueBytes || v.find('\0') != std::string::npos) {
          r.Problem(field, "must be at most 32 KiB with no NUL character");
        } else {
          spec.env[it.key()] = v;
        }
      } else if (it.value().is_number() || it.value().is_boolean()) {
        spec.env[it.key()] = it.value().is_boolean() ? (it.value().get<bool>() ? "true" : "false") : it.value().dump();
      } else if (it.value().is_object()) {
        static const std::regex kSecret(R"(^[A-Za-z0-9_.-]{1,64}$)");
        const json& ref = it.value();
        if (ref.size() != 1 || !ref.contains("secret") || !ref["secret"].is_string() ||
            !std::regex_match(ref["secret"].get<std::string>(), kSecret)) {
          r.Problem(field, "an object must be {\"secret\": \"<name of a Loupe secret>\"}");
        } else {
          spec.env_secrets[it.key()] = ref["secret"].get<std::string>();
        }
      } else {
        r.Problem(field, "must be a string, number, boolean or {\"secret\": name}");
      }
    }
  }
  if (body.contains("config") && !body["config"].is_null()) {
    if (!body["config"].is_object()) {
      r.Problem("config", "must be an object (it is recorded on the run and passed to the script)");
    } else if (body["config"].dump().size() > kMaxConfigBytes) {
      r.Problem("config", "is larger than 1 MiB");
    } else {
      spec.config = body["config"];
    }
  }
  if (const json* res = r.Object(body, "resources", "resources")) {
    r.OnlyKeys(*res, "resources.", {"cpus", "memory_gb", "gpus", "gpu_type"});
    r.Int(*res, "cpus", "resources.cpus", spec.resources.cpus, 1, 4096);
    r.Number(*res, "memory_gb", "resources.memory_gb", spec.resources.memory_gb, 0, 1e6,
             "a number of GiB from 0 to 1,000,000");
    r.Int(*res, "gpus", "resources.gpus", spec.resources.gpus, 0, 64);
    r.String(*res, "gpu_type", "resources.gpu_type", spec.resources.gpu_type, 128);
    if (!spec.resources.gpu_type.empty() && spec.resources.gpus == 0) {
      r.Problem("resources.gpu_type", "is set but resources.gpus is 0");
    }
  }
  if (spec.executor == "runpod") {
    // A pod is sized by its GPU type (CPUs and memory come with it); CPU-only pods are not offered.
    if (spec.resources.cpus > 1 || spec.resources.memory_gb > 0) {
      r.Problem(spec.resources.cpus > 1 ? "resources.cpus" : "resources.memory_gb",
                "a RunPod pod's CPUs and memory come with its GPU type; leave them out");
    }
    if (spec.resources.gpus == 0) {
      r.Problem("resources.gpus", "a RunPod job needs at least 1 GPU (CPU pods are not offered)");
    } else if (spec.resources.gpu_type.empty()) {
      r.Problem("resources.gpu_type", "is required on RunPod: the GPU's id in RunPod's catalog (e.g. NVIDIA GeForce RTX 4090)");
    }
  }
  if (const json* b = r.Object(body, "budget", "budget")) {
    r.OnlyKeys(*b, "budget.", {"max_minutes", "max_cost", "alert_webhook"});
    if (r.String(*b, "alert_webhook", "budget.alert_webhook", spec.budget.alert_webhook, 2048)) {
      static const std::regex kUrl(R"(^https?://[^\s/?#]+[^\s]*$)");
      if (!std::regex_match(spec.budget.alert_webhook, kUrl)) {
        r.Problem("budget.alert_webhook", "must be an http:// or https:// URL");
        spec.budget.alert_webhook.clear();
      }
    }
    r.Number(*b, "max_minutes", "budget.max_minutes", spec.budget.max_minutes, 1.0 / 60, 1e7,
             "a number of minutes from 1/60 (one second) to 10,000,000");
    r.Number(*b, "max_cost", "budget.max_cost", spec.budget.max_cost, 0.0001, 1e9, "a positive number of US dollars");
  }
  if (const json* rs = r.Object(body, "restart", "restart")) {
    r.OnlyKeys(*rs, "restart.", {"max_restarts", "on"});
    r.Int(*rs, "max_restarts", "restart.max_restarts", spec.max_restarts, 0, 100);
    if (rs->contains("on") && !((*rs)["on"].is_string() && (*rs)["on"] == "failure") &&
        !((*rs)["on"].is_array() && (*rs)["on"] == json::array({"failure"}))) {
      r.Problem("restart.on", "must be 'failure' (a local job has no preemption to restart after)");
    }
  }
  if (const json* c = r.Object(body, "checkpoint", "checkpoint")) {
    CheckpointPolicy& p = spec.checkpoint;
    p.set = true;
    r.OnlyKeys(*c, "checkpoint.", {"every_minutes", "every_steps", "every_epochs", "keep_latest", "keep_best",
                                    "grace_seconds"});
    r.Number(*c, "every_minutes", "checkpoint.every_minutes", p.every_minutes, 0.1, 1e6,
             "a number of minutes from 0.1 to 1,000,000");
    r.Int(*c, "every_steps", "checkpoint.every_steps", p.every_steps, 1, 1000000000);
    r.Int(*c, "every_epochs", "checkpoint.every_epochs", p.every_epochs, 1, 1000000);
    r.Int(*c, "keep_latest", "checkpoint.keep_latest", p.keep_latest, 1, 1000);
    r.Number(*c, "grace_seconds", "checkpoint.grace_seconds", p.grace_seconds, 0, 3600,
             "a number of seconds from 0 to 3,600");
    if (const json* best = r.Object(*c, "keep_best", "checkpoint.keep_best")) {
      r.OnlyKeys(*best, "checkpoint.keep_best.", {"metric", "mode"});
      if (!r.String(*best, "metric", "checkpoint.keep_best.metric", p.best_metric, 255) || p.best_metric.empty()) {
        r.Problem("checkpoint.keep_best.metric", "is required (a key of the metrics save_checkpoint records)");
      }
      std::string mode = "min";
      if (r.String(*best, "mode", "checkpoint.keep_best.mode", mode, 8) && mode != "min" && mode != "max") {
        r.Problem("checkpoint.keep_best.mode", "must be 'min' or 'max'");
      }
      p.best_max = mode == "max";
    }
    if (spec.budget.max_minutes > 0 && p.every_minutes > spec.budget.max_minutes) {
      r.Problem("budget.max_minutes", "is below one checkpoint interval (checkpoint.every_minutes): the job would be "
                                      "stopped before its first checkpoint");
    }
  }
  r.Number(body, "stop_grace_seconds", "stop_grace_seconds", spec.stop_grace_seconds, 0, 3600,
           "a number of seconds from 0 to 3,600");
  if (body.contains("total_steps") && !body["total_steps"].is_null()) {
    const json& t = body["total_steps"];
    if (!t.is_number_integer() || t.get<int64_t>() < 1 || t.get<int64_t>() > (int64_t{1} << 53)) {
      r.Problem("total_steps", "must be a whole number of steps from 1 to 2^53");
    } else {
      spec.total_steps = t.get<int64_t>();
    }
  }
  if (body.contains("mounts") && !body["mounts"].is_null()) {
    std::vector<SpecProblem> mount_problems = ParseMounts(body["mounts"], spec.mounts);
    problems.insert(problems.end(), mount_problems.begin(), mount_problems.end());
  }
  if (body.contains("model") && !body["model"].is_null()) {
    ModelShape shape;
    std::vector<SpecProblem> model_problems = ParseModelShape(body["model"], "model.", shape);
    if (model_problems.empty()) spec.model = body["model"];
    problems.insert(problems.end(), model_problems.begin(), model_problems.end());
  }
  return problems;
}

json SpecToJson(const JobSpec& spec) {
  json env = json::object();
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, name] : spec.env_secrets) env[k] = {{"secret", name}};
  json res = {{"cpus", spec.resources.cpus}, {"gpus", spec.resources.gpus}};
  if (spec.resources.memory_gb > 0) res["memory_gb"] = spec.resources.memory_gb;
  if (!spec.resources.gpu_type.empty()) res["gpu_type"] = spec.resources.gpu_type;
  json budget = json::object();
  if (spec.budget.max_minutes > 0) budget["max_minutes"] = spec.budget.max_minutes;
  if (spec.budget.max_cost > 0) budget["max_cost"] = spec.budget.max_cost;
  if (!spec.budget.alert_webhook.empty()) budget["alert_webhook"] = spec.budget.alert_webhook;
  json out = {{"name", spec.name},
          {"project", spec.project},
          {"command", spec.command},
          {"workdir", spec.workdir},
          {"env", env},
          {"config", spec.config},
          {"resources", res},
          {"executor", spec.executor},
          {"budget", budget},
          {"restart", {{"max_restarts", spec.max_restarts}, {"on", "failure"}}},
          {"stop_grace_seconds", spec.stop_grace_seconds}};
  if (!spec.model.is_null()) out["model"] = spec.model;
  if (!spec.mounts.empty()) out["mounts"] = MountsToJson(spec.mounts);
  if (spec.executor == "slurm") {
    json sl = {{"signal_seconds", spec.slurm.signal_seconds}};
    if (!spec.slurm.partition.empty()) sl["partition"] = spec.slurm.partition;
    if (!spec.slurm.account.empty()) sl["account"] = spec.slurm.account;
    if (!spec.slurm.qos.empty()) sl["qos"] = spec.slurm.qos;
    if (spec.slurm.time_minutes > 0) sl["time_minutes"] = spec.slurm.time_minutes;
    out["slurm"] = sl;
  }
  if (spec.executor == "runpod") {
    out["runpod"] = {{"image", spec.runpod.image},
                     {"cloud", spec.runpod.cloud},
                     {"disk_gb", spec.runpod.disk_gb},
                     {"data_centers", spec.runpod.data_centers},
                     {"secret", spec.runpod.secret},
                     {"start_timeout_minutes", spec.runpod.start_timeout_minutes}};
  }
  if (spec.total_steps > 0) out["total_steps"] = spec.total_steps;
  if (spec.checkpoint.set) {
    const CheckpointPolicy& p = spec.checkpoint;
    json c = {{"keep_latest", p.keep_latest}, {"grace_seconds", p.grace_seconds}};
    if (p.every_minutes > 0) c["every_minutes"] = p.every_minutes;
    if (p.every_steps > 0) c["every_steps"] = p.every_steps;
    if (p.every_epochs > 0) c["every_epochs"] = p.every_epochs;
    if (!p.best_metric.empty()) c["keep_best"] = {{"metric", p.best_metric}, {"mode", p.best_max ? "max" : "min"}};
    out["checkpoint"] = c;
  }
  return out;
}

std::string ProblemsText(const std::vector<SpecProblem>& problems) {
  std::string out;
  for (const SpecProblem& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.field.empty() ? p.message : p.field + ": " + p.message;
  }
  return out;
}

}  // namespace loupe::launch
