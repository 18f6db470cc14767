// AccessGate: the check every routed request passes before its handler runs.
//
//  1. Host: on a loopback bind, only loopback names (and --allowed-host names) are
//     answered, so a DNS-rebinding page cannot reach the server under its own name.
//  2. Origin: a request that can change something (any method but GET, and the GET
//     routes marked kWrite) from a browser must come from this server's own pages:
//     an Origin other than this server's, or a Sec-Fetch-Site other than same-origin
//     or none, is refused (403). A browser session must show one of the two.
//  3. Credential: an API token (Authorization: Bearer) or the session cookie, unless
//     the server runs with --no-auth. None: 401 for the API, the sign-in page for pages.
//  4. Role: viewers read, editors change data, admins manage access (403 otherwise).
//
// After a change was answered, Done() writes who made it to the audit log.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_service.h"
#include "web/http_types.h"

namespace loupe {

struct AccessOptions {
  bool auth_enabled = true;
  // Host names answered; empty: any (a server bound to every interface).
  std::vector<std::string> allowed_hosts;
  // The response to a page request without a credential (the sign-in redirect).
  Handler sign_in_page;
};

class AccessGate {
 public:
  AccessGate(auth::AuthService& auth, AccessOptions options);

  // The bound port names the session cookie (loupe_session_<port>), so servers on
  // different ports of one host keep separate sign-ins.
  void SetPort(uint16_t port) { port_ = port; }
  std::string CookieName() const;
  // The session cookie's value in a Cookie header; empty when absent,
  // kConflictingSessions when it is there twice with different values.
  std::string SessionFrom(const std::string& cookie_header) const;
  static constexpr const char* kConflictingSessions = "\x01conflict";
  // Set-Cookie values that open (max_age > 0) or clear the session.
  std::string SessionCookie(const std::string& value, int64_t max_age, bool secure) const;

  std::optional<HttpResponse> Check(HttpRequest& r, const Route& route);
  void Done(const HttpRequest& r, const Route& route, const HttpResponse& response);

  bool auth_enabled() const { return options_.auth_enabled; }

 private:
  auth::AuthService& auth_;
  AccessOptions options_;
  std::atomic<uint16_t> port_{0};
};

// The host name of a Host header, lower-cased, without its port ("[::1]:8080" -> "::1").
std::string HostName(const std::string& host_header);
// True for names and addresses that only reach this machine.
bool IsLoopbackName(const std::string& host);

}  // namespace loupe
