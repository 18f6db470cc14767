#include "cli/launch_commands.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/server_client.h"
#include "launch/job_spec.h"

namespace loupe::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct LaunchArgs {
  std::string spec;
  std::string url;
  bool check = false;
  bool wait = false;
  bool json_out = false;
};
LaunchArgs largs;

constexpr int kDone = 0, kEndedBadly = 1, kCannot = 2;

int Fail(const std::string& message) {
  std::fprintf(stderr, "loupe: %s\n", message.c_str());
  return kCannot;
}

int LaunchRun() {
  std::ifstream f(largs.spec, std::ios::binary);
  if (!f) return Fail("cannot read " + largs.spec);
  std::stringstream text;
  text << f.rdbuf();
  Result<json> spec = launch::SpecFromText(text.str());
  if (!spec.ok()) return Fail(largs.spec + ": " + spec.status().message());
  if (!spec->is_object()) return Fail(largs.spec + ": the spec must be a mapping of keys");
  std::error_code ec;
  const fs::path folder = fs::absolute(fs::path(largs.spec), ec).parent_path();
  json& s = *spec;
  if (!s.contains("workdir") || s["workdir"].is_null()) {
    s["workdir"] = folder.string();
  } else if (s["workdir"].is_string() && !s["workdir"].get<std::string>().empty() &&
             s["workdir"].get<std::string>()[0] != '/') {
    s["workdir"] = (folder / s["workdir"].get<std::string>()).lexically_normal().string();
  }
  ServerClient client = ServerClient::For(largs.url);
  if (largs.check) {
    Result<json> r = client.Call("POST", "/api/v1/launch/jobs?check=1", &s);
    if (!r.ok()) return Fail(r.status().message());
    if (largs.json_out) std::printf("%s\n", r->dump().c_str());  // {ok, problems, spec}, for jq
    if ((*r)["ok"] == true) {
      if (largs.json_out) return kDone;
      std::printf("The spec can launch on %s.\n", client.base().c_str());
      return kDone;
    }
    for (const json& p : (*r)["problems"]) {
      const std::string field = p["field"].get<std::string>();
      if (largs.json_out) continue;
      std::fprintf(stderr, "%s%s%s\n", field.c_str(), field.empty() ? "" : ": ", p["message"].get<std::string>().c_str());
    }
    return kEndedBadly;
  }
  Result<json> job = client.Call("POST", "/api/v1/launch/jobs", &s);
  if (!job.ok()) {
    // The server refused the spec (what --check would have said): a problem with the spec.
    Fail(job.status().message());
    return job.status().code() == Code::kInvalidArgument ? kEndedBadly : kCannot;
  }
  const int64_t id = (*job)["id"].get<int64_t>();
  // With --json, stdout holds the JSON alone (for jq); the human line goes to stderr.
  std::fprintf(largs.json_out ? stderr : stdout, "Launched job %lld: %s/launch/%lld (run: %s/experiments/%lld)\n",
              static_cast<long long>(id),
              client.base().c_str(), static_cast<long long>(id), client.base().c_str(),
              static_cast<long long>((*job)["experiment_id"].get<int64_t>()));
  std::fflush(stdout);
  if (!largs.wait) {
    if (largs.json_out) std::printf("%s\n", job->dump().c_str());
    return kDone;
  }
  std::string state = (*job)["state"].get<std::string>();
  json last = *job;
  // While it waits it says what happens: the job's timeline as it grows (stderr with --json).
  FILE* said = largs.json_out ? stderr : stdout;
  size_t events_said = 0;
  auto say_events = [&](const json& j) {
    const json& events = j.contains("events") && j["events"].is_array() ? j["events"] : json::array();
    for (; events_said < events.size(); ++events_said) {
      const json& e = events[events_said];
      const double t = e.value("time", 0.0);
      const time_t secs = static_cast<time_t>(t);
      struct tm utc {};
      gmtime_r(&secs, &utc);
      char when[16];
      std::strftime(when, sizeof when, "%H:%M:%S", &utc);
      std::fprintf(said, "  %s UTC  %s: %s\n", when, e.value("kind", std::string()).c_str(),
                   e.value("message", std::string()).c_str());
    }
    std::fflush(said);
  };
  say_events(last);
  while (state == "queued" || state == "pending" || state == "running" || state == "stopping") {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Result<json> now = client.Call("GET", "/api/v1/launch/jobs/" + std::to_string(id));
    if (!now.ok()) return Fail(now.status().message());
    last = *now;
    state = last["state"].get<std::string>();
    say_events(last);
  }
  if (largs.json_out) {
    std::printf("%s\n", last.dump().c_str());
  } else {
    std::string why = last["exit"].is_string() ? last["exit"].get<std::string>() : "no exit status";
    if (last["stop_reason"] == "budget_time" || last["stop_reason"] == "budget_cost") {
      why += std::string(last["stop_reason"] == "budget_time" ? ", time" : ", money") +
             " budget spent; resume it from its page or POST /api/v1/launch/jobs/" + std::to_string(id) +
             "/resume with a larger budget";
    }
    std::printf("Job %lld %s (%s)\n", static_cast<long long>(id), state.c_str(), why.c_str());
    if (state == "failed" && !last["message"].get<std::string>().empty()) {
      std::printf("  %s\n  (the whole log: %s/experiments/%lld/console)\n", last["message"].get<std::string>().c_str(),
                  client.base().c_str(), static_cast<long long>(last["experiment_id"].get<int64_t>()));
    }
  }
  return state == "finished" ? kDone : kEndedBadly;
}

}  // namespace

void AddLaunchCommands(CLI::App& app) {
  CLI::App* launch = app.add_subcommand(
      "launch",
      "Launch a training job from a spec file (YAML or JSON: command, workdir, env, config, resources, budget, "
      "restart) on a Loupe server. Credential: env LOUPE_API_KEY, else a local server's own token");
  launch->add_option("spec", largs.spec, "The spec file")->required();
  launch->add_option("--url", largs.url, "The server (env LOUPE_URL, default http://127.0.0.1:8080)");
  launch->add_flag("--check", largs.check, "Only check the spec against the server (exit 1 with the problems)");
  launch->add_flag("--wait", largs.wait, "Wait until the job ends (exit 0 finished, 1 failed or stopped)");
  launch->add_flag("--json", largs.json_out, "Print the job as JSON");
}

int RunLaunchCommand(CLI::App& app) {
  CLI::App* launch = app.get_subcommand("launch");
  if (!launch->parsed()) return -1;
  return LaunchRun();
}

}  // namespace loupe::cli
