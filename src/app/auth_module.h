// AuthModule: access control and the secret store. Owns the AuthService, the
// SecretService and the AccessGate every request passes (the server takes gate() and
// done()); adds the sign-in, users, tokens, audit and secrets routes and pages. At
// start it makes sure the local user and token exist; Serving() then writes the runtime
// file clients on this machine find the token through, and mints the one-time sign-in
// link printed with the ready line.
#pragma once

#include <cstdint>
#include <string>

#include "app/module.h"
#include "auth/auth_service.h"
#include "auth/secret_service.h"
#include "store/auth_store.h"
#include "store/secret_store.h"
#include "web/access_gate.h"

namespace loupe::app {

class AuthModule final : public Module {
 public:
  AuthModule(AuthStore& auth_store, SecretStore& secret_store, const ServerConfig& config);
  const char* name() const override { return "auth"; }
  void AddRoutes(std::vector<Route>& routes) override;
  Status Start() override;
  void Stop() override;

  RequestGate gate();
  RequestDone done();
  // The server listens on `port`: names the session cookie, writes the runtime file and
  // returns the one-time sign-in URL (empty with --no-auth).
  Result<std::string> Serving(const std::string& base_url, uint16_t port);

  auth::SecretService& secrets() { return secrets_; }
  auth::AuthService& auth() { return auth_; }

 private:
  ServerConfig config_;
  auth::AuthService auth_;
  auth::SecretService secrets_;
  AccessGate gate_;
  uint16_t port_ = 0;
};

}  // namespace loupe::app
