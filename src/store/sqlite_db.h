// Thin RAII wrapper over one SQLite connection and its prepared statements.
//
// A SqliteDb is owned by exactly one thread at a time (the writer thread, or a
// reader borrowed from the pool); it is not internally synchronized. Statements
// prepared through Prepare() are cached per connection and reset on each use.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace loupe {

// How long a connection waits for a lock another connection holds.
constexpr int kBusyTimeoutMs = 5000;

// The Status for an SQLite result code: 507 for a full disk, 503 for I/O errors.
Status StatusFromSqlite(int rc, std::string message);

class SqliteStmt {
 public:
  explicit SqliteStmt(sqlite3_stmt* s) : stmt_(s) {}
  ~SqliteStmt() { sqlite3_finalize(stmt_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Binders take 1-based indexes, as SQLite does, and return its result code
  // (sql::Rows binds through them and checks every one).
  int BindChecked(int i, int64_t v) { return sqlite3_bind_int64(stmt_, i, v); }
  int BindChecked(int i, double v) { return sqlite3_bind_double(stmt_, i, v); }
  int BindChecked(int i, std::string_view v) {
    // A null data pointer would bind NULL: an empty string_view is still the empty text.
    return sqlite3_bind_text64(stmt_, i, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  int BindBlobChecked(int i, const void* p, size_t n) { return sqlite3_bind_blob64(stmt_, i, p, n, SQLITE_TRANSIENT); }
  int BindNullChecked(int i) { return sqlite3_bind_null(stmt_, i); }

  // Advances; returns true while a row is available. Errors are kept for Done().
  bool Step();
  // Status of the last Step() sequence; resets the statement for reuse.
  Status Done();
  void Reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::string_view Blob(int col) const;

 private:
  sqlite3_stmt* stmt_;
  int last_rc_ = SQLITE_OK;
};

class SqliteDb {
 public:
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (creating if asked) the database file and applies the connection pragmas.
  // `vfs` names a registered SQLite VFS (tests inject faults through one); empty: default.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only,
                                               bool sync_full, const std::string& vfs = "");

  Status Exec(const std::string& sql);
  // Returns a cached, reset statement; aborts on SQL that does not compile
  // (a programming error, caught by every test that touches the statement).
  SqliteStmt& Prepare(const std::string& sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  // False in autocommit mode: no BEGIN, or SQLite rolled the transaction back itself.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStmt>> stmts_;
};

}  // namespace loupe
