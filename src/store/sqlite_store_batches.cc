// SqliteStore: batch test runs, their cases and cells.
#include <nlohmann/json.hpp>

#include <set>

#include "store/batch_rows.h"
#include "store/prediction_rows.h"
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr const char* kRunColumns =
    "r.id, r.title, r.models, r.status, r.options, r.created_by, r.create_time, r.finish_time, "
    "(SELECT count(*) FROM batch_cases c WHERE c.run_id=r.id), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.prediction_id IS NOT NULL), "
    "(SELECT count(*) FROM batch_cells x JOIN predictions p ON p.id=x.prediction_id WHERE x.run_id=r.id AND p.outcome='ok'), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.cached=1), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.passed=1), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.judge='pending'), "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.judge<>'' AND x.judge<>'pending'), "
    "r.suite_id, r.reason, "
    "(SELECT count(*) FROM batch_cells x WHERE x.run_id=r.id AND x.passed=1 AND (x.judge='' OR x.judge_passed=1)), "
    "(SELECT avg(x.judge_score) FROM batch_cells x WHERE x.run_id=r.id)";
// Anything left to ask or to judge: each half answered by its partial index.
constexpr const char* kLeft =
    "SELECT EXISTS(SELECT 1 FROM batch_cells WHERE run_id=? AND prediction_id IS NULL) + "
    "EXISTS(SELECT 1 FROM batch_cells WHERE run_id=? AND judge='pending')";
constexpr const char* kCaseColumns = "c.id, c.position, c.messages, c.expected, c.labels, c.context, c.assertions";

}  // namespace

const char* BatchRunColumns() { return kRunColumns; }

BatchRun BatchRunFrom(const sql::Rows& q) {
  BatchRun r;
  r.id = q.Int(0);
  r.title = q.Text(1);
  json models = json::parse(q.Text(2), nullptr, false);
  if (models.is_array()) {
    for (const json& m : models) {
      if (!m.is_object()) continue;
      r.model_ids.push_back(m.value("id", int64_t{0}));
      r.model_names.push_back(m.value("name", std::string()));
    }
  }
  r.status = q.Text(3);
  r.options_json = q.Text(4);
  r.created_by = q.Text(5);
  r.create_time = q.Int(6);
  r.finish_time = q.Int(7);
  r.cases = q.Int(8);
  r.cells = q.Int(9);
  r.answered = q.Int(10);
  r.ok = q.Int(11);
  r.cached = q.Int(12);
  r.passed = q.Int(13);
  r.judging = q.Int(14);
  r.judged = q.Int(15);
  r.suite_id = q.OptionalInt(16);
  r.reason = q.Text(17);
  r.fully_passed = q.Int(18);
  r.judge_mean = q.OptionalDouble(19);
  return r;
}

namespace {

BatchCase CaseAt(const sql::Rows& q, int at) {
  BatchCase c;
  c.id = q.Int(at);
  c.position = q.Int(at + 1);
  c.messages_json = q.Text(at + 2);
  c.expected = q.Text(at + 3);
  c.labels_json = q.Text(at + 4);
  c.context = q.Text(at + 5);
  c.assertions_json = q.Text(at + 6);
  return c;
}

}  // namespace

Result<BatchRun> SqliteStore::CreateBatchRun(const BatchRun& run, const std::vector<BatchCase>& cases) {
  int64_t id = 0;
  json models = json::array();
  for (size_t i = 0; i < run.model_ids.size(); ++i) {
    models.push_back({{"id", run.model_ids[i]}, {"name", i < run.model_names.size() ? run.model_names[i] : ""}});
  }
  LOUPE_RETURN_IF_ERROR(Write(
      [&](SqliteDb& db) -> Status {
        for (int64_t m : run.model_ids) {
          LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> found, sql::QueryInt(db, "SELECT id FROM llm_models WHERE id=?", m));
          if (!found) return Status::NotFound("model " + std::to_string(m) + " not found");
        }
        if (run.suite_id) {
          LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> suite,
                                 sql::QueryInt(db, "SELECT id FROM eval_suites WHERE id=?", *run.suite_id));
          if (!suite) return Status::NotFound("suite " + std::to_string(*run.suite_id) + " not found");
          if (run.reason == "new_version" || run.reason == "schedule" || run.reason == "new_run") {
            LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE eval_suites SET last_error='' WHERE id=?", *suite));
          }
          if (run.reason == "new_version" && !run.model_ids.empty()) {
            LOUPE_RETURN_IF_ERROR(sql::Exec(
                db, "UPDATE eval_suites SET model_watermark=max(model_watermark, ?) WHERE id=?", run.model_ids[0], *suite));
          } else if (run.reason == "schedule") {
            LOUPE_RETURN_IF_ERROR(
                sql::Exec(db, "UPDATE eval_suites SET last_scheduled=? WHERE id=?", run.create_time, *suite));
          }
        }
        LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                        "INSERT INTO batch_runs(title, models, status, options, created_by, create_time, "
                                        "suite_id, reason, trigger_id, trigger_time) VALUES(?,?,'running',?,?,?,?,?,?,?)",
                                        run.title, models.dump(), run.options_json, run.created_by, run.create_time,
                                        run.suite_id, run.reason,
                                        run.reason == "new_run" ? std::optional<int64_t>(run.trigger_id) : std::nullopt,
                                        run.reason == "new_run" ? std::optional<int64_t>(run.trigger_time) : std::nullopt));
        id = db.LastInsertId();
        for (const BatchCase& c : cases) {
          LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                          "INSERT INTO batch_cases(run_id, position, messages, expected, labels, context, "
                                          "assertions) VALUES(?,?,?,?,?,?,?)",
                                          id, c.position, c.messages_json, c.expected, c.labels_json, c.context,
                                          c.assertions_json));
          const int64_t case_id = db.LastInsertId();
          for (size_t i = 0; i < run.model_ids.size(); ++i) {
            LOUPE_RETURN_IF_ERROR(sql::Exec(
                db, "INSERT INTO batch_cells(run_id, case_id, model_id, model_name) VALUES(?,?,?,?)", id, case_id,
                run.model_ids[i], i < run.model_names.size() ? run.model_names[i] : std::string()));
          }
        }
        return Status::Ok();
      },
      1 + cases.size()));
  return GetBatchRun(id);
}

Result<BatchRun> SqliteStore::GetBatchRun(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kRunColumns + " FROM batch_runs r WHERE r.id=?", id);
  if (q.Next()) return BatchRunFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("batch run " + std::to_string(id) + " not found");
}

Result<std::vector<BatchRun>> SqliteStore::ListBatchRuns(int64_t limit, int64_t offset) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kRunColumns + " FROM batch_runs r ORDER BY r.id DESC LIMIT ? OFFSET ?",
              limit, offset);
  std::vector<BatchRun> out;
  while (q.Next()) out.push_back(BatchRunFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<BatchResult>> SqliteStore::ListBatchResults(int64_t run_id, bool answered_only, int64_t after_cell,
                                                               int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              std::string("SELECT ") + kCaseColumns +
                  ", x.id, x.model_id, x.model_name, x.cached, x.checks, x.passed, x.judge, x.judge_score, x.judge_passed, "
                  "x.prediction_id IS NOT NULL, " +
                  kPredictionColumnsOfP +
                  " FROM batch_cells x JOIN batch_cases c ON c.id=x.case_id LEFT JOIN predictions p ON p.id=x.prediction_id "
                  "WHERE x.run_id=? AND x.id>?" +
                  (answered_only ? " AND x.prediction_id IS NOT NULL" : "") + " ORDER BY x.id LIMIT ?",
              run_id, after_cell, limit);
  std::vector<BatchResult> out;
  while (q.Next()) {
    BatchResult b;
    b.c = CaseAt(q, 0);
    b.cell.id = q.Int(7);
    b.cell.run_id = run_id;
    b.cell.case_id = b.c.id;
    b.cell.model_id = q.Int(8);
    b.cell.model_name = q.Text(9);
    b.cell.cached = q.Int(10) != 0;
    b.cell.checks_json = q.Text(11);
    if (!q.IsNull(12)) b.cell.passed = q.Int(12) != 0;
    b.cell.judge = q.Text(13);
    b.cell.judge_score = q.OptionalDouble(14);
    if (!q.IsNull(15)) b.cell.judge_passed = q.Int(15) != 0;
    if (q.Int(16) != 0 && !q.IsNull(17)) b.cell.prediction = PredictionAt(q, 17);
    out.push_back(std::move(b));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<PendingBatchCell>> SqliteStore::PendingBatchCells(int64_t run_id, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  std::vector<PendingBatchCell> out;
  for (const char* what : {"x.prediction_id IS NULL", "x.judge='pending'"}) {
    if (static_cast<int64_t>(out.size()) >= limit) break;
    sql::Rows q(r.db(),
                std::string("SELECT x.id, x.run_id, x.model_id, x.prediction_id, ") + kCaseColumns +
                    " FROM batch_cells x JOIN batch_cases c ON c.id=x.case_id JOIN batch_runs r ON r.id=x.run_id "
                    "WHERE " + what + " AND r.status='running'" +
                    (run_id > 0 ? " AND x.run_id=?" : " AND ?=0") + " ORDER BY x.run_id, x.id LIMIT ?",
                run_id, limit - static_cast<int64_t>(out.size()));
    while (q.Next()) {
      PendingBatchCell p;
      p.cell_id = q.Int(0);
      p.run_id = q.Int(1);
      p.model_id = q.Int(2);
      p.judge_prediction = q.OptionalInt(3);
      p.c = CaseAt(q, 4);
      out.push_back(std::move(p));
    }
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  return out;
}

Status SqliteStore::RecordBatchResults(const std::vector<BatchWrite>& writes, int64_t now) {
  if (writes.empty()) return Status::Ok();
  return Write(
      [&](SqliteDb& db) -> Status {
        std::set<int64_t> runs;
        for (const BatchWrite& w : writes) {
          sql::Rows q(db, "SELECT run_id, prediction_id IS NULL FROM batch_cells WHERE id=?", w.cell_id);
          const bool exists = q.Next();
          const int64_t run_id = exists ? q.Int(0) : 0;
          const bool pending = exists && q.Int(1) != 0;
          while (q.Next()) {
          }
          LOUPE_RETURN_IF_ERROR(q.status());
          int64_t prediction_id = w.p.id;
          // A call is kept even when its cell is answered already or gone with its run.
          if (prediction_id == 0) {
            LOUPE_ASSIGN_OR_RETURN(prediction_id, InsertPrediction(db, w.p));
          }
          if (!pending) continue;
          std::optional<int64_t> passed;
          if (w.passed) passed = *w.passed ? 1 : 0;
          LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                          "UPDATE batch_cells SET prediction_id=?, cached=?, checks=?, passed=?, "
                                          "cache_key=?, judge=? WHERE id=?",
                                          prediction_id, int64_t{w.cached ? 1 : 0}, w.checks_json, passed,
                                          w.cached ? std::string() : w.cache_key, std::string(w.judge ? "pending" : ""),
                                          w.cell_id));
          runs.insert(run_id);
        }
        for (int64_t run_id : runs) {
          LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> left, sql::QueryInt(db, kLeft, run_id, run_id));
          if (left.value_or(0) == 0) {
            LOUPE_RETURN_IF_ERROR(sql::Exec(
                db, "UPDATE batch_runs SET status='done', finish_time=? WHERE id=? AND status='running'", now, run_id));
          }
        }
        return Status::Ok();
      },
      writes.size());
}

Status SqliteStore::RecordBatchJudge(int64_t cell_id, const std::string& verdict_json, std::optional<double> score,
                                     std::optional<bool> passed, int64_t now) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> run_id,
                           sql::QueryInt(db, "SELECT run_id FROM batch_cells WHERE id=? AND judge='pending'", cell_id));
    if (!run_id) return Status::Ok();  // deleted, or judged already: the verdict stays a judgment only
    std::optional<int64_t> passed_int;
    if (passed) passed_int = *passed ? 1 : 0;
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE batch_cells SET judge=?, judge_score=?, judge_passed=? WHERE id=?",
                                    verdict_json, score, passed_int, cell_id));
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> left, sql::QueryInt(db, kLeft, *run_id, *run_id));
    if (left.value_or(0) == 0) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(
          db, "UPDATE batch_runs SET status='done', finish_time=? WHERE id=? AND status='running'", now, *run_id));
    }
    return Status::Ok();
  });
}

Result<std::optional<int64_t>> SqliteStore::FindCachedAnswer(const std::string& cache_key) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return sql::QueryInt(r.db(),
                       "SELECT x.prediction_id FROM batch_cells x JOIN predictions p ON p.id=x.prediction_id "
                       "WHERE x.cache_key=? AND x.cached=0 AND x.cache_key<>'' AND p.outcome='ok' ORDER BY x.id DESC LIMIT 1",
                       cache_key);
}

Status SqliteStore::SetBatchRunStatus(int64_t id, const std::string& status, int64_t now) {
  return Write([&](SqliteDb& db) -> Status {
    sql::Rows q(db, "SELECT status FROM batch_runs WHERE id=?", id);
    if (!q.Next()) {
      LOUPE_RETURN_IF_ERROR(q.status());
      return Status::NotFound("batch run " + std::to_string(id) + " not found");
    }
    const std::string current = q.Text(0);
    while (q.Next()) {
    }
    LOUPE_RETURN_IF_ERROR(q.status());
    if (current == "done") return Status::Conflict("batch run " + std::to_string(id) + " is done");
    if (current == status) return Status::Ok();
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE batch_runs SET status=? WHERE id=?", status, id));
    // Resumed with nothing left to ask (every cell answered before the cancel landed).
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> left, sql::QueryInt(db, kLeft, id, id));
    if (status == "running" && left.value_or(0) == 0) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE batch_runs SET status='done', finish_time=? WHERE id=?", now, id));
    }
    return Status::Ok();
  });
}

Status SqliteStore::DeleteBatchRun(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM batch_runs WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("batch run " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
