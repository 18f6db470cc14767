// SqliteStore: the LLM workbench's model endpoints.
#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

constexpr const char* kModelColumns =
    "id, name, api, base_url, model, secret_name, defaults, price_input, price_output, capabilities, probe, "
    "base_model_id, experiment_id, create_time, update_time, created_by";

LlmModel ModelFrom(const sql::Rows& q) {
  LlmModel m;
  m.id = q.Int(0);
  m.name = q.Text(1);
  m.api = q.Text(2);
  m.base_url = q.Text(3);
  m.model = q.Text(4);
  m.secret_name = q.Text(5);
  m.defaults_json = q.Text(6);
  m.price_input = q.OptionalDouble(7);
  m.price_output = q.OptionalDouble(8);
  m.capabilities_json = q.Text(9);
  m.probe_json = q.Text(10);
  m.base_model_id = q.OptionalInt(11);
  m.experiment_id = q.OptionalInt(12);
  m.create_time = q.Int(13);
  m.update_time = q.Int(14);
  m.created_by = q.Text(15);
  return m;
}

// The links a model row may hold must point at rows that exist (SQLite enforces the
// base model's key; the experiment lives in another domain's table).
Status CheckLinks(SqliteDb& db, const LlmModel& m) {
  if (m.base_model_id) {
    if (*m.base_model_id == m.id) return Status::InvalidArgument("a model cannot be fine-tuned from itself");
    sql::Rows q(db, "SELECT 1 FROM llm_models WHERE id=?", *m.base_model_id);
    bool found = q.Next();
    LOUPE_RETURN_IF_ERROR(q.status());
    if (!found) return Status::NotFound("base model " + std::to_string(*m.base_model_id) + " not found");
  }
  if (m.experiment_id) {
    sql::Rows q(db, "SELECT 1 FROM experiments WHERE id=?", *m.experiment_id);
    bool found = q.Next();
    LOUPE_RETURN_IF_ERROR(q.status());
    if (!found) return Status::NotFound("experiment " + std::to_string(*m.experiment_id) + " not found");
  }
  return Status::Ok();
}

Status NameFree(SqliteDb& db, const std::string& name, int64_t except_id) {
  sql::Rows q(db, "SELECT id FROM llm_models WHERE name=? AND id<>?", name, except_id);
  bool taken = q.Next();
  LOUPE_RETURN_IF_ERROR(q.status());
  if (taken) return Status::Conflict("a model named '" + name + "' already exists");
  return Status::Ok();
}

}  // namespace

Result<LlmModel> SqliteStore::CreateLlmModel(const LlmModel& m, int64_t max_count) {
  LlmModel created = m;
  LOUPE_RETURN_IF_ERROR(Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(NameFree(db, m.name, 0));
    LOUPE_RETURN_IF_ERROR(CheckLinks(db, m));
    sql::Rows count(db, "SELECT count(*) FROM llm_models");
    if (count.Next() && max_count > 0 && count.Int(0) >= max_count) {
      return Status::TooLarge("Loupe holds its maximum of " + std::to_string(max_count) + " models; remove one first");
    }
    LOUPE_RETURN_IF_ERROR(count.status());
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db,
        "INSERT INTO llm_models(name, api, base_url, model, secret_name, defaults, price_input, price_output, "
        "capabilities, probe, base_model_id, experiment_id, create_time, update_time, created_by) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        m.name, m.api, m.base_url, m.model, m.secret_name, m.defaults_json, m.price_input, m.price_output,
        m.capabilities_json, m.probe_json, m.base_model_id, m.experiment_id, m.create_time, m.update_time,
        m.created_by));
    created.id = db.LastInsertId();
    return Status::Ok();
  }));
  return created;
}

Status SqliteStore::UpdateLlmModel(const LlmModel& m) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(NameFree(db, m.name, m.id));
    LOUPE_RETURN_IF_ERROR(CheckLinks(db, m));
    LOUPE_RETURN_IF_ERROR(sql::Exec(
        db,
        "UPDATE llm_models SET name=?, api=?, base_url=?, model=?, secret_name=?, defaults=?, price_input=?, "
        "price_output=?, capabilities=?, base_model_id=?, experiment_id=?, update_time=? WHERE id=?",
        m.name, m.api, m.base_url, m.model, m.secret_name, m.defaults_json, m.price_input, m.price_output,
        m.capabilities_json, m.base_model_id, m.experiment_id, m.update_time, m.id));
    if (db.Changes() == 0) return Status::NotFound("model " + std::to_string(m.id) + " not found");
    return Status::Ok();
  });
}

Status SqliteStore::SetLlmModelProbe(int64_t id, const std::string& probe_json) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE llm_models SET probe=? WHERE id=?", probe_json, id));
    if (db.Changes() == 0) return Status::NotFound("model " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

Result<LlmModel> SqliteStore::GetLlmModel(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kModelColumns + " FROM llm_models WHERE id=?", id);
  if (q.Next()) return ModelFrom(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("model " + std::to_string(id) + " not found");
}

Result<std::vector<LlmModel>> SqliteStore::ListLlmModels() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), std::string("SELECT ") + kModelColumns + " FROM llm_models ORDER BY name, id");
  std::vector<LlmModel> out;
  while (q.Next()) out.push_back(ModelFrom(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::DeleteLlmModel(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM llm_models WHERE id=?", id));
    if (db.Changes() == 0) return Status::NotFound("model " + std::to_string(id) + " not found");
    return Status::Ok();
  });
}

}  // namespace loupe
