#include "app/auth_module.h"

#include <spdlog/spdlog.h>

#include "auth/runtime_file.h"
#include "ui/auth_pages.h"
#include "web/auth_api.h"

namespace loupe::app {

namespace {

auth::AuthOptions AuthOptionsFrom(const ServerConfig& c) {
  auth::AuthOptions o;
  o.data_dir = c.data_dir;
  return o;
}

auth::SecretOptions SecretOptionsFrom(const ServerConfig& c) {
  auth::SecretOptions o;
  o.data_dir = c.data_dir;
  o.key_base64 = c.secret_key_base64;
  return o;
}

AccessOptions AccessOptionsFrom(const ServerConfig& c) {
  AccessOptions o;
  o.auth_enabled = c.auth_enabled;
  if (c.restrict_hosts) {
    o.allowed_hosts = {"localhost", "127.0.0.1", "::1"};
    for (const std::string& h : c.allowed_hosts) o.allowed_hosts.push_back(h);
  }
  o.sign_in_page = SignInRedirect;
  return o;
}

}  // namespace

AuthModule::AuthModule(AuthStore& auth_store, SecretStore& secret_store, const ServerConfig& config)
    : config_(config),
      auth_(auth_store, AuthOptionsFrom(config)),
      secrets_(secret_store, SecretOptionsFrom(config)),
      gate_(auth_, AccessOptionsFrom(config)) {}

void AuthModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, AuthApiRoutes(auth_, secrets_, gate_));
  AppendRoutes(routes, AuthPageRoutes(auth_, secrets_, gate_));
}

Status AuthModule::Start() {
  LOUPE_RETURN_IF_ERROR(secrets_.Init());
  return auth_.EnsureLocalAccess();
}

void AuthModule::Stop() {
  if (port_) auth::RemoveRuntimeFile(port_);
}

RequestGate AuthModule::gate() {
  return [this](HttpRequest& r, const Route& route) { return gate_.Check(r, route); };
}

RequestDone AuthModule::done() {
  return [this](const HttpRequest& r, const Route& route, const HttpResponse& out) { gate_.Done(r, route, out); };
}

Result<std::string> AuthModule::Serving(const std::string& base_url, uint16_t port) {
  port_ = port;
  gate_.SetPort(port);
  if (Status st = auth::WriteRuntimeFile(port, base_url, config_.data_dir, auth_.LocalTokenPath()); !st.ok()) {
    // Clients can still be given LOUPE_API_KEY; the server is usable without the file.
    spdlog::warn("{}; clients on this machine need LOUPE_API_KEY (the token is in {})", st.message(),
                 auth_.LocalTokenPath());
  }
  if (!config_.auth_enabled) return std::string();
  LOUPE_ASSIGN_OR_RETURN(std::string code, auth_.MintLoginCode());
  return base_url + "/login?code=" + code;
}

}  // namespace loupe::app
