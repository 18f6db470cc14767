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
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/auth_store.h"

namespace loupe::auth {

inline constexpr const char* kLocalUser = "local";
inline constexpr const char* kLocalTokenLabel = "local (this machine)";

struct AuthOptions {
  std::string data_dir = "./data";
  int64_t session_seconds = 30 * 86400;
  int64_t login_code_seconds = 24 * 3600;
  int64_t audit_keep = 100000;  // newest audit entries kept
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
  Result<std::vector<AuditEntry>> ListAudit(int64_t before_id, int limit);

  int64_t session_seconds() const { return options_.session_seconds; }

 private:
  struct Cached {
    Principal who;
    std::chrono::steady_clock::time_point until;
  };
  Result<std::optional<Principal>> Lookup(const std::string& key, bool session);
  Result<std::string> NewSession(int64_t user_id);
  void ForgetCached();
  void MaybeTouch(const Principal& p);
  Status CheckPassword(const std::string& password) const;

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
};

// A user name: 1 to 64 letters, digits, '_', '-', '.', '@'.
Status ValidateUserName(const std::string& name);

}  // namespace loupe::auth
