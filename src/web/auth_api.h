// Sign-in (password, token or one-time code -> session cookie), users, API tokens,
// the audit log and the secret store, under /api/v1.
#pragma once

#include <string>
#include <vector>

#include "auth/auth_service.h"
#include "auth/secret_service.h"
#include "web/access_gate.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> AuthApiRoutes(auth::AuthService& auth, auth::SecretService& secrets, AccessGate& gate);

// Signs in with a password or a token (recording the attempt in the audit log);
// returns the new session value.
Result<std::string> SignIn(auth::AuthService& auth, const HttpRequest& r, const std::string& user,
                           const std::string& password, const std::string& token);
// `out` with the session cookie set.
HttpResponse SignedIn(AccessGate& gate, auth::AuthService& auth, const HttpRequest& r, const std::string& session,
                      HttpResponse out);

}  // namespace loupe
