#include "app/launch_module.h"

#include <algorithm>

#include "auth/auth_service.h"
#include "auth/roles.h"
#include "ui/launch_pages.h"
#include "web/launch_api.h"

namespace loupe::app {

namespace {

launch::LaunchOptions OptionsFor(const ServerConfig& config, const std::function<std::string()>* token,
                                 auth::AuthService& auth, auth::SecretService& secrets) {
  launch::LaunchOptions o;
  o.data_dir = config.data_dir;
  // Often enough that the heartbeat monitor never takes a job's run for a silent one.
  o.heartbeat_seconds =
      config.heartbeat_timeout_seconds > 0 ? std::clamp(config.heartbeat_timeout_seconds / 4, 1, 20) : 20;
  // The URL and token are known only once the server listens: read through the module.
  o.api_key = [token] { return *token ? (*token)() : std::string(); };
  o.job_user = config.auth_enabled ? auth::kLocalUser : "";
  std::string public_url = config.public_url;
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  o.public_url = public_url;
  o.runpod_url = config.runpod_url;
  o.runpod_poll_ms = config.runpod_poll_ms;
  o.azure_prices_url = config.azure_prices_url;
  while (!o.azure_prices_url.empty() && o.azure_prices_url.back() == '/') o.azure_prices_url.pop_back();
  o.reveal_secret = [&secrets](const std::string& name) { return secrets.Reveal(name); };
  if (config.auth_enabled) {
    o.remote_job_user = auth::kLaunchUser;
    o.mint_token = [&auth](const std::string& user, const std::string& label) -> Result<std::pair<int64_t, std::string>> {
      if (user == loupe::auth::kLaunchUser) {  // made on first use; an editor, whatever it was changed to
        const std::string editor(loupe::auth::kEditor);
        Result<UserRecord> made = auth.CreateUser(user, editor, "");
        if (!made.ok() && made.status().code() == Code::kConflict) (void)auth.SetRole(user, editor);
      }
      LOUPE_ASSIGN_OR_RETURN(auth::NewToken t, auth.CreateToken(user, label));
      return std::make_pair(t.record.id, t.token);
    };
    o.revoke_token = [&auth](int64_t id) { (void)auth.RevokeToken(id); };
  }
  return o;
}

}  // namespace

LaunchModule::LaunchModule(LaunchStore& store, ArtifactStore& artifacts, TrackingService& tracking,
                           auth::AuthService& auth, auth::SecretService& secrets, const ServerConfig& config)
    : launches_(store, artifacts, tracking, OptionsFor(config, &token_, auth, secrets)) {}

void LaunchModule::SetSelf(const std::string& base_url, std::function<std::string()> token) {
  token_ = std::move(token);
  launches_.SetServerUrl(base_url);
}

void LaunchModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, LaunchApiRoutes(launches_));
  AppendRoutes(routes, LaunchPageRoutes(launches_));
}

ExperimentLinks LaunchModule::JobLinks() {
  return [this](int64_t experiment_id) {
    std::vector<ExperimentLink> links;
    Result<std::optional<int64_t>> job = launches_.JobOfExperiment(experiment_id);
    if (!job.ok() || !*job) return links;
    Result<LaunchJob> j = launches_.Job(**job);
    if (!j.ok()) return links;
    links.push_back({"Job " + std::to_string(j->id) + ": " + j->state, "/launch/" + std::to_string(j->id),
                     "the launched job this run logs to: its state, events, cost and stop"});
    return links;
  };
}

}  // namespace loupe::app
