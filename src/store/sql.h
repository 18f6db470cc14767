// The SQL helper layer every store uses instead of hand-written bind/step/reset:
//
//   LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE jobs SET status=? WHERE id=?", "ERROR", id));
//   sql::Rows q(db, "SELECT id, name FROM projects WHERE id>?", after);
//   while (q.Next()) out.push_back({q.Int(0), q.Text(1)});
//   LOUPE_RETURN_IF_ERROR(q.status());
//
// Arguments bind in order (int64_t, int, double, strings, nullptr for NULL,
// std::optional<T>, sql::Blob) and every bind's return code is checked. A Rows resets
// its statement when it goes out of scope, so no early return leaves a statement
// mid-step holding a read snapshot. Statements come from the connection's cache.
// The SQL itself stays portable (no SQLite-only syntax) where a PostgreSQL store will
// need the same statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "store/sqlite_db.h"
#include "store/work_status.h"

namespace loupe::sql {

struct Blob {
  const void* data;
  size_t size;
};

// An argument of a statement built at run time (a filter's optional conditions).
using Value = std::variant<std::nullptr_t, int64_t, double, std::string>;

class Rows {
 public:
  Rows(SqliteDb& db, const std::string& sql, const std::vector<Value>& args) : stmt_(db.Prepare(sql)) {
    int i = 0;
    for (const Value& v : args) std::visit([&](const auto& x) { Bind(++i, x); }, v);
  }
  template <typename... Args>
  Rows(SqliteDb& db, const std::string& sql, const Args&... args) : stmt_(db.Prepare(sql)) {
    int i = 0;
    (Bind(++i, args), ...);
  }
  ~Rows() { stmt_.Reset(); }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  // Steps to the next row: false after the last one, or on an error (see status()).
  bool Next() {
    if (!status_.ok() || done_) return false;
    if (stmt_.Step()) return true;
    done_ = true;
    status_ = stmt_.Done();
    return false;
  }
  // Steps to the end (for statements that return no rows).
  [[nodiscard]] Status Run() {
    while (Next()) {
    }
    return status_;
  }
  // OK once every row was read; the first bind or step error otherwise.
  const Status& status() const { return status_; }

  int64_t Int(int col) const { return stmt_.Int(col); }
  double Double(int col) const { return stmt_.Double(col); }
  bool IsNull(int col) const { return stmt_.IsNull(col); }
  std::string Text(int col) const { return stmt_.Text(col); }
  std::string_view Blob(int col) const { return stmt_.Blob(col); }
  std::optional<int64_t> OptionalInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  std::optional<double> OptionalDouble(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<double>(Double(col));
  }

 private:
  void Check(int rc, int i) {
    if (rc != SQLITE_OK && status_.ok()) {
      status_ = StatusFromSqlite(rc, "cannot bind argument " + std::to_string(i) + ": " + sqlite3_errstr(rc));
    }
  }
  void Bind(int i, int64_t v) { Check(stmt_.BindChecked(i, v), i); }
  void Bind(int i, int v) { Check(stmt_.BindChecked(i, static_cast<int64_t>(v)), i); }
  void Bind(int i, double v) { Check(stmt_.BindChecked(i, v), i); }
  void Bind(int i, std::string_view v) { Check(stmt_.BindChecked(i, v), i); }
  void Bind(int i, const std::string& v) { Bind(i, std::string_view(v)); }
  void Bind(int i, const char* v) { Bind(i, std::string_view(v)); }
  void Bind(int i, std::nullptr_t) { Check(stmt_.BindNullChecked(i), i); }
  void Bind(int i, const sql::Blob& b) { Check(stmt_.BindBlobChecked(i, b.data, b.size), i); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v) {
      Bind(i, *v);
    } else {
      Bind(i, nullptr);
    }
  }

  SqliteStmt& stmt_;
  Status status_;
  bool done_ = false;
};

// A WorkStatus column; a name this binary does not know (a newer one wrote it) reads as
// ERROR, so the row is shown and can be retried rather than crashing a page.
inline WorkStatus StatusFromRow(const Rows& q, int col) {
  return ParseWorkStatus(q.Text(col)).value_or(WorkStatus::kError);
}

// Runs a statement that returns no rows.
template <typename... Args>
[[nodiscard]] Status Exec(SqliteDb& db, const std::string& sql, const Args&... args) {
  return Rows(db, sql, args...).Run();
}

// The first column of the first row as an integer; nullopt when there is no row or
// the value is NULL (as max() over no rows gives).
template <typename... Args>
[[nodiscard]] Result<std::optional<int64_t>> QueryInt(SqliteDb& db, const std::string& sql, const Args&... args) {
  Rows q(db, sql, args...);
  std::optional<int64_t> v;
  if (q.Next() && !q.IsNull(0)) v = q.Int(0);
  while (q.Next()) {
  }
  if (!q.status().ok()) return q.status();
  return v;
}

}  // namespace loupe::sql
