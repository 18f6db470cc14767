#include "store/sqlite_db.h"

#include "store/search_matches.h"

#include <cstdio>
#include <cstdlib>

namespace loupe {

Status StatusFromSqlite(int rc, std::string msg) {
  switch (rc & 0xff) {  // the primary code; extended codes refine it
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corrupt(msg);
    case SQLITE_FULL: return Status::NoSpace("the disk is full: " + msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_READONLY: return Status::Unavailable("storage unavailable: " + msg);
    default: return Status::Internal(msg);
  }
}

namespace {
Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  return StatusFromSqlite(rc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}
}  // namespace

bool SqliteStmt::Step() {
  last_rc_ = sqlite3_step(stmt_);
  return last_rc_ == SQLITE_ROW;
}

Status SqliteStmt::Done() {
  int rc = last_rc_;
  last_rc_ = SQLITE_OK;
  Reset();
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  return FromSqlite(sqlite3_db_handle(stmt_), rc, "sqlite step");
}

std::string SqliteStmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string_view SqliteStmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (!p) return {};
  return std::string_view(static_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

SqliteDb::~SqliteDb() {
  stmts_.clear();
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only,
                                                 bool sync_full, const std::string& vfs) {
  sqlite3* raw = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    Status st = FromSqlite(raw, rc, "cannot open database " + path);
    sqlite3_close_v2(raw);
    return st;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  RegisterSearchMatchFunction(raw);
  // The writer gets a large page cache and rare checkpoints: ingest touches the same
  // hot pages (series tails, newest chunks) over and over. Readers need little.
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
  if (read_only) {
    pragmas += "PRAGMA cache_size=-2048;";
  } else {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=16384; PRAGMA cache_size=-65536;";
    pragmas += sync_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  }
  LOUPE_RETURN_IF_ERROR(db->Exec(pragmas));
  return db;
}

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return StatusFromSqlite(sqlite3_extended_errcode(db_), std::move(msg));
}

SqliteStmt& SqliteDb::Prepare(const std::string& sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return *it->second;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    std::fprintf(stderr, "loupe: SQL does not compile: %s\n%s\n", sqlite3_errmsg(db_), sql.c_str());
    std::abort();
  }
  auto& slot = stmts_[sql];
  slot = std::make_unique<SqliteStmt>(s);
  return *slot;
}

}  // namespace loupe
