// SqliteStore: the comparison lab's comparisons, rows and cells.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "store/prediction_rows.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr const char* kComparisonColumns =
    "c.id, c.title, c.blind, c.revealed, c.models, c.system, c.params, c.created_by, c.create_time, "
    "(SELECT count(*) FROM comparison_rows r WHERE r.comparison_id=c.id), "
    "(SELECT count(*) FROM comparison_cells x WHERE x.comparison_id=c.id), "
    "(SELECT count(*) FROM comparison_cells x WHERE x.comparison_id=c.id AND x.prediction_id IS NOT NULL), "
    "(SELECT count(*) FROM comparison_rows r WHERE r.comparison_id=c.id AND r.decision<>''), "
    "(SELECT count(*) FROM comparison_rows r WHERE r.comparison_id=c.id AND r.decision='tie')";
constexpr const char* kRowColumns =
    "r.id, r.comparison_id, r.position, r.prompt, r.shown_order, r.decision, r.preferred, r.rejected, "
    "r.decided_blind, r.decided_by, r.decided_time";

// Ids stored as a JSON array; anything else (a row from a newer binary) reads as none.
std::vector<int64_t> IdsFrom(const std::string& text) {
  std::vector<int64_t> out;
  json v = json::parse(text, nullptr, false);
  if (!v.is_array()) return out;
  for (const json& x : v) {
    if (x.is_number_integer()) out.push_back(x.get<int64_t>());
  }
  return out;
}

std::vector<std::string> NamesFrom(const std::string& text) {
  std::vector<std::string> out;
  json v = json::parse(text, nullptr, false);
  if (!v.is_array()) return out;
  for (const json& x : v) {
    if (x.is_object() && x.contains("name") && x["name"].is_string()) out.push_back(x["name"].get<std::string>());
  }
  return out;
}

std::vector<int64_t> ModelIdsFrom(const std::string& text) {
  std::vector<int64_t> out;
  json v = json::parse(text, nullptr, false);
  if (!v.is_array()) return out;
  for (const json& x : v) {
    if (x.is_object() && x.contains("id") && x["id"].is_number_integer()) out.push_back(x["id"].get<int64_t>());
  }
  return out;
}

Comparison ComparisonFrom(const sql::Rows& q) {
  Comparison c;
  c.id = q.Int(0);
  c.title = q.Text(1);
  c.blind = q.Int(2) != 0;
  c.revealed = q.Int(3) != 0;
  c.model_ids = ModelIdsFrom(q.Text(4));
  c.model_names = NamesFrom(q.Text(4));
  c.system = q.Text(5);
  c.params_json = q.Text(6);
  c.created_by = q.Text(7);
  c.create_time = q.Int(8);
  c.rows = q.Int(9);
  c.cells = q.Int(10);
  c.answered = q.Int(11);
  c.decided = q.Int(12);
  c.ties = q.Int(13);
  return c;
}

ComparisonRow RowFrom(const sql::Rows& q) {
  ComparisonRow r;
  r.id = q.Int(0);
  r.comparison_id = q.Int(1);
  r.position = q.Int(2);
  r.prompt = q.Text(3);
  r.order = IdsFrom(q.Text(4));
  r.decision = q.Text(5);
  r.preferred = q.OptionalInt(6);
  r.rejected = IdsFrom(q.Text(7));
  r.decided_blind = q.Int(8) != 0;
  r.decided_by = q.Text(9);
  r.decided_time = q.Int(10);
  return r;
}

// The rows' cells with their answers, each row's cells in its shown order.
Status FillCells(SqliteDb& db, std::vector<ComparisonRow>& rows) {
  if (rows.empty()) return Status::Ok();
  std::map<int64_t, ComparisonRow*> by_id;
  for (ComparisonRow& r : rows) by_id[r.id] = &r;
  std::string ids;
  for (const auto& [id, row] : by_id) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  sql::Rows q(db, std::string("SELECT x.id, x.row_id, x.model_id, x.model_name, x.prediction_id IS NOT NULL, ") +
                      kPredictionColumnsOfP +
                      " FROM comparison_cells x LEFT JOIN predictions p ON p.id=x.prediction_id "
                      "WHERE x.row_id IN (" + ids + ") ORDER BY x.row_id, x.id");
  while (q.Next()) {
    auto it = by_id.find(q.Int(1));
    if (it == by_id.end()) continue;
    ComparisonCell cell;
    cell.id = q.Int(0);
    cell.row_id = q.Int(1);
    cell.model_id = q.Int(2);
    cell.model_name = q.Text(3);
    // A prediction removed since (none are today) leaves the cell answered with nothing.
    if (q.Int(4) != 0 && !q.IsNull(5)) cell.prediction = PredictionAt(q, 5);
    it->second->cells.push_back(std::move(cell));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  for (ComparisonRow& r : rows) {
    std::vector<ComparisonCell> ordered;
    for (int64_t model : r.order) {
      for (ComparisonCell& c : r.cells) {
        if (c.model_id == model && c.id != 0) {
          ordered.push_back(std::move(c));
          c.id = 0;
          break;
        }
      }
    }
    for (ComparisonCell& c : r.cells) {
      if (c.id != 0) ordered.push_back(std::move(c));  // a cell the order does not name
    }
    r.cells = std::move(ordered);
  }
  return Status::Ok();
}

}  // namespace

Result<Comparison> SqliteStore::CreateComparison(const Comparison& c, const std::vector<ComparisonRow>& rows) {
  int64_t id = 0;
  json models = json::array();
  for (size_t i = 0; i < c.model_ids.size(); ++i) {
    models.push_back({{"id", c.model_ids[i]}, {"name", i < c.model_names.size() ? c.model_names[i] : ""}});
  }
  LOUPE_RETURN_IF_ERROR(Write(
      [&](SqliteDb& db) -> Status {
        for (int64_t m : c.model_ids) {
          sql::Rows q(db, "SELECT 1 FROM llm_models WHERE id=?", m);
          const bool found = q.Next();
          LOUPE_RETURN_IF_ERROR(q.status());
          if (!found) return Status::NotFound("model " + std::to_string(m) + " not found");
        }
        LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                        "INSERT INTO comparisons(title, blind, revealed, models, system, params, "
                                        "created_by, create_time) VALUES(?,?,0,?,?,?,?,?)",
                                        c.title, int64_t{c.blind ? 1 : 0}, models.dump(), c.system, c.params_json,
                                        c.created_by, c.create_time));
        id = db.LastInsertId();
        for (const ComparisonRow& r : rows) {
          LOUPE_RETURN_IF_ERROR(sql::Exec(
              db, "INSERT INTO comparison_rows(comparison_id, position, prompt, shown_order) VALUES(?,?,?,?)", id,
              r.position, r.prompt, json(r.order).dump()));
          const int64_t row_id = db.LastInsertId();
          // Cells in the shown order, so a blind row's cell ids say nothing of its models.
          for (int64_t model : r.order) {
            const auto at = std::find(c.model_ids.begin(), c.model_ids.end(), model) - c.model_ids.begin();
            if (at == static_cast<std::ptrdiff_t>(c.model_ids.size())) {
              return Status::InvalidArgument("a row's order names a model the comparison does not have");
            }
            LOUPE_RETURN_IF_ERROR(sql::Exec(
                db, "INSERT INTO comparison_cells(row_id, comparison_id, model_id, model_name) VALUES(?,?,?,?)",
                row_id, id, model, static_cast<size_t>(at) < c.model_names.size() ? c.model_names[at] : std::string()));
          }
        }
        return Status::Ok();
      },
      1 + rows.size()));
  return GetComparison(id);
}

Result<Comparison> SqliteStore::GetComparison(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kComparisonColumns + " FROM comparisons c WHERE c.id=?", id);
  if (q.Next()) return ComparisonFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("comparison " + std::to_string(id) + " not found");
}

Result<std::vector<Comparison>> SqliteStore::ListComparisons(int64_t limit, int64_t offset) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kComparisonColumns + " FROM comparisons c ORDER BY c.id DESC LIMIT ? OFFSET ?",
              limit, offset);
  std::vector<Comparison> out;
  while (q.Next()) out.push_back(ComparisonFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<int64_t> SqliteStore::CountComparisons() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> n, sql::QueryInt(r.db(), "SELECT count(*) FROM comparisons"));
  return n.value_or(0);
}

Result<std::vector<ComparisonRow>> SqliteStore::ListComparisonRows(int64_t comparison_id, bool decided_only,
                                                                   int64_t after_row_id, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  std::vector<ComparisonRow> rows;
  {
    // Row ids grow with position within a comparison (rows are inserted in order), so
    // paging by id is paging by position.
    std::string where = comparison_id > 0 ? "r.comparison_id=? AND r.id>?" : "?=0 AND r.id>?";
    if (decided_only) where += " AND r.decision<>''";
    sql::Rows q(r.db(), std::string("SELECT ") + kRowColumns + " FROM comparison_rows r WHERE " + where +
                            " ORDER BY r.id LIMIT ?",
                comparison_id, after_row_id, limit);
    while (q.Next()) rows.push_back(RowFrom(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  LOUPE_RETURN_IF_ERROR(FillCells(r.db(), rows));
  return rows;
}

Result<ComparisonRow> SqliteStore::GetComparisonRow(int64_t row_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  std::vector<ComparisonRow> rows;
  {
    sql::Rows q(r.db(), std::string("SELECT ") + kRowColumns + " FROM comparison_rows r WHERE r.id=?", row_id);
    while (q.Next()) rows.push_back(RowFrom(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  if (rows.empty()) return Status::NotFound("comparison row " + std::to_string(row_id) + " not found");
  LOUPE_RETURN_IF_ERROR(FillCells(r.db(), rows));
  return rows.front();
}

Result<int64_t> SqliteStore::RecordComparisonAnswer(int64_t cell_id, const Prediction& p) {
  int64_t prediction_id = 0;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    sql::Rows q(db, "SELECT prediction_id IS NULL FROM comparison_cells WHERE id=?", cell_id);
    if (!q.Next()) {
      LOUPE_RETURN_IF_ERROR(q.status());
      // The comparison was deleted while the call ran: the call is still a prediction.
      LOUPE_ASSIGN_OR_RETURN(prediction_id, InsertPrediction(db, p));
      return Status::Ok();
    }
    const bool pending = q.Int(0) != 0;
    while (q.Next()) {
    }
    LOUPE_RETURN_IF_ERROR(q.status());
    if (!pending) return Status::Conflict("comparison cell " + std::to_string(cell_id) + " already has its answer");
    LOUPE_ASSIGN_OR_RETURN(prediction_id, InsertPrediction(db, p));
    return sql::Exec(db, "UPDATE comparison_cells SET prediction_id=? WHERE id=?", prediction_id, cell_id);
  }));
  return prediction_id;
}

Result<std::vector<PendingCell>> SqliteStore::PendingComparisonCells(int64_t comparison_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              std::string("SELECT x.id, x.comparison_id, x.model_id, r.prompt FROM comparison_cells x "
                          "JOIN comparison_rows r ON r.id=x.row_id WHERE x.prediction_id IS NULL") +
                  (comparison_id > 0 ? " AND x.comparison_id=?" : " AND ?=0") + " ORDER BY x.id",
              comparison_id);
  std::vector<PendingCell> out;
  while (q.Next()) out.push_back({q.Int(0), q.Int(1), q.Int(2), q.Text(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DecideComparisonRow(int64_t row_id, const RowDecision& d) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE comparison_rows SET decision=?, preferred=?, rejected=?, decided_blind=?, "
                                    "decided_by=?, decided_time=? WHERE id=?",
                                    d.decision, d.preferred, json(d.rejected).dump(), int64_t{d.blind ? 1 : 0}, d.by,
                                    d.time, row_id));
    if (db.Changes() == 0) return Status::NotFound("comparison row " + std::to_string(row_id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::RevealComparison(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE comparisons SET revealed=1 WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("comparison " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::DeleteComparison(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM comparisons WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("comparison " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
