#include "web/access_gate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "common/ascii_case.h"
#include "auth/roles.h"
#include "web/json_util.h"

namespace loupe {

namespace {

int RankNeeded(Access a) {
  switch (a) {
    case Access::kPublic: return 0;
    case Access::kRead: return 1;
    case Access::kDefault:
    case Access::kWrite: return 2;
    case Access::kAdmin: return 3;
  }
  return 3;
}

// Admin GETs read (users, the audit log); SwanLab's GET stop is marked kWrite.
bool Changes(const HttpRequest& r, Access a) { return r.method != "GET" || a == Access::kWrite; }

HttpResponse Refuse(const Status& st) {
  HttpResponse out = JsonError(st);
  if (st.code() == Code::kUnauthenticated) out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"loupe\"");
  return out;
}

// True when Origin names this server: its scheme://host[:port] equals the Host the
// browser sent to.
bool SameOrigin(const std::string& origin, const std::string& host) {
  const std::string o = AsciiLower(origin);
  for (const char* scheme : {"http://", "https://"}) {
    if (o.rfind(scheme, 0) == 0) return o.substr(std::char_traits<char>::length(scheme)) == AsciiLower(host);
  }
  return false;
}

}  // namespace

std::string HostName(const std::string& host_header) {
  std::string h = AsciiLower(host_header);
  if (!h.empty() && h[0] == '[') {
    size_t end = h.find(']');
    return end == std::string::npos ? h : h.substr(1, end - 1);
  }
  size_t colon = h.find(':');
  if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h.resize(colon);
  return h;
}

bool IsLoopbackName(const std::string& host) {
  const std::string h = AsciiLower(host);
  return h == "localhost" || h == "::1" || h == "[::1]" || h.rfind("127.", 0) == 0 ||
         (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0);
}

AccessGate::AccessGate(auth::AuthService& auth, AccessOptions options) : auth_(auth), options_(std::move(options)) {
  for (std::string& h : options_.allowed_hosts) h = AsciiLower(h);
}

std::string AccessGate::CookieName() const { return "loupe_session_" + std::to_string(port_.load()); }

std::string AccessGate::SessionFrom(const std::string& cookie_header) const {
  const std::string name = CookieName();
  std::string found;
  size_t pos = 0;
  while (pos < cookie_header.size()) {
    size_t end = cookie_header.find(';', pos);
    if (end == std::string::npos) end = cookie_header.size();
    std::string_view pair(cookie_header.data() + pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.compare(0, name.size(), name) == 0 && pair[name.size()] == '=') {
      std::string value(pair.substr(name.size() + 1));
      // Two different values: a page on another port of this host set one (browsers do
      // not separate cookies by port). Neither is trusted, so a planted session cannot
      // make this user act as another.
      if (!found.empty() && found != value) return kConflictingSessions;
      found = std::move(value);
    }
    pos = end + 1;
  }
  return found;
}

std::string AccessGate::SessionCookie(const std::string& value, int64_t max_age, bool secure) const {
  return CookieName() + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (secure ? "; Secure" : "");
}

std::optional<HttpResponse> AccessGate::Check(HttpRequest& r, const Route& route) {
  if (!options_.allowed_hosts.empty() && !r.host.empty()) {
    const std::string name = HostName(r.host);
    if (std::find(options_.allowed_hosts.begin(), options_.allowed_hosts.end(), name) == options_.allowed_hosts.end()) {
      return Refuse(Status::Forbidden("this server does not answer to the host name '" + name.substr(0, 100) +
                                      "' (a guard against DNS rebinding); start it with --allowed-host " +
                                      name.substr(0, 100) + " to allow it"));
    }
  }
  const Access access = route.EffectiveAccess();
  const bool changes = Changes(r, access);
  if (changes) {
    if (!r.origin.empty() && !SameOrigin(r.origin, r.host)) {
      return Refuse(Status::Forbidden("a change from another web origin (" + r.origin.substr(0, 100) +
                                      ") is refused: only Loupe's own pages and API clients may change data"));
    }
    if (!r.sec_fetch_site.empty() && r.sec_fetch_site != "same-origin" && r.sec_fetch_site != "none") {
      return Refuse(Status::Forbidden("a change requested by another site (Sec-Fetch-Site: " +
                                      r.sec_fetch_site.substr(0, 40) + ") is refused"));
    }
  }
  if (access == Access::kPublic) return std::nullopt;
  if (!options_.auth_enabled) {
    r.caller = {true, 0, "anonymous", std::string(auth::kAdmin), 0, ""};
    return std::nullopt;
  }
  Result<Principal> who = Status::Unauthenticated(
      "sign in first: send an API token (Authorization: Bearer ..., LOUPE_API_KEY in the SDK) or open the "
      "sign-in link the server printed");
  std::string session;
  if (r.authorization.rfind("Bearer ", 0) == 0) {
    who = auth_.FromToken(r.authorization.substr(7));
  } else if (!r.authorization.empty()) {
    who = Status::Unauthenticated("only Bearer tokens are accepted in the Authorization header");
  } else if (session = SessionFrom(r.cookie); session == kConflictingSessions) {
    who = Status::Unauthenticated("this browser sends two different Loupe session cookies (another site on this host "
                                  "set one); clear this site's cookies and sign in again");
    session.clear();
  } else if (!session.empty()) {
    who = auth_.FromSession(session);
    // A cookie rides along with any request the browser makes; a change must show
    // where it came from (every current browser sends one of the two headers).
    if (who.ok() && changes && r.origin.empty() && r.sec_fetch_site.empty()) {
      return Refuse(Status::Forbidden("a change made with a browser session must come from Loupe's own pages"));
    }
  }
  if (!who.ok()) {
    if (who.status().code() != Code::kUnauthenticated) return Refuse(who.status());
    const bool page = r.method == "GET" && r.path.rfind("/api/", 0) != 0 && options_.sign_in_page;
    if (page) return options_.sign_in_page(r);
    return Refuse(who.status());
  }
  r.caller = {true, who->user_id, who->user_name, who->role, who->token_id, session};
  if (auth::RoleRank(who->role) < RankNeeded(access)) {
    const char* what = access == Access::kAdmin ? "managing users, tokens, secrets and the audit log is for admins"
                                                : "changing data needs the editor or admin role";
    return Refuse(Status::Forbidden("user '" + who->user_name + "' is a " + who->role + ": " + what));
  }
  return std::nullopt;
}

void AccessGate::Done(const HttpRequest& r, const Route& route, const HttpResponse& response) {
  if (!route.audit || !r.caller.known || !Changes(r, route.EffectiveAccess())) return;
  AuditEntry e;
  e.user = r.caller.user;
  e.action = r.method + " " + route.pattern;
  e.target = r.path;
  e.status = response.status;
  e.remote = r.remote;
  if (Status st = auth_.Audit(e); !st.ok()) spdlog::error("cannot write the audit log: {}", st.message());
}

}  // namespace loupe
