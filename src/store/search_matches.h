// The predictions a full-text search matched, read once from the index into a bitmap,
// so that the rest of a query tests rows against it with loupe_search_match(id) at a
// fraction of a microsecond a row. SQLite's own `id IN (SELECT rowid ...)` builds a
// b-tree of the matches first (about 0.5 us each: half a second for a common word over
// 1,000,000 predictions); asking the index row by row costs about 70 us a row.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace loupe {

// Makes loupe_search_match(id) known to a connection (done for every connection).
void RegisterSearchMatchFunction(sqlite3* db);

class SearchMatches {
 public:
  // Every prediction id the FTS5 query `q` matches.
  static Result<SearchMatches> Read(SqliteDb& db, const std::string& q);

  bool Has(int64_t id) const { return id >= 0 && static_cast<uint64_t>(id) < bits_.size() && bits_[id]; }
  int64_t size() const { return count_; }
  void Add(int64_t id);

 private:
  std::vector<bool> bits_;
  int64_t count_ = 0;
};

// The matches of the last few searches of one database, shared by the queries that ask
// for the same search while no prediction is recorded (a page asks for its rows, then its
// total). Predictions are only ever added, each with its search entry in the same
// transaction, so a search's matches are fixed by the highest prediction id a snapshot
// holds: that, with the query, is the key.
class SearchMatchCache {
 public:
  Result<std::shared_ptr<const SearchMatches>> Get(SqliteDb& db, const std::string& q);

 private:
  struct Entry {
    std::string query;
    int64_t max_id;
    std::shared_ptr<const SearchMatches> matches;
  };
  std::mutex mu_;
  std::list<Entry> recent_;  // the newest first
};

// While alive, loupe_search_match(id) on this thread tests ids against `matches`.
class SearchMatchScope {
 public:
  explicit SearchMatchScope(const SearchMatches& matches);
  ~SearchMatchScope();
  SearchMatchScope(const SearchMatchScope&) = delete;
  SearchMatchScope& operator=(const SearchMatchScope&) = delete;

 private:
  const SearchMatches* previous_;
};

}  // namespace loupe
