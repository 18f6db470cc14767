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

#include "auth/runtime_file.h"
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

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

// A file of this user's own that nobody else may write, read up to 64 KiB.
Result<std::string> ReadOwnFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::NotFound(path);
  struct stat st {};
  if (::fstat(fileno(f), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    std::fclose(f);
    return Status::Forbidden(path + " is not this user's own");
  }
  std::string out(65536, '\0');
  size_t n = std::fread(out.data(), 1, out.size(), f);
  std::fclose(f);
  out.resize(n);
  return out;
}

// The host and port of an http(s) URL.
bool HostPort(const std::string& url, std::string& host, int& port) {
  CURLU* u = curl_url();
  bool ok = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
  char* h = nullptr;
  char* p = nullptr;
  ok = ok && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
       curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (ok) {
    host = h;
    port = std::atoi(p);
  }
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
  return ok;
}

// For a server on this machine: the local token its runtime file points to, when the file
// is this user's, names the same host and port, and its server still runs.
std::string LocalToken(const std::string& url) {
  std::string host;
  int port = 0;
  if (!HostPort(url, host, port)) return "";
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]" && host != "::1") return "";
  if (auth::RuntimeDir().empty()) return "";
  Result<std::string> text = ReadOwnFile(auth::RuntimeFilePath(static_cast<uint16_t>(port)));
  if (!text.ok()) return "";
  Result<json> info = ParseBoundedJson<json>(*text);
  if (!info.ok() || !info->is_object()) return "";
  const json& i = *info;
  if (!i.contains("url") || !i["url"].is_string() || !i.contains("pid") || !i["pid"].is_number_integer() ||
      !i.contains("token_file") || !i["token_file"].is_string()) {
    return "";
  }
  std::string served_host;
  int served_port = 0;
  if (!HostPort(i["url"].get<std::string>(), served_host, served_port) || served_host != host || served_port != port) {
    return "";
  }
  if (::kill(static_cast<pid_t>(i["pid"].get<int64_t>()), 0) != 0) return "";
  Result<std::string> token = ReadOwnFile(i["token_file"].get<std::string>());
  if (!token.ok()) return "";
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() + size * n > (64u << 20)) return 0;  // a reply past 64 MiB is not Loupe's
  s->append(data, size * n);
  return size * n;
}

class Client {
 public:
  // `direct`: never through a proxy (the local token goes to this machine's server only).
  Client(std::string base, std::string token, bool direct)
      : base_(std::move(base)), token_(std::move(token)), direct_(direct) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  // The reply's JSON; a status other than 2xx is an error with the server's message.
  Result<json> Call(const std::string& method, const std::string& path, const json* body = nullptr) {
    CURL* c = curl_easy_init();
    if (!c) return Status::Internal("libcurl could not start");
    std::string reply;
    const std::string url = base_ + path;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
    std::string payload;
    if (body) {
      payload = body->dump();
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (direct_) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
      return Status::Unavailable("cannot reach Loupe at " + base_ + ": " + curl_easy_strerror(rc));
    }
    Result<json> parsed = ParseBoundedJson<json>(reply);
    if (status < 200 || status > 299) {
      std::string message = parsed.ok() && parsed->is_object() && parsed->contains("error") &&
                                    (*parsed)["error"].is_object()
                                ? (*parsed)["error"].value("message", std::string())
                                : std::string();
      if (message.empty() && parsed.ok() && parsed->is_object()) message = parsed->value("message", std::string());
      if (message.empty()) message = "HTTP " + std::to_string(status);
      if (status == 401) message += " (set LOUPE_API_KEY to a token: `loupe token create`)";
      return Status::Unavailable(method + " " + path + ": " + message);
    }
    if (!parsed.ok()) return Status::Unavailable(method + " " + path + ": the reply is not JSON");
    // Loupe answers {data: ...}.
    if (!parsed->is_object() || !parsed->contains("data")) {
      return Status::Unavailable(method + " " + path + ": the reply is not Loupe's");
    }
    return (*parsed)["data"];
  }

 private:
  std::string base_;
  std::string token_;
  bool direct_ = false;
};

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
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string url = eargs.url.empty() ? EnvOr("LOUPE_URL", "http://127.0.0.1:8080") : eargs.url;
  std::string token = EnvOr("LOUPE_API_KEY", "");
  bool local = false;
  if (token.empty()) {
    token = LocalToken(url);
    local = !token.empty();
  }
  Client client(url, token, local);
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
               eargs.model.c_str(), static_cast<long long>(run_id), url.c_str(), static_cast<long long>(suite_id),
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
