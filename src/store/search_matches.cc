#include "store/search_matches.h"

#include "store/sql.h"

namespace loupe {

namespace {

thread_local const SearchMatches* g_matches = nullptr;
thread_local SearchMatches* g_collecting = nullptr;  // SearchMatches::Read's, while it runs

// An aggregate, so that the matches are gathered inside SQLite's loop: stepping a
// statement once per row costs more than reading the index itself.
void CollectStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (!g_collecting) {
    sqlite3_result_error(ctx, "loupe_collect_matches outside SearchMatches::Read", -1);
    return;
  }
  g_collecting->Add(sqlite3_value_int64(argv[0]));
}

void CollectFinal(sqlite3_context* ctx) { sqlite3_result_null(ctx); }

void SearchMatch(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (!g_matches) {
    sqlite3_result_error(ctx, "loupe_search_match outside a search", -1);
    return;
  }
  sqlite3_result_int(ctx, argc == 1 && g_matches->Has(sqlite3_value_int64(argv[0])) ? 1 : 0);
}

}  // namespace

void RegisterSearchMatchFunction(sqlite3* db) {
  sqlite3_create_function_v2(db, "loupe_search_match", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr, &SearchMatch,
                             nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "loupe_collect_matches", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr, nullptr,
                             &CollectStep, &CollectFinal, nullptr);
}

void SearchMatches::Add(int64_t id) {
  if (id < 0) return;
  if (static_cast<uint64_t>(id) >= bits_.size()) bits_.resize(static_cast<size_t>(id) + 1 + bits_.size() / 2);
  if (!bits_[id]) ++count_;
  bits_[id] = true;
}

Result<SearchMatches> SearchMatches::Read(SqliteDb& db, const std::string& q) {
  SearchMatches m;
  g_collecting = &m;
  sql::Rows rows(db, "SELECT loupe_collect_matches(rowid) FROM predictions_fts WHERE predictions_fts MATCH ?", q);
  while (rows.Next()) {
  }
  g_collecting = nullptr;
  LOUPE_RETURN_IF_ERROR(rows.status());
  return m;
}

Result<std::shared_ptr<const SearchMatches>> SearchMatchCache::Get(SqliteDb& db, const std::string& q) {
  constexpr size_t kKept = 4;  // a bitmap is a bit per prediction: 125 KB for a million
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> max_id, sql::QueryInt(db, "SELECT max(id) FROM predictions"));
  const int64_t top = max_id.value_or(0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = recent_.begin(); it != recent_.end(); ++it) {
      if (it->query == q && it->max_id == top) {
        recent_.splice(recent_.begin(), recent_, it);
        return recent_.front().matches;
      }
    }
  }
  // The key and the matches from one snapshot: a prediction recorded in between would
  // otherwise be in a bitmap filed under the id before it.
  LOUPE_RETURN_IF_ERROR(db.Exec("BEGIN"));
  Result<std::optional<int64_t>> snapshot_top = sql::QueryInt(db, "SELECT max(id) FROM predictions");
  Result<SearchMatches> read = snapshot_top.ok() ? SearchMatches::Read(db, q) : Result<SearchMatches>(snapshot_top.status());
  (void)db.Exec("COMMIT");  // a read transaction: nothing to keep or lose
  if (!read.ok()) return read.status();
  auto shared = std::make_shared<const SearchMatches>(std::move(*read));
  std::lock_guard<std::mutex> lock(mu_);
  recent_.push_front({q, snapshot_top->value_or(0), shared});
  if (recent_.size() > kKept) recent_.pop_back();
  return shared;
}

SearchMatchScope::SearchMatchScope(const SearchMatches& matches) : previous_(g_matches) { g_matches = &matches; }
SearchMatchScope::~SearchMatchScope() { g_matches = previous_; }

}  // namespace loupe
