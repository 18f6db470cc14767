// SqliteStore: users, API tokens, sessions, login codes and the audit log.
#include "common/time_util.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

UserRecord UserFromRow(const sql::Rows& q) { return {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4)}; }

constexpr const char* kTokenSelect =
    "SELECT t.id, t.user_id, u.name, u.role, t.label, t.hint, t.create_time, t.last_used "
    "FROM api_tokens t JOIN users u ON u.id=t.user_id ";

TokenRecord TokenFromRow(const sql::Rows& q) {
  return {q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Int(6), q.Int(7)};
}

}  // namespace

Result<int64_t> SqliteStore::CreateUser(const UserRecord& u) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    sql::Rows taken(db, "SELECT 1 FROM users WHERE name=?", u.name);
    if (taken.Next()) return Status::Conflict("a user named '" + u.name + "' exists");
    LOUPE_RETURN_IF_ERROR(taken.status());
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO users(name, role, password_hash, create_time) VALUES(?, ?, ?, ?)",
                                    u.name, u.role, u.password_hash, u.create_time ? u.create_time : NowMicros()));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<UserRecord> SqliteStore::GetUserByName(const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, role, password_hash, create_time FROM users WHERE name=?", name);
  if (q.Next()) return UserFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("no user named '" + name + "'");
}

Result<std::vector<UserRecord>> SqliteStore::ListUsers() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, role, password_hash, create_time FROM users ORDER BY id");
  std::vector<UserRecord> out;
  while (q.Next()) out.push_back(UserFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::SetUserPassword(int64_t user_id, const std::string& password_hash) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE users SET password_hash=? WHERE id=?", password_hash, user_id));
    if (db.Changes() == 0) return Status::NotFound("user " + std::to_string(user_id) + " not found");
    // A new password ends every session opened with the old one.
    return sql::Exec(db, "DELETE FROM sessions WHERE user_id=?", user_id);
  });
}

Status SqliteStore::SetUserRole(int64_t user_id, const std::string& role) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE users SET role=? WHERE id=?", role, user_id));
    if (db.Changes() == 0) return Status::NotFound("user " + std::to_string(user_id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::DeleteUser(int64_t user_id) {
  return Write([&](SqliteDb& db) -> Status {
    // Explicit deletes rather than ON DELETE CASCADE alone: a PostgreSQL store has the
    // same statements, and a database opened without foreign keys loses nothing either.
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM api_tokens WHERE user_id=?", user_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM sessions WHERE user_id=?", user_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM login_codes WHERE user_id=?", user_id));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM users WHERE id=?", user_id));
    if (db.Changes() == 0) return Status::NotFound("user " + std::to_string(user_id) + " not found");
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::CreateToken(int64_t user_id, const std::string& token_hash, const std::string& label,
                                         const std::string& hint) {
  int64_t id = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    sql::Rows user(db, "SELECT 1 FROM users WHERE id=?", user_id);
    if (!user.Next()) {
      LOUPE_RETURN_IF_ERROR(user.status());
      return Status::NotFound("user " + std::to_string(user_id) + " not found");
    }
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db, "INSERT INTO api_tokens(user_id, token_hash, label, hint, create_time) VALUES(?, ?, ?, ?, ?)", user_id,
        token_hash, label, hint, NowMicros()));
    id = db.LastInsertId();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<std::vector<TokenRecord>> SqliteStore::ListTokens(int64_t user_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kAll = std::string(kTokenSelect) + "ORDER BY t.id";
  static const std::string kOne = std::string(kTokenSelect) + "WHERE t.user_id=? ORDER BY t.id";
  std::optional<sql::Rows> q;
  if (user_id) {
    q.emplace(r.db(), kOne, user_id);
  } else {
    q.emplace(r.db(), kAll);
  }
  std::vector<TokenRecord> out;
  while (q->Next()) out.push_back(TokenFromRow(*q));
  LOUPE_RETURN_IF_ERROR(q->status());
  return out;
}

Result<TokenRecord> SqliteStore::GetToken(int64_t token_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string(kTokenSelect) + "WHERE t.id=?";
  sql::Rows q(r.db(), kSql, token_id);
  if (q.Next()) return TokenFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("token " + std::to_string(token_id) + " not found");
}

Status SqliteStore::DeleteToken(int64_t token_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM api_tokens WHERE id=?", token_id));
    if (db.Changes() == 0) return Status::NotFound("token " + std::to_string(token_id) + " not found");
    // What the token opened ends with it.
    return sql::Exec(db, "DELETE FROM sessions WHERE token_id=?", token_id);
  });
}

Result<std::optional<Principal>> SqliteStore::FindToken(const std::string& token_hash) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT t.user_id, u.name, u.role, t.id FROM api_tokens t JOIN users u ON u.id=t.user_id "
              "WHERE t.token_hash=?",
              token_hash);
  if (q.Next()) return std::optional<Principal>(Principal{q.Int(0), q.Text(1), q.Text(2), q.Int(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return std::optional<Principal>();
}

Status SqliteStore::TouchToken(int64_t token_id, int64_t at) {
  return Write([&](SqliteDb& db) { return sql::Exec(db, "UPDATE api_tokens SET last_used=? WHERE id=?", at, token_id); });
}

Status SqliteStore::CreateSession(const std::string& session_hash, int64_t user_id, int64_t expires,
                                  int64_t token_id) {
  return Write([&](SqliteDb& db) -> Status {
    int64_t now = NowMicros();
    // Expired sessions go as new ones come, so the table holds live sessions only.
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM sessions WHERE expires<?", now));
    return sql::Exec(db,
                     "INSERT INTO sessions(session_hash, user_id, create_time, expires, token_id) VALUES(?, ?, ?, ?, ?)",
                     session_hash, user_id, now, expires, token_id);
  });
}

Result<int> SqliteStore::DeleteUserSessions(int64_t user_id) {
  int n = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM sessions WHERE user_id=?", user_id));
    n = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

Result<std::optional<Principal>> SqliteStore::FindSession(const std::string& session_hash, int64_t now) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT s.user_id, u.name, u.role FROM sessions s JOIN users u ON u.id=s.user_id "
              "WHERE s.session_hash=? AND s.expires>=?",
              session_hash, now);
  if (q.Next()) return std::optional<Principal>(Principal{q.Int(0), q.Text(1), q.Text(2), 0});
  LOUPE_RETURN_IF_ERROR(q.status());
  return std::optional<Principal>();
}

Status SqliteStore::DeleteSession(const std::string& session_hash) {
  return Write([&](SqliteDb& db) { return sql::Exec(db, "DELETE FROM sessions WHERE session_hash=?", session_hash); });
}

Status SqliteStore::CreateLoginCode(const std::string& code_hash, int64_t user_id, int64_t expires) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM login_codes WHERE expires<?", NowMicros()));
    return sql::Exec(db, "INSERT INTO login_codes(code_hash, user_id, expires) VALUES(?, ?, ?)", code_hash, user_id,
                     expires);
  });
}

Result<std::optional<int64_t>> SqliteStore::UseLoginCode(const std::string& code_hash, int64_t now) {
  std::optional<int64_t> user;
  Status st = Write([&](SqliteDb& db) -> Status {
    user.reset();  // a retried op starts over
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM login_codes WHERE expires<?", now));
    sql::Rows q(db, "SELECT user_id FROM login_codes WHERE code_hash=?", code_hash);
    if (q.Next()) user = q.Int(0);
    LOUPE_RETURN_IF_ERROR(q.status());
    return sql::Exec(db, "DELETE FROM login_codes WHERE code_hash=?", code_hash);
  });
  if (!st.ok()) return st;
  return user;
}

Status SqliteStore::AppendAudit(const AuditEntry& e, int64_t keep, int64_t keep_same) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db, "INSERT INTO audit_log(time, user_name, action, target, status, remote) VALUES(?, ?, ?, ?, ?, ?)",
        e.time ? e.time : NowMicros(), e.user, e.action, e.target, e.status, e.remote));
    int64_t id = db.LastInsertId();
    if (keep_same > 0) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "DELETE FROM audit_log WHERE action=? AND id<=(SELECT id FROM audit_log "
                                      "WHERE action=? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                                      e.action, e.action, keep_same));
    }
    // Trimmed in steps of 1,000 rows, so the log stays bounded without a delete per entry.
    if (keep > 0 && id % 1000 == 0) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM audit_log WHERE id<=?", id - keep));
    }
    return Status::Ok();
  });
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(int64_t before_id, int limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT id, time, user_name, action, target, status, remote FROM audit_log WHERE id<? "
              "ORDER BY id DESC LIMIT ?",
              before_id > 0 ? before_id : INT64_MAX, limit);
  std::vector<AuditEntry> out;
  while (q.Next()) out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), static_cast<int>(q.Int(5)), q.Text(6)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

}  // namespace loupe
