// AuthStore: users, API tokens, browser sessions, one-time login codes and the audit log.
// Tokens, sessions and codes are stored as hashes only; the clear value is shown once.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe {

struct UserRecord {
  int64_t id = 0;
  std::string name;
  std::string role;           // admin, editor, viewer
  std::string password_hash;  // Argon2id (libsodium's crypto_pwhash_str); empty: no password login
  int64_t create_time = 0;    // microseconds since the epoch
};

struct TokenRecord {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string user_name;  // filled by reads
  std::string role;       // the user's role, filled by reads
  std::string label;
  std::string hint;       // the last four characters, to tell tokens apart
  int64_t create_time = 0;
  int64_t last_used = 0;  // updated at most every few minutes
};

// Who a session or token belongs to, as one lookup returns it.
struct Principal {
  int64_t user_id = 0;
  std::string user_name;
  std::string role;
  int64_t token_id = 0;  // 0 for a session
};

struct AuditEntry {
  int64_t id = 0;
  int64_t time = 0;  // microseconds
  std::string user;
  std::string action;  // "DELETE /api/v1/experiment/:id", "login", "token created", ...
  std::string target;  // the path or the object named
  int status = 0;      // the HTTP status answered; 0 where none
  std::string remote;  // the client's address
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  virtual Result<int64_t> CreateUser(const UserRecord& u) = 0;  // AlreadyExists for a taken name
  virtual Result<UserRecord> GetUserByName(const std::string& name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Status SetUserPassword(int64_t user_id, const std::string& password_hash) = 0;
  virtual Status SetUserRole(int64_t user_id, const std::string& role) = 0;
  // Removes the user with their tokens and sessions.
  virtual Status DeleteUser(int64_t user_id) = 0;

  virtual Result<int64_t> CreateToken(int64_t user_id, const std::string& token_hash, const std::string& label,
                                      const std::string& hint) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens(int64_t user_id) = 0;  // 0: every user's
  virtual Result<TokenRecord> GetToken(int64_t token_id) = 0;
  virtual Status DeleteToken(int64_t token_id) = 0;
  virtual Result<std::optional<Principal>> FindToken(const std::string& token_hash) = 0;
  virtual Status TouchToken(int64_t token_id, int64_t at) = 0;

  // token_id: the token the session was opened with (0: a password or a sign-in link);
  // revoking that token ends the session.
  virtual Status CreateSession(const std::string& session_hash, int64_t user_id, int64_t expires,
                               int64_t token_id) = 0;
  // Ends every session of the user; returns how many.
  virtual Result<int> DeleteUserSessions(int64_t user_id) = 0;
  // A session that has not expired at `now`.
  virtual Result<std::optional<Principal>> FindSession(const std::string& session_hash, int64_t now) = 0;
  virtual Status DeleteSession(const std::string& session_hash) = 0;

  virtual Status CreateLoginCode(const std::string& code_hash, int64_t user_id, int64_t expires) = 0;
  // Deletes the code and returns its user when it existed and had not expired; codes
  // that expired are removed on the way.
  virtual Result<std::optional<int64_t>> UseLoginCode(const std::string& code_hash, int64_t now) = 0;

  // Appends an entry and keeps at most `keep` of the newest; of entries with the same
  // action as `e`, at most `keep_same` (refused sign-ins cannot push real history out).
  virtual Status AppendAudit(const AuditEntry& e, int64_t keep, int64_t keep_same) = 0;
  // The newest first; before_id 0: from the newest.
  virtual Result<std::vector<AuditEntry>> ListAudit(int64_t before_id, int limit) = 0;
};

}  // namespace loupe
