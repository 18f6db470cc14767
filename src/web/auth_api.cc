// Sign-in, users, API tokens, the audit log and the secret store under /api/v1.
#include <nlohmann/json.hpp>

#include "auth/roles.h"
#include "web/auth_api.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;
constexpr size_t kMaxAuthBody = 64 * 1024;

json UserJson(const UserRecord& u) {
  return {{"id", u.id}, {"name", u.name}, {"role", u.role}, {"has_password", !u.password_hash.empty()},
          {"create_time", u.create_time / 1000000}};
}

json TokenJson(const TokenRecord& t) {
  return {{"id", t.id},       {"user", t.user_name},           {"label", t.label},
          {"hint", t.hint},   {"create_time", t.create_time / 1000000},
          {"last_used", t.last_used ? json(t.last_used / 1000000) : json(nullptr)}};
}

Result<std::string> StringField(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string("'") + name + "' is required");
    return std::string();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("'") + name + "' must be a string");
  return it->get<std::string>();
}

bool SecureRequest(const HttpRequest& r) { return r.forwarded_proto == "https"; }

}  // namespace

HttpResponse SignedIn(AccessGate& gate, auth::AuthService& auth, const HttpRequest& r, const std::string& session,
                      HttpResponse out) {
  out.headers.emplace_back("Set-Cookie", gate.SessionCookie(session, auth.session_seconds(), SecureRequest(r)));
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

Result<std::string> SignIn(auth::AuthService& auth, const HttpRequest& r, const std::string& user,
                           const std::string& password, const std::string& token) {
  Result<std::string> session = Status::InvalidArgument("give a user name and password, or a token");
  std::string who = user;
  if (!token.empty()) {
    session = auth.LoginWithToken(token);
    who = "(token)";
  } else if (!user.empty()) {
    session = auth.LoginWithPassword(user, password);
  }
  if (session.ok()) {
    if (Result<Principal> p = auth.FromSession(*session); p.ok()) who = p->user_name;
  }
  AuditEntry e;
  e.user = who.substr(0, 64);
  e.target = token.empty() ? "password" : "token";
  e.action = session.ok() ? "sign-in" : "sign-in refused";
  e.status = session.ok() ? 200 : 401;
  e.remote = r.remote;
  if (session.ok()) {
    auth.Audit(e).IgnoreError();  // a full disk must not keep people out of signing in
  } else {
    auth.AuditRefusal(e);
  }
  return session;
}

std::vector<Route> AuthApiRoutes(auth::AuthService& auth, auth::SecretService& secrets, AccessGate& gate) {
  std::vector<Route> r;

  r.push_back(WithAccess(Access::kPublic, Offload({"POST", "/api/v1/auth/login", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxAuthBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string user, StringField(body, "user", false));
    LOUPE_ASSIGN_OR_RESPOND(std::string password, StringField(body, "password", false));
    LOUPE_ASSIGN_OR_RESPOND(std::string token, StringField(body, "token", false));
    LOUPE_ASSIGN_OR_RESPOND(std::string session, SignIn(auth, req, user, password, token));
    LOUPE_ASSIGN_OR_RESPOND(Principal who, auth.FromSession(session));
    return SignedIn(gate, auth, req, session, JsonOk({{"user", who.user_name}, {"role", who.role}}));
  }})));

  r.push_back(WithAccess(Access::kPublic, {"POST", "/api/v1/auth/logout", [&](const HttpRequest& req) {
    const std::string session = gate.SessionFrom(req.cookie);
    const bool everywhere = req.Query("everywhere") && *req.Query("everywhere") == "1";
    Status st = everywhere ? auth.LogoutEverywhere(session) : auth.Logout(session);
    if (!st.ok()) return JsonError(st);
    HttpResponse out = JsonOk(nullptr);
    out.headers.emplace_back("Set-Cookie", gate.SessionCookie("", 0, SecureRequest(req)));
    return out;
  }}));

  r.push_back({"GET", "/api/v1/auth/me", [&](const HttpRequest& req) {
    return JsonOk({{"user", req.caller.user},
                   {"role", req.caller.role},
                   {"via", req.caller.token_id ? "token" : (req.caller.session.empty() ? "none" : "session")},
                   {"auth", gate.auth_enabled()}});
  }});

  r.push_back(WithAccess(Access::kAdmin, {"GET", "/api/v1/users", [&](const HttpRequest&) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<UserRecord> users, auth.ListUsers());
    json out = json::array();
    for (const UserRecord& u : users) out.push_back(UserJson(u));
    return JsonOk({{"users", out}});
  }}));

  r.push_back(WithAccess(Access::kAdmin, Offload({"POST", "/api/v1/users", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxAuthBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string name, StringField(body, "name", true));
    LOUPE_ASSIGN_OR_RESPOND(std::string role, StringField(body, "role", true));
    LOUPE_ASSIGN_OR_RESPOND(std::string password, StringField(body, "password", false));
    LOUPE_ASSIGN_OR_RESPOND(UserRecord u, auth.CreateUser(name, role, password));
    HttpResponse out = JsonOk(UserJson(u));
    out.status = 201;
    return out;
  }})));

  r.push_back(WithAccess(Access::kAdmin, Offload({"PATCH", "/api/v1/users/:name", [&](const HttpRequest& req) {
    const std::string& name = *req.Param("name");
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxAuthBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string role, StringField(body, "role", false));
    LOUPE_ASSIGN_OR_RESPOND(std::string password, StringField(body, "password", false));
    if (role.empty() && password.empty()) return JsonError(Status::InvalidArgument("give 'role' or 'password'"));
    // Both are checked before either is changed: a refused request changes nothing.
    if (!password.empty()) {
      if (Status st = auth::CheckPassword(password); !st.ok()) return JsonError(st);
    }
    if (!role.empty() && !auth::ValidRole(role)) {
      return JsonError(Status::InvalidArgument("role must be admin, editor or viewer"));
    }
    if (!role.empty()) {
      if (Status st = auth.SetRole(name, role); !st.ok()) return JsonError(st);
    }
    if (!password.empty()) {
      if (Status st = auth.SetPassword(name, password); !st.ok()) return JsonError(st);
    }
    return JsonOk(nullptr);
  }})));

  r.push_back(WithAccess(Access::kAdmin, {"DELETE", "/api/v1/users/:name", [&](const HttpRequest& req) {
    if (Status st = auth.DeleteUser(*req.Param("name")); !st.ok()) return JsonError(st);
    return JsonOk(nullptr);
  }}));

  // Anyone signed in manages their own tokens; an admin sees and revokes everyone's.
  r.push_back({"GET", "/api/v1/tokens", [&](const HttpRequest& req) {
    const bool all = req.caller.role == auth::kAdmin && req.Query("all") && *req.Query("all") == "1";
    LOUPE_ASSIGN_OR_RESPOND(std::vector<TokenRecord> tokens, auth.ListTokens(all ? 0 : req.caller.user_id));
    json out = json::array();
    for (const TokenRecord& t : tokens) out.push_back(TokenJson(t));
    return JsonOk({{"tokens", out}});
  }});

  r.push_back(WithAccess(Access::kRead, {"POST", "/api/v1/tokens", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxAuthBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string label, StringField(body, "label", false));
    LOUPE_ASSIGN_OR_RESPOND(std::string user, StringField(body, "user", false));
    if (user.empty()) user = req.caller.user;
    if (req.caller.user == auth::kLaunchUser) {  // a job's token must not outlive its job
      return JsonError(Status::Forbidden("a launched job's token cannot make tokens"));
    }
    if (user != req.caller.user && req.caller.role != auth::kAdmin) {
      return JsonError(Status::Forbidden("only an admin creates tokens for other users"));
    }
    if (!req.caller.user_id) return JsonError(Status::InvalidArgument("name the token's user ('user')"));
    LOUPE_ASSIGN_OR_RESPOND(auth::NewToken t, auth.CreateToken(user, label));
    json data = TokenJson(t.record);
    data["token"] = t.token;  // the only time it is shown
    HttpResponse out = JsonOk(data);
    out.status = 201;
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
  }}));

  r.push_back(WithAccess(Access::kRead, {"DELETE", "/api/v1/tokens/:id", WithPathId("token id", [&](const HttpRequest& req,
                                                                                                    int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(TokenRecord t, auth.GetToken(id));
    if (t.user_id != req.caller.user_id && req.caller.role != auth::kAdmin) {
      return JsonError(Status::NotFound("token " + std::to_string(id) + " not found"));
    }
    if (Status st = auth::CheckRevocable(t); !st.ok()) return JsonError(st);
    if (Status st = auth.RevokeToken(id); !st.ok()) return JsonError(st);
    return JsonOk(nullptr);
  })}));

  r.push_back(WithAccess(Access::kAdmin, {"GET", "/api/v1/audit", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t before, req.Query("before_id") ? ParseId(req.Query("before_id"), "before_id")
                                                                   : Result<int64_t>(int64_t{0}));
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, req.Query("limit") ? ParseId(req.Query("limit"), "limit")
                                                              : Result<int64_t>(int64_t{100}));
    if (limit < 1 || limit > 1000) return JsonError(Status::InvalidArgument("limit must be 1 to 1000"));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<AuditEntry> entries, auth.ListAudit(before, static_cast<int>(limit)));
    json out = json::array();
    for (const AuditEntry& e : entries) {
      out.push_back({{"id", e.id},         {"time", e.time / 1e6},  {"user", e.user}, {"action", e.action},
                     {"target", e.target}, {"status", e.status}, {"remote", e.remote}});
    }
    return JsonOk({{"entries", out}});
  }}));

  r.push_back(WithAccess(Access::kAdmin, {"GET", "/api/v1/secrets", [&](const HttpRequest&) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<SealedSecret> list, secrets.List());
    json out = json::array();
    for (const SealedSecret& s : list) {
      out.push_back({{"name", s.name},
                     {"hint", s.hint.empty() ? json(nullptr) : json(s.hint)},
                     {"update_time", s.update_time / 1000000},
                     {"updated_by", s.updated_by}});
    }
    return JsonOk({{"secrets", out}});
  }}));

  r.push_back(WithAccess(Access::kAdmin, {"PUT", "/api/v1/secrets/:name", [&](const HttpRequest& req) {
    Result<json> body = ParseJsonObject(req, kMaxAuthBody);
    // The parser's message may quote the body, which holds the secret.
    if (!body.ok()) return JsonError(Status::BadRequest("the body must be a JSON object {\"value\": \"...\"}"));
    auto it = body->find("value");
    if (it == body->end() || !it->is_string()) return JsonError(Status::InvalidArgument("'value' must be a string"));
    if (Status st = secrets.Put(*req.Param("name"), it->get<std::string>(), req.caller.user); !st.ok()) {
      return JsonError(st);
    }
    return JsonOk(nullptr);
  }}));

  r.push_back(WithAccess(Access::kAdmin, {"DELETE", "/api/v1/secrets/:name", [&](const HttpRequest& req) {
    if (Status st = secrets.Delete(*req.Param("name")); !st.ok()) return JsonError(st);
    return JsonOk(nullptr);
  }}));

  return r;
}

}  // namespace loupe
