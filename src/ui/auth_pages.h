// The sign-in page (password, token, or the one-time link printed at start), sign-out,
// and the access page (your API tokens; for admins also users, secrets and the audit log).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "auth/auth_service.h"
#include "auth/secret_service.h"
#include "web/access_gate.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> AuthPageRoutes(auth::AuthService& auth, auth::SecretService& secrets, AccessGate& gate);
// 303 to /login?next=<the page asked for>.
HttpResponse SignInRedirect(const HttpRequest& req);
// A page-local `next` target: a path on this server, never another site.
std::string SafeNext(const std::string& next);
// The fields of an application/x-www-form-urlencoded body.
std::map<std::string, std::string> ParseFormBody(const std::string& body);

}  // namespace loupe
