#include "ui/auth_pages.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "auth/roles.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/auth_api.h"
#include "web/http_status.h"

namespace loupe {

namespace {

using nlohmann::json;
constexpr size_t kMaxFormBody = 64 * 1024;
constexpr int kAuditShown = 50;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

HttpResponse Redirect(const std::string& to) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "See " + to;
  r.headers.emplace_back("Location", to);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

PageFrame Frame(const std::string& title) { return {title, {{"Home", "/"}, {title, ""}}, "access", false, {}}; }

// A token just created waits here for the page the browser is redirected to, so a reload
// of that page shows nothing and creates nothing (post, redirect, get). Shown once, kept
// at most a minute, by the user it was made for.
class NewTokens {
 public:
  void Put(int64_t user_id, std::string label, std::string token) {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_[user_id] = {std::move(label), std::move(token), std::chrono::steady_clock::now() + std::chrono::minutes(1)};
  }
  std::optional<std::pair<std::string, std::string>> Take(int64_t user_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(user_id);
    if (it == waiting_.end()) return std::nullopt;
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    if (w.until < std::chrono::steady_clock::now()) return std::nullopt;
    return std::make_pair(std::move(w.label), std::move(w.token));
  }

 private:
  struct Waiting {
    std::string label, token;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mu_;
  std::unordered_map<int64_t, Waiting> waiting_;
};

}  // namespace

std::map<std::string, std::string> ParseFormBody(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size() && out.size() < 32) {
    size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + pos, end - pos);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      out[FormDecode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1));
    }
    pos = end + 1;
  }
  return out;
}

std::string SafeNext(const std::string& next) {
  // Only a path on this server: "/x", never "//host" or "/\host" (browsers read both as another site).
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return "/";
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return next.substr(0, 2000);
}

HttpResponse SignInRedirect(const HttpRequest& req) {
  std::string target = req.path + (req.raw_query.empty() ? "" : "?" + req.raw_query);
  return Redirect("/login?next=" + UrlEncode(SafeNext(target)));
}

std::vector<Route> AuthPageRoutes(auth::AuthService& auth, auth::SecretService& secrets, AccessGate& gate) {
  std::vector<Route> r;
  auto login_page = [](const std::string& next, const std::string& user, const std::string& error,
                              int status) {
    json view = {{"next", SafeNext(next)}, {"user", user}};
    if (!error.empty()) view["error"] = error;
    PageFrame frame{"Sign in", {}, "signin", false, {}};  // no navigation before sign-in
    return HtmlPage(frame, RenderTemplate("login", view), status);
  };

  r.push_back(WithAccess(Access::kPublic, Offload({"GET", "/login", [&auth, &gate, login_page](const HttpRequest& req) {
    const std::string next = req.Query("next") ? *req.Query("next") : "/";
    // Already signed in (a link opened twice, a bookmark of /login): go on. A fresh code
    // still signs in, so a link can switch users.
    const std::string current = gate.SessionFrom(req.cookie);
    const bool signed_in = !current.empty() && auth.FromSession(current).ok();
    if (signed_in && !req.Query("code")) return Redirect(SafeNext(next));
    if (const std::string* code = req.Query("code")) {
      Result<std::string> session = auth.LoginWithCode(*code);
      AuditEntry e;
      Result<Principal> who = session.ok() ? auth.FromSession(*session) : Result<Principal>(session.status());
      e.user = who.ok() ? who->user_name : "(sign-in link)";
      e.target = "sign-in link";
      e.action = session.ok() ? "sign-in" : "sign-in refused";
      e.status = session.ok() ? 303 : 401;
      e.remote = req.remote;
      if (session.ok()) {
        auth.Audit(e).IgnoreError();  // as for password sign-ins (web/auth_api.cc)
      } else {
        auth.AuditRefusal(e);
      }
      if (!session.ok() && signed_in) return Redirect(SafeNext(next));
      if (!session.ok()) return login_page(next, "", session.status().message(), HttpStatus(session.status()));
      return SignedIn(gate, auth, req, *session, Redirect(SafeNext(next)));
    }
    return login_page(next, "", "", 200);
  }})));

  r.push_back(WithAccess(Access::kPublic, Offload({"POST", "/login", [&auth, &gate, login_page](const HttpRequest& req) {
    if (req.body.size() > kMaxFormBody) return login_page("/", "", "the form is too large", 413);
    auto form = ParseFormBody(req.body);
    const std::string next = form["next"];
    Result<std::string> session = SignIn(auth, req, form["user"], form["password"], form["token"]);
    if (!session.ok()) {
      return login_page(next, form["user"], session.status().message(), HttpStatus(session.status()));
    }
    return SignedIn(gate, auth, req, *session, Redirect(SafeNext(next)));
  }})));

  r.push_back(WithAccess(Access::kPublic, {"POST", "/logout", [&auth, &gate](const HttpRequest& req) {
    const std::string session = gate.SessionFrom(req.cookie);
    if (req.Query("everywhere") && *req.Query("everywhere") == "1") {
      auth.LogoutEverywhere(session).IgnoreError();  // an expired session has nothing left to end
    } else {
      auth.Logout(session).IgnoreError();  // the cookie goes either way
    }
    HttpResponse out = Redirect("/login");
    out.headers.emplace_back("Set-Cookie", gate.SessionCookie("", 0, req.forwarded_proto == "https"));
    return out;
  }}));

  auto access_page = [&auth, &secrets](const HttpRequest& req, json extra) {
    const bool admin = req.caller.role == auth::kAdmin;
    json view = std::move(extra);
    view["user"] = req.caller.user;
    view["role"] = req.caller.role;
    view["admin"] = admin;
    view["can_log"] = req.caller.role != auth::kViewer;
    view["audit_limit"] = kAuditShown;
    Result<std::vector<TokenRecord>> tokens = auth.ListTokens(admin ? 0 : req.caller.user_id);
    if (!tokens.ok()) return HtmlErrorPage(tokens.status(), Frame("Access"));
    json tj = json::array();
    for (const TokenRecord& t : *tokens) {
      tj.push_back({{"id", t.id}, {"user", t.user_name}, {"label", t.label}, {"hint", t.hint},
                    {"revocable", auth::CheckRevocable(t).ok()},
                    {"created", FormatMicrosUtc(t.create_time)},
                    {"last_used", t.last_used ? FormatMicrosUtc(t.last_used) : "never"}});
    }
    view["tokens"] = tj;
    view["has_tokens"] = !tj.empty();
    if (admin) {
      Result<std::vector<UserRecord>> users = auth.ListUsers();
      Result<std::vector<SealedSecret>> list = secrets.List();
      Result<std::vector<AuditEntry>> audit = auth.ListAudit(0, kAuditShown);
      for (const Status& st : {users.status(), list.status(), audit.status()}) {
        if (!st.ok()) return HtmlErrorPage(st, Frame("Access"));
      }
      view["users"] = json::array();
      for (const UserRecord& u : *users) {
        view["users"].push_back({{"name", u.name}, {"role", u.role}, {"has_password", !u.password_hash.empty()},
                                 {"created", FormatMicrosUtc(u.create_time)}});
      }
      view["secrets"] = json::array();
      for (const SealedSecret& s : *list) {
        view["secrets"].push_back({{"name", s.name}, {"hint", s.hint}, {"updated_by", s.updated_by},
                                   {"updated", FormatMicrosUtc(s.update_time)}});
      }
      view["has_secrets"] = !list->empty();
      view["audit"] = json::array();
      for (const AuditEntry& e : *audit) {
        view["audit"].push_back({{"time", FormatMicrosUtc(e.time)}, {"user", e.user}, {"action", e.action},
                                 {"target", e.target}, {"status", e.status}, {"remote", e.remote}});
      }
      view["has_audit"] = !audit->empty();
    }
    HttpResponse out = HtmlPage(Frame("Access"), RenderTemplate("access", view));
    return out;
  };

  auto created = std::make_shared<NewTokens>();
  r.push_back({"GET", "/access", [access_page, created](const HttpRequest& req) {
    json extra = json::object();
    if (auto t = created->Take(req.caller.user_id)) extra["new_token"] = {{"label", t->first}, {"token", t->second}};
    HttpResponse out = access_page(req, extra);
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
  }});

  r.push_back(WithAccess(Access::kRead, {"POST", "/access/tokens", [&auth, access_page, created](const HttpRequest& req) {
    if (req.body.size() > kMaxFormBody) return HtmlErrorPage(Status::TooLarge("the form is too large"), Frame("Access"));
    auto form = ParseFormBody(req.body);
    if (!req.caller.user_id) {
      return access_page(req, {{"error", "this server runs without sign-in (--no-auth): there are no tokens"}});
    }
    if (form["label"].empty()) return access_page(req, {{"error", "give the token a label: what or where it is for"}});
    Result<auth::NewToken> t = auth.CreateToken(req.caller.user, form["label"]);
    if (!t.ok()) return access_page(req, {{"error", t.status().message()}});
    created->Put(req.caller.user_id, t->record.label, t->token);
    return Redirect("/access");
  }}));

  // Secrets from the page, for those who do not use curl: the value goes in once, is sealed
  // at once, and is never shown again (the table shows its last four characters at most).
  r.push_back(WithAccess(Access::kAdmin, {"POST", "/access/secrets", [&secrets, access_page](const HttpRequest& req) {
    if (req.body.size() > kMaxFormBody) return HtmlErrorPage(Status::TooLarge("the form is too large"), Frame("Access"));
    auto form = ParseFormBody(req.body);
    if (Status st = secrets.Put(form["name"], form["value"], req.caller.user); !st.ok()) {
      HttpResponse out = access_page(req, {{"error", "secret not stored: " + st.message()}, {"secret_name", form["name"]}});
      out.status = HttpStatus(st);
      return out;
    }
    return Redirect("/access#secrets");
  }}));

  r.push_back(WithAccess(Access::kAdmin, {"POST", "/access/secrets/:name/delete", [&secrets](const HttpRequest& req) {
    if (Status st = secrets.Delete(*req.Param("name")); !st.ok()) return HtmlErrorPage(st, Frame("Access"));
    return Redirect("/access#secrets");
  }}));

  r.push_back(WithAccess(Access::kRead, {"POST", "/access/tokens/:id/revoke", [&auth](const HttpRequest& req) {
    Result<int64_t> id = PagePathId(req, "token");
    if (!id.ok()) return HtmlErrorPage(id.status(), Frame("Access"));
    Result<TokenRecord> t = auth.GetToken(*id);
    if (!t.ok() || (t->user_id != req.caller.user_id && req.caller.role != auth::kAdmin)) {
      return HtmlErrorPage(Status::NotFound("token " + std::to_string(*id) + " not found"), Frame("Access"));
    }
    if (Status st = auth::CheckRevocable(*t); !st.ok()) return HtmlErrorPage(st, Frame("Access"));
    if (Status st = auth.RevokeToken(*id); !st.ok()) return HtmlErrorPage(st, Frame("Access"));
    return Redirect("/access");
  }}));
  return r;
}

}  // namespace loupe
