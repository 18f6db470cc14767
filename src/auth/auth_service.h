// AuthService: who may use Loupe. Users with roles and Argon2id passwords, API tokens
// (shown once, stored hashed, revocable), browser sessions, one-time login codes, the
// local token that makes a machine's own use frictionless, and the audit log.
//
// The local token: at start the service keeps a user named "local" (an admin without
// a password) and a token for it in <data-dir>/local.token (mode 0600). The SDK and the
// `loupe` CLI on the same machine read it (through the runtime file the server writes,
// see runtime_file.h), and the one-time link printed at start signs a browser in as it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/auth_store.h"

namespace loupe::auth {

inline constexpr const char* kLocalUser = "local";
// The user jobs on other machines (Slurm, RunPod) log as: an editor with no password, whose
// tokens Loupe mints per job and revokes when the job ends, and who cannot make tokens.
inline constexpr const char* kLaunchUser = "launch-jobs";
inline constexpr const char* kLocalTokenLabel = "local (this machine)";

struct AuthOptions {
  std::string data_dir = "./data";
  int64_t session_seconds = 30 * 86400;
  int64_t login_code_seconds = 24 * 3600;
  int64_t audit_keep = 100000;  // newest audit entries kept
  // The clock of the refused sign-in limiter (10 a minute); tests turn it.
  std::function<std::chrono::steady_clock::time_point()> clock = [] { return std::chrono::steady_clock::now(); };
};

struct NewToken {
  TokenRecord record;
  std::string token;  // the clear value: shown once, never stored
};

class AuthService {
 public:
  AuthService(AuthStore& store, AuthOptions options);

  // Creates the local user and token when missing and writes <data-dir>/local.token.
  [[nodiscard]] Status EnsureLocalAccess();
  std::string LocalTokenPath() const;

  // The user a bearer token or session cookie value belongs to; Unauthenticated when
  // none does. Lookups are cached for a few seconds; changes made here clear the cache.
  Result<Principal> FromToken(const std::string& token);
  Result<Principal> FromSession(const std::string& session);

  // Each returns a new session value for a cookie. Password logins are throttled per
  // user name after repeated failures (RateLimited).
  Result<std::string> LoginWithPassword(const std::string& user, const std::string& password);
  Result<std::string> LoginWithToken(const std::string& token);
  Result<std::string> LoginWithCode(const std::string& code);
  Status Logout(const std::string& session);
  // Ends every session of the session's user (sign out everywhere).
  Status LogoutEverywhere(const std::string& session);
  // Ends every session of `user`, the local user's included; returns how many.
  Result<int> EndSessions(const std::string& user);
  // A one-time code that signs a browser in as `user` (the local user by default).
  Result<std::string> MintLoginCode(const std::string& user = kLocalUser);

  Result<UserRecord> CreateUser(const std::string& name, const std::string& role, const std::string& password);
  Result<std::vector<UserRecord>> ListUsers();
  Status DeleteUser(const std::string& name);
  Status SetPassword(const std::string& name, const std::string& password);
  Status SetRole(const std::string& name, const std::string& role);

  Result<NewToken> CreateToken(const std::string& user, const std::string& label);
  Result<std::vector<TokenRecord>> ListTokens(int64_t user_id);  // 0: all
  Result<TokenRecord> GetToken(int64_t id);
  Status RevokeToken(int64_t id);

  Status Audit(AuditEntry e);
  // A refused sign-in: at most 10 a minute are written (the entry after a pause says how
  // many were held back), and they never hold more than a tenth of the log, so nobody
  // without a credential can flush the real history out.
  void AuditRefusal(AuditEntry e);
  Result<std::vector<AuditEntry>> ListAudit(int64_t before_id, int limit);

  int64_t session_seconds() const { return options_.session_seconds; }

 private:
  struct Cached {
    Principal who;
    std::chrono::steady_clock::time_point until;
  };
  Result<std::optional<Principal>> Lookup(const std::string& key, bool session);
  Result<std::string> NewSession(int64_t user_id, int64_t token_id);
  void ForgetCached();
  void MaybeTouch(const Principal& p);

  AuthStore& store_;
  AuthOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // by hash, of tokens and sessions
  std::unordered_map<int64_t, std::chrono::steady_clock::time_point> touched_;  // token id -> last write
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point locked_until;
  };
  std::unordered_map<std::string, Failures> failures_;  // by user name
  std::chrono::steady_clock::time_point refusal_window_;
  int refusals_in_window_ = 0;
  int64_t refusals_held_back_ = 0;
};

// A password: 8 to 1024 bytes, no NUL.
Status CheckPassword(const std::string& password);
// The local token is the machine's own: it is replaced by deleting local.token and
// restarting, never revoked from a page or the API (every local script would stop).
Status CheckRevocable(const TokenRecord& t);

// A user name: 1 to 64 letters, digits, '_', '-', '.', '@'; not one the audit log uses
// for itself ("cli", "anonymous").
Status ValidateUserName(const std::string& name);

}  // namespace loupe::auth
