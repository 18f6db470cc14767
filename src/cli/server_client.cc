#include "cli/server_client.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "auth/runtime_file.h"
#include "common/bounded_json.h"

namespace loupe::cli {

namespace {

using nlohmann::json;

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

}  // namespace

ServerClient ServerClient::For(const std::string& url_flag) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const std::string url = url_flag.empty() ? EnvOr("LOUPE_URL", "http://127.0.0.1:8080") : url_flag;
  std::string token = EnvOr("LOUPE_API_KEY", "");
  bool local = false;
  if (token.empty()) {
    token = LocalToken(url);
    local = !token.empty();
  }
  return ServerClient(url, token, local);
}

ServerClient::ServerClient(std::string base, std::string token, bool direct)
    : base_(std::move(base)), token_(std::move(token)), direct_(direct) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Result<json> ServerClient::Call(const std::string& method, const std::string& path, const json* body) {
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
    if (status == 422) return Status::InvalidArgument(method + " " + path + ": " + message);  // the request's fault
    return Status::Unavailable(method + " " + path + ": " + message);
  }
  if (!parsed.ok()) return Status::Unavailable(method + " " + path + ": the reply is not JSON");
  // Loupe answers {data: ...}.
  if (!parsed->is_object() || !parsed->contains("data")) {
    return Status::Unavailable(method + " " + path + ": the reply is not Loupe's");
  }
  return (*parsed)["data"];
}

}  // namespace loupe::cli
