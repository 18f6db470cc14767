#include "auth/auth_service.h"

#include <algorithm>

#include "auth/crypto.h"
#include "auth/roles.h"
#include "common/file_util.h"
#include "common/time_util.h"

namespace loupe::auth {

namespace {

constexpr auto kCacheFor = std::chrono::seconds(5);
constexpr size_t kCacheMax = 10000;
constexpr auto kTouchEvery = std::chrono::minutes(5);
constexpr int kFreeFailures = 5;
constexpr int kMaxLockSeconds = 300;
constexpr size_t kMaxTokenLength = 512;
constexpr size_t kMaxLabelLength = 200;

// A password nobody has: unknown users cost a verification too, so timing does not
// tell which user names exist.
const std::string& DummyHash() {
  static const std::string hash = [] {
    Result<std::string> h = HashPassword(RandomToken("", 16));
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

std::string Hint(const std::string& token) { return token.size() >= 4 ? token.substr(token.size() - 4) : ""; }

}  // namespace

Status ValidateUserName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Status::InvalidArgument("a user name has 1 to 64 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '@';
    if (!ok) return Status::InvalidArgument("a user name may hold letters, digits, '_', '-', '.' and '@' only");
  }
  return Status::Ok();
}

namespace {
Status CheckNewUserName(const std::string& name) {
  LOUPE_RETURN_IF_ERROR(ValidateUserName(name));
  if (name == "cli" || name == "anonymous") {
    return Status::InvalidArgument("'" + name + "' names changes made without a user in the audit log; pick another name");
  }
  return Status::Ok();
}
}  // namespace

AuthService::AuthService(AuthStore& store, AuthOptions options) : store_(store), options_(std::move(options)) {}

std::string AuthService::LocalTokenPath() const { return options_.data_dir + "/local.token"; }

Status AuthService::EnsureLocalAccess() {
  LOUPE_RETURN_IF_ERROR(InitCrypto());
  Result<UserRecord> local = store_.GetUserByName(kLocalUser);
  if (!local.ok() && local.status().code() != Code::kNotFound) return local.status();
  int64_t local_id = 0;
  if (local.ok()) {
    local_id = local->id;
    if (local->role != kAdmin) LOUPE_RETURN_IF_ERROR(store_.SetUserRole(local_id, std::string(kAdmin)));
  } else {
    LOUPE_ASSIGN_OR_RETURN(local_id, store_.CreateUser({0, kLocalUser, std::string(kAdmin), "", 0}));
  }
  Result<std::string> existing = ReadFileUpTo(LocalTokenPath(), 4096);
  if (existing.ok()) {
    std::string token = *existing;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    LOUPE_ASSIGN_OR_RETURN(std::optional<Principal> who, store_.FindToken(HashToken(token)));
    if (who && who->user_id == local_id) {
      MakeOwnerOnly(LocalTokenPath());
      return Status::Ok();
    }
  }
  // The file is missing or names no live token: replace the local tokens with a new one.
  LOUPE_ASSIGN_OR_RETURN(std::vector<TokenRecord> tokens, store_.ListTokens(local_id));
  for (const TokenRecord& t : tokens) {
    if (t.label == kLocalTokenLabel) LOUPE_RETURN_IF_ERROR(store_.DeleteToken(t.id));
  }
  std::string token = RandomToken("loupe_");
  LOUPE_RETURN_IF_ERROR(store_.CreateToken(local_id, HashToken(token), kLocalTokenLabel, Hint(token)).status());
  ForgetCached();
  return WriteFileDurably(LocalTokenPath(), token + "\n", "the local token file", 0600);
}

Result<std::optional<Principal>> AuthService::Lookup(const std::string& key, bool session) {
  if (key.empty() || key.size() > kMaxTokenLength) return std::optional<Principal>();
  const std::string hash = HashToken(key);
  // Sessions and tokens are cached apart: one must never pass for the other.
  const std::string cache_key = (session ? "s" : "t") + hash;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end() && it->second.until > now) return std::optional<Principal>(it->second.who);
  }
  Result<std::optional<Principal>> found =
      session ? store_.FindSession(hash, NowMicros()) : store_.FindToken(hash);
  if (!found.ok() || !*found) return found;
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kCacheMax) cache_.clear();
  cache_[cache_key] = {**found, now + kCacheFor};
  return found;
}

void AuthService::ForgetCached() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

void AuthService::MaybeTouch(const Principal& p) {
  if (!p.token_id) return;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = touched_.find(p.token_id);
    if (it != touched_.end() && now - it->second < kTouchEvery) return;
    if (touched_.size() >= kCacheMax) touched_.clear();
    touched_[p.token_id] = now;
  }
  // "Last used" is informative; a failed write must not refuse the request.
  store_.TouchToken(p.token_id, NowMicros()).IgnoreError();
}

Result<Principal> AuthService::FromToken(const std::string& token) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<Principal> who, Lookup(token, false));
  if (!who) return Status::Unauthenticated("the API token is not valid (revoked, or never issued)");
  MaybeTouch(*who);
  return *who;
}

Result<Principal> AuthService::FromSession(const std::string& session) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<Principal> who, Lookup(session, true));
  if (!who) return Status::Unauthenticated("the session has expired or was closed; sign in again");
  return *who;
}

Result<std::string> AuthService::NewSession(int64_t user_id, int64_t token_id) {
  std::string session = RandomToken("");
  LOUPE_RETURN_IF_ERROR(store_.CreateSession(HashToken(session), user_id,
                                             NowMicros() + options_.session_seconds * 1000000, token_id));
  return session;
}

Result<std::string> AuthService::LoginWithPassword(const std::string& user, const std::string& password) {
  // No such user can exist; refused before it takes a place in the failure table.
  if (!ValidateUserName(user).ok()) return Status::Unauthenticated("wrong user name or password");
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = failures_.find(user);
    if (it != failures_.end() && it->second.locked_until > now) {
      auto wait = std::chrono::duration_cast<std::chrono::seconds>(it->second.locked_until - now).count() + 1;
      return Status::RateLimited("too many failed sign-ins for this user; try again in " + std::to_string(wait) + " s");
    }
  }
  Result<UserRecord> u = store_.GetUserByName(user);
  if (!u.ok() && u.status().code() != Code::kNotFound) return u.status();
  bool good = u.ok() && !u->password_hash.empty() && password.size() <= 1024 && VerifyPassword(u->password_hash, password);
  if (!u.ok() || u->password_hash.empty()) VerifyPassword(DummyHash(), password);
  if (!good) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() >= kCacheMax) {
      std::erase_if(failures_, [&](const auto& kv) { return kv.second.locked_until <= now; });
    }
    Failures& f = failures_[user];
    ++f.count;
    if (f.count >= kFreeFailures) {
      int seconds = std::min(kMaxLockSeconds, 1 << std::min(f.count - kFreeFailures, 9));
      f.locked_until = now + std::chrono::seconds(seconds);
    }
    return Status::Unauthenticated("wrong user name or password");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.erase(user);
  }
  return NewSession(u->id, 0);
}

Result<std::string> AuthService::LoginWithToken(const std::string& token) {
  LOUPE_ASSIGN_OR_RETURN(Principal who, FromToken(token));
  return NewSession(who.user_id, who.token_id);
}

Result<std::string> AuthService::LoginWithCode(const std::string& code) {
  if (code.empty() || code.size() > kMaxTokenLength) return Status::Unauthenticated("the sign-in link is not valid");
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> user, store_.UseLoginCode(HashToken(code), NowMicros()));
  if (!user) {
    return Status::Unauthenticated(
        "this sign-in link was used already or has expired; run `loupe login-link` (with the server's --data-dir) "
        "for a new one");
  }
  return NewSession(*user, 0);
}

Status AuthService::Logout(const std::string& session) {
  if (session.empty() || session.size() > kMaxTokenLength) return Status::Ok();
  LOUPE_RETURN_IF_ERROR(store_.DeleteSession(HashToken(session)));
  ForgetCached();
  return Status::Ok();
}

Status AuthService::LogoutEverywhere(const std::string& session) {
  LOUPE_ASSIGN_OR_RETURN(Principal who, FromSession(session));
  LOUPE_RETURN_IF_ERROR(store_.DeleteUserSessions(who.user_id).status());
  ForgetCached();
  return Status::Ok();
}

Result<int> AuthService::EndSessions(const std::string& user) {
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(user));
  LOUPE_ASSIGN_OR_RETURN(int n, store_.DeleteUserSessions(u.id));
  ForgetCached();
  return n;
}

Result<std::string> AuthService::MintLoginCode(const std::string& user) {
  LOUPE_RETURN_IF_ERROR(InitCrypto());
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(user));
  std::string code = RandomToken("");
  LOUPE_RETURN_IF_ERROR(store_.CreateLoginCode(HashToken(code), u.id, NowMicros() + options_.login_code_seconds * 1000000));
  return code;
}

Status CheckRevocable(const TokenRecord& t) {
  if (t.user_name == kLocalUser && t.label == kLocalTokenLabel) {
    return Status::InvalidArgument("the local token is what scripts on this machine use; to replace it, delete "
                                   "local.token in the data folder and restart the server");
  }
  return Status::Ok();
}

Status CheckPassword(const std::string& password) {
  if (password.size() < 8) return Status::InvalidArgument("a password has at least 8 characters");
  if (password.size() > 1024) return Status::InvalidArgument("a password has at most 1024 characters");
  if (password.find('\0') != std::string::npos) return Status::InvalidArgument("a password cannot hold a NUL character");
  return Status::Ok();
}

Result<UserRecord> AuthService::CreateUser(const std::string& name, const std::string& role,
                                           const std::string& password) {
  LOUPE_RETURN_IF_ERROR(CheckNewUserName(name));
  if (!ValidRole(role)) return Status::InvalidArgument("role must be admin, editor or viewer");
  UserRecord u{0, name, role, "", NowMicros()};
  if (!password.empty()) {
    LOUPE_RETURN_IF_ERROR(CheckPassword(password));
    LOUPE_ASSIGN_OR_RETURN(u.password_hash, HashPassword(password));
  }
  LOUPE_ASSIGN_OR_RETURN(u.id, store_.CreateUser(u));
  return u;
}

Result<std::vector<UserRecord>> AuthService::ListUsers() { return store_.ListUsers(); }

Status AuthService::DeleteUser(const std::string& name) {
  if (name == kLocalUser) {
    return Status::InvalidArgument("the local user is how this machine's owner signs in; it cannot be deleted");
  }
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(name));
  LOUPE_RETURN_IF_ERROR(store_.DeleteUser(u.id));
  ForgetCached();
  return Status::Ok();
}

Status AuthService::SetPassword(const std::string& name, const std::string& password) {
  if (name == kLocalUser) return Status::InvalidArgument("the local user signs in with its token, not a password");
  LOUPE_RETURN_IF_ERROR(CheckPassword(password));
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(name));
  LOUPE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  LOUPE_RETURN_IF_ERROR(store_.SetUserPassword(u.id, hash));
  ForgetCached();
  return Status::Ok();
}

Status AuthService::SetRole(const std::string& name, const std::string& role) {
  if (!ValidRole(role)) return Status::InvalidArgument("role must be admin, editor or viewer");
  if (name == kLocalUser) return Status::InvalidArgument("the local user is always an admin");
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(name));
  LOUPE_RETURN_IF_ERROR(store_.SetUserRole(u.id, role));
  ForgetCached();
  return Status::Ok();
}

Result<NewToken> AuthService::CreateToken(const std::string& user, const std::string& label) {
  LOUPE_RETURN_IF_ERROR(InitCrypto());
  if (label.size() > kMaxLabelLength) return Status::InvalidArgument("a token's label has at most 200 characters");
  if (label == kLocalTokenLabel) return Status::InvalidArgument("that label is kept for the local token");
  LOUPE_ASSIGN_OR_RETURN(UserRecord u, store_.GetUserByName(user));
  NewToken out;
  out.token = RandomToken("loupe_");
  LOUPE_ASSIGN_OR_RETURN(int64_t id, store_.CreateToken(u.id, HashToken(out.token), label, Hint(out.token)));
  LOUPE_ASSIGN_OR_RETURN(out.record, store_.GetToken(id));
  return out;
}

Result<std::vector<TokenRecord>> AuthService::ListTokens(int64_t user_id) { return store_.ListTokens(user_id); }

Result<TokenRecord> AuthService::GetToken(int64_t id) { return store_.GetToken(id); }

Status AuthService::RevokeToken(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.DeleteToken(id));
  ForgetCached();
  return Status::Ok();
}

Status AuthService::Audit(AuditEntry e) {
  if (!e.time) e.time = NowMicros();
  if (e.target.size() > 1000) e.target.resize(1000);
  return store_.AppendAudit(e, options_.audit_keep, 0);
}

void AuthService::AuditRefusal(AuditEntry e) {
  constexpr int kPerMinute = 10;
  const auto now = options_.clock();
  int64_t held_back = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now - refusal_window_ > std::chrono::minutes(1)) {
      refusal_window_ = now;
      refusals_in_window_ = 0;
    }
    if (++refusals_in_window_ > kPerMinute) {
      ++refusals_held_back_;
      return;
    }
    held_back = refusals_held_back_;
    refusals_held_back_ = 0;
  }
  if (held_back > 0) e.target += " (and " + std::to_string(held_back) + " more refused before, not recorded one by one)";
  e.time = NowMicros();
  if (e.target.size() > 1000) e.target.resize(1000);
  // A full disk must not keep people out of signing in; the count carries to the next entry.
  store_.AppendAudit(e, options_.audit_keep, options_.audit_keep / 10).IgnoreError();
}

Result<std::vector<AuditEntry>> AuthService::ListAudit(int64_t before_id, int limit) {
  return store_.ListAudit(before_id, std::clamp(limit, 1, 1000));
}

}  // namespace loupe::auth
