#include "cli/eval_commands.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/server_client.h"
#include "common/bounded_json.h"
#include "common/status.h"

namespace loupe::cli {

namespace {

using nlohmann::json;

constexpr int kPass = 0, kRegression = 1, kCannotTell = 2;

struct EvalArgs {
  std::string suite;
  std::string model;
  double fail_under = -1;  // unset: the suite's threshold
  bool fail_on_new_failures = false;
  std::string url;
  int64_t timeout_s = 3600;
  bool json_out = false;
};
EvalArgs eargs;

std::string Escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string Percent(const json& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
  return buf;
}

void PrintCases(const char* title, const json& list, const json& count) {
  if (!count.is_number_integer() || count.get<int64_t>() == 0) return;
  std::printf("%s (%lld):\n", title, static_cast<long long>(count.get<int64_t>()));
  for (const json& c : list) {
    std::string prompt = c.value("prompt", std::string());
    for (char& ch : prompt) {
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    const std::string why = c.value("why", std::string());
    std::printf("  case %lld: %s%s%s\n", static_cast<long long>(c.value("case", int64_t{0})), prompt.c_str(),
                why.empty() ? "" : "  -- ", why.c_str());
  }
  if (count.get<int64_t>() > static_cast<int64_t>(list.size())) {
    std::printf("  ... and %lld more\n", static_cast<long long>(count.get<int64_t>() - static_cast<int64_t>(list.size())));
  }
}

int EvalRun() {
  if (eargs.fail_under != -1 && !(eargs.fail_under >= 0 && eargs.fail_under <= 1)) {
    std::fprintf(stderr, "loupe: --fail-under must be a share from 0 to 1 (0.9 is 90%%)\n");
    return kCannotTell;
  }
  ServerClient client = ServerClient::For(eargs.url);
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "loupe: %s\n", s.message().c_str());
    return kCannotTell;
  };
  Result<json> found = client.Call("GET", "/api/v1/suites?name=" + Escape(eargs.suite));
  if (!found.ok()) return fail(found.status());
  const json suite = (*found)["suites"][0];
  const int64_t suite_id = suite["id"].get<int64_t>();
  json start_body = {{"model", eargs.model}, {"reason", "ci"}};
  // The bar goes with the run, so its page judges it as this command does.
  if (eargs.fail_under >= 0) start_body["threshold"] = eargs.fail_under;
  Result<json> started = client.Call("POST", "/api/v1/suites/" + std::to_string(suite_id) + "/runs", &start_body);
  if (!started.ok()) return fail(started.status());
  const int64_t run_id = (*started)["run"]["id"].get<int64_t>();
  const std::string path = "/api/v1/suites/" + std::to_string(suite_id) + "/runs/" + std::to_string(run_id);
  std::fprintf(stderr, "loupe: suite '%s' on '%s': run %lld, %s/llm/suites/%lld/runs/%lld\n", eargs.suite.c_str(),
               eargs.model.c_str(), static_cast<long long>(run_id), client.base().c_str(), static_cast<long long>(suite_id),
               static_cast<long long>(run_id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(eargs.timeout_s);
  json result = *started;
  int64_t shown = -1;
  while (!result.value("done", false)) {
    const std::string status = result["run"].value("status", std::string());
    if (status == "cancelled") {
      std::fprintf(stderr, "loupe: the run was cancelled before it finished\n");
      return kCannotTell;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "loupe: the run did not finish within %lld s (it goes on on the server)\n",
                   static_cast<long long>(eargs.timeout_s));
      return kCannotTell;
    }
    const int64_t decided = result.value("decided", int64_t{0});
    if (decided != shown && isatty(STDERR_FILENO)) {
      std::fprintf(stderr, "\r  %lld of %lld cases", static_cast<long long>(decided),
                   static_cast<long long>(result.value("cases", int64_t{0})));
      shown = decided;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Result<json> now = client.Call("GET", path);
    if (!now.ok()) return fail(now.status());
    result = *now;
  }
  if (shown >= 0) std::fprintf(stderr, "\n");
  if (result.value("errors", int64_t{0}) == result.value("cases", int64_t{-1})) {
    // Not one answer: the endpoint is down or refuses the key, which says nothing of the
    // model's quality.
    std::string why;
    for (const char* list : {"failing_new_cases", "newly_failing", "still_failing"}) {
      if (why.empty() && result[list].is_array() && !result[list].empty()) why = result[list][0].value("why", "");
    }
    std::fprintf(stderr, "loupe: no case got an answer from '%s'%s%s\n", eargs.model.c_str(), why.empty() ? "" : ": ",
                 why.c_str());
    return kCannotTell;
  }
  const double bar = eargs.fail_under >= 0 ? eargs.fail_under : suite["threshold"].get<double>();
  const double score = result["score"].is_number() ? result["score"].get<double>() : 0.0;
  const int64_t newly_failing = result.value("newly_failing_count", int64_t{0});
  const bool under = !(score >= bar);
  const bool regressed = under || (eargs.fail_on_new_failures && newly_failing > 0);
  if (eargs.json_out) {
    result["fail_under"] = bar;
    result["regression"] = regressed;
    std::printf("%s\n", result.dump(2).c_str());
    return regressed ? kRegression : kPass;
  }
  std::printf("suite %s on %s: %lld of %lld cases passed (%s); bar %s: %s\n", eargs.suite.c_str(), eargs.model.c_str(),
              static_cast<long long>(result.value("passed", int64_t{0})),
              static_cast<long long>(result.value("cases", int64_t{0})), Percent(result["score"]).c_str(),
              Percent(json(bar)).c_str(), regressed ? "REGRESSION" : "PASS");
  if (result["baseline"].is_object()) {
    const json& b = result["baseline"];
    char change[64] = "";
    if (result["change"].is_number()) std::snprintf(change, sizeof change, ", change %+.1f pts", result["change"].get<double>() * 100);
    std::printf("baseline: %s (run %lld): %lld of %lld (%s)%s\n", b.value("model_name", std::string()).c_str(),
                static_cast<long long>(b.value("run_id", int64_t{0})), static_cast<long long>(b.value("passed", int64_t{0})),
                static_cast<long long>(b.value("cases", int64_t{0})), Percent(b["score"]).c_str(), change);
  } else {
    std::printf("baseline: none (no earlier finished run of this suite)\n");
  }
  PrintCases("newly failing", result["newly_failing"], result["newly_failing_count"]);
  PrintCases("newly passing", result["newly_passing"], result["newly_passing_count"]);
  PrintCases("still failing", result["still_failing"], result["still_failing_count"]);
  PrintCases("failing (not in the baseline)", result["failing_new_cases"], result["failing_new_cases_count"]);
  if (under) {
    std::printf("the score %s is under the bar %s\n", Percent(result["score"]).c_str(), Percent(json(bar)).c_str());
  } else if (regressed) {
    std::printf("%lld %s newly (--fail-on-new-failures)\n", static_cast<long long>(newly_failing),
                newly_failing == 1 ? "case fails" : "cases fail");
  }
  return regressed ? kRegression : kPass;
}

}  // namespace

void AddEvalCommands(CLI::App& app) {
  CLI::App* eval = app.add_subcommand("eval", "Evaluate models on a Loupe server");
  eval->require_subcommand(1);
  CLI::App* run = eval->add_subcommand(
      "run",
      "Run a regression suite against a model and wait for the verdict. Exit 0: the score reaches the bar; 1: a "
      "regression; 2: no verdict (server unreachable, refused, timed out). Credential: env LOUPE_API_KEY, else a "
      "local server's own token");
  run->add_option("--suite", eargs.suite, "The suite's name")->required();
  run->add_option("--model", eargs.model, "The model's name, as registered in Loupe")->required();
  run->add_option("--fail-under", eargs.fail_under, "Fail when the share of passing cases is under this (default: the suite's threshold)");
  run->add_flag("--fail-on-new-failures", eargs.fail_on_new_failures,
                "Also fail when any case that passed on the previous version fails now");
  run->add_option("--url", eargs.url, "The server (env LOUPE_URL, default http://127.0.0.1:8080)");
  run->add_option("--timeout", eargs.timeout_s, "Seconds to wait for the run")->capture_default_str()->check(CLI::Range(1, 7 * 86400));
  run->add_flag("--json", eargs.json_out, "Print the result as JSON");
}

int RunEvalCommand(CLI::App& app) {
  CLI::App* eval = app.get_subcommand("eval");
  if (!eval->parsed()) return -1;
  if (eval->get_subcommand("run")->parsed()) return EvalRun();
  return kCannotTell;
}

}  // namespace loupe::cli
