// SqliteStore: opening, the reader pool, projects and experiments.
#include "store/sqlite_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <random>

#include "common/bounded_json.h"
#include "common/json_order.h"
#include "common/time_util.h"
#include "store/migrations.h"
#include "store/sql.h"

namespace loupe {

namespace {

constexpr const char* kExperimentColumns =
    "id, project_id, run_id, name, description, status, show, create_time, update_time, "
    "finish_time, last_seen, config, system, requirements, sort, error, tags";

// 1 when the experiment has a client that started after `client` (?1) did (?2: the id).
constexpr const char* kNewerClientSql =
    "SELECT 1 FROM experiment_clients a JOIN experiment_clients b "
    "ON b.experiment_id=a.experiment_id AND b.create_time > a.create_time "
    "WHERE a.client=? AND a.experiment_id=? LIMIT 1";

// Tags are stored as a JSON array of strings.
std::vector<std::string> TagsFromText(const std::string& text) {
  std::vector<std::string> out;
  if (text == "[]") return out;  // most runs: no parse for a 10,000-run table
  nlohmann::json j = ParseBoundedJson(text);
  if (!j.is_array()) return out;
  for (const auto& t : j) {
    if (t.is_string()) out.push_back(t.get<std::string>());
  }
  return out;
}

std::string TagsText(const std::vector<std::string>& tags) {
  return nlohmann::json(tags).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Experiment ExperimentFromRow(const sql::Rows& q) {
  Experiment e;
  e.id = q.Int(0);
  e.project_id = q.Int(1);
  e.run_id = q.Text(2);
  e.name = q.Text(3);
  e.description = q.Text(4);
  e.status = ParseRunStatus(q.Text(5)).value_or(RunStatus::kCrashed);
  e.show = q.Int(6) != 0;
  e.create_time = q.Int(7);
  e.update_time = q.Int(8);
  e.finish_time = q.Int(9);
  e.last_seen = q.Int(10);
  e.config_json = q.Text(11);
  e.system_json = q.Text(12);
  e.requirements = q.Text(13);
  e.sort = q.Int(14);
  e.error = q.Text(15);
  e.tags = TagsFromText(q.Text(16));
  return e;
}

Result<Experiment> LoadExperiment(SqliteDb& db, int64_t id) {
  static const std::string kSql = std::string("SELECT ") + kExperimentColumns + " FROM experiments WHERE id=?";
  sql::Rows q(db, kSql, id);
  if (q.Next()) return ExperimentFromRow(q);
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("experiment " + std::to_string(id) + " not found");
}

std::string NewRunId(int64_t now) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  time_t secs = static_cast<time_t>(now / 1000000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "run-%04d%02d%02d_%02d%02d%02d-%08llx", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return buf;
}

// Keys keep the order they were first logged in (SwanLab numbers config keys by it).
Result<std::string> MergeJsonObjects(const std::string& base, const std::string& update) {
  Result<JsonMembers> u = ObjectMembersInOrder(update);
  if (!u.ok()) return Status::InvalidArgument("config must be a JSON object");
  Result<JsonMembers> stored = ObjectMembersInOrder(base);
  JsonMembers b = stored.ok() ? std::move(*stored) : JsonMembers{};
  MergeMembers(b, *u);
  return ObjectText(b);
}

// Why experiment `id` is not there: Gone when it existed (ids are never reused, so any id
// up to the highest ever given out was deleted), NotFound otherwise.
Status MissingExperiment(SqliteDb& db, int64_t id) {
  Result<std::optional<int64_t>> top = sql::QueryInt(db, "SELECT seq FROM sqlite_sequence WHERE name='experiments'");
  if (!top.ok()) return top.status();
  if (id > 0 && top->value_or(0) >= id) {
    return Status::Gone("experiment " + std::to_string(id) + " was deleted; nothing more is kept for it");
  }
  return Status::NotFound("experiment " + std::to_string(id) + " not found");
}

Result<Experiment> LoadExperimentForWrite(SqliteDb& db, int64_t id) {
  Result<Experiment> e = LoadExperiment(db, id);
  if (e.ok() || e.status().code() != Code::kNotFound) return e;
  return MissingExperiment(db, id);
}

Status RequireExperiment(SqliteDb& db, int64_t id) {
  Result<std::optional<int64_t>> found = sql::QueryInt(db, "SELECT 1 FROM experiments WHERE id=?", id);
  if (!found.ok()) return found.status();
  return *found ? Status::Ok() : Status::NotFound("experiment " + std::to_string(id) + " not found");
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options) {
  LOUPE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> s, SqliteStore::Open(options));
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status::Unavailable("cannot create data dir " + options.data_dir + ": " + ec.message());
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  store->series_writer_.set_max_keys(options.quotas.max_keys_per_experiment);
  store->path_ = (std::filesystem::path(options.data_dir) / "loupe.db").string();
  constexpr int64_t kPage = 4096;  // SQLite's default page size: one WAL frame each
  SqliteStore* raw = store.get();
  auto open_writer = [path = store->path_, options, raw]() -> Result<std::unique_ptr<SqliteDb>> {
    LOUPE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, false, options.sync_full, options.vfs));
    LOUPE_RETURN_IF_ERROR(db->Exec("PRAGMA journal_size_limit=" + std::to_string(options.wal_limit_bytes)));
    if (raw->checkpointer_) raw->checkpointer_->Watch(*db);
    return db;
  };
  LOUPE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, open_writer());
  // Probe that the file is a database we can write before serving anything.
  Status probe = db->Exec("CREATE TABLE IF NOT EXISTS _probe(x); DROP TABLE _probe;");
  if (!probe.ok()) return Status::Unavailable("data dir " + options.data_dir + " is unusable: " + probe.message());
  LOUPE_RETURN_IF_ERROR(Migrate(*db));
  LOUPE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> ckpt, SqliteDb::Open(store->path_, false, options.sync_full, options.vfs));
  store->checkpointer_ = std::make_unique<WalCheckpointer>(
      std::move(ckpt), std::max<int64_t>(1, options.wal_checkpoint_bytes / kPage),
      std::max<int64_t>(1, options.wal_limit_bytes / kPage));
  store->checkpointer_->Watch(*db);
  store->writer_ = std::make_unique<SqliteWriter>(
      std::move(db), options.max_points_per_commit, [raw] { raw->series_writer_.Reset(); },
      open_writer, [raw](SqliteDb& writer) { raw->checkpointer_->AfterCommit(writer); });
  return store;
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  if (writer_) writer_->Stop();
  checkpointer_.reset();
  MutexLock lock(pool_mu_);
  pool_.clear();
}

SqliteStore::Reader::~Reader() {
  if (!db_) return;
  // A connection still holding a snapshot (a failed COMMIT) would serve stale reads to
  // its next borrower: end it, or drop the connection.
  if (db_->InTransaction() && (!db_->Exec("ROLLBACK").ok() || db_->InTransaction())) return;
  MutexLock lock(store_->pool_mu_);
  store_->pool_.push_back(std::move(db_));
}

Result<SqliteStore::Reader> SqliteStore::Borrow() {
  checkpointer_->WaitAtGate();
  {
    MutexLock lock(pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(pool_.back());
      pool_.pop_back();
      return Reader(this, std::move(db));
    }
  }
  LOUPE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path_, true, false, options_.vfs));
  return Reader(this, std::move(db));
}

Status SqliteStore::Write(SqliteWriter::Op op, size_t weight) {
  return writer_->Run(std::move(op), weight);
}

// ---- Projects -------------------------------------------------------------------

Result<std::vector<Project>> SqliteStore::ListProjects() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, description, create_time, update_time, sum FROM projects ORDER BY id");
  std::vector<Project> out;
  while (q.Next()) out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4), q.Int(5)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<Project> SqliteStore::GetProject(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT id, name, description, create_time, update_time, sum FROM projects WHERE id=?", id);
  if (q.Next()) return Project{q.Int(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4), q.Int(5)};
  LOUPE_RETURN_IF_ERROR(q.status());
  return Status::NotFound("project " + std::to_string(id) + " not found");
}

Status SqliteStore::UpdateProject(int64_t id, const std::string& name, const std::string& description) {
  return Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> taken = sql::QueryInt(db, "SELECT 1 FROM projects WHERE name=? AND id<>?", name, id);
    if (!taken.ok()) return taken.status();
    if (*taken) return Status::Conflict("a project named '" + name + "' already exists");
    sql::Rows old(db, "SELECT name FROM projects WHERE id=?", id);
    if (!old.Next()) {
      LOUPE_RETURN_IF_ERROR(old.status());
      return Status::NotFound("project " + std::to_string(id) + " not found");
    }
    const std::string old_name = old.Text(0);
    const int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(
        sql::Exec(db, "UPDATE projects SET name=?, description=?, update_time=? WHERE id=?", name, description, now, id));
    if (old_name == name) return Status::Ok();
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM project_renames WHERE old_name=?", name));
    return sql::Exec(db, "INSERT OR REPLACE INTO project_renames(old_name, project_id, rename_time) VALUES(?,?,?)",
                     old_name, id, now);
  });
}

namespace {
Status DeleteExperimentRows(SqliteDb& db, int64_t id) {
  const char* stmts[] = {
      "DELETE FROM chunks WHERE series_id IN (SELECT id FROM series WHERE experiment_id=?)",
      "DELETE FROM summaries WHERE series_id IN (SELECT id FROM series WHERE experiment_id=?)",
      "DELETE FROM console WHERE experiment_id=?",
      "DELETE FROM applied_writes WHERE experiment_id=?",
      "DELETE FROM experiment_usage WHERE experiment_id=?",
      "DELETE FROM experiments WHERE id=?",  // cascades to series, charts, namespaces, media
  };
  for (const char* stmt : stmts) LOUPE_RETURN_IF_ERROR(sql::Exec(db, stmt, id));
  return Status::Ok();
}
}  // namespace

Status SqliteStore::DeleteProject(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    Result<std::optional<int64_t>> found = sql::QueryInt(db, "SELECT 1 FROM projects WHERE id=?", id);
    if (!found.ok()) return found.status();
    if (!*found) return Status::NotFound("project " + std::to_string(id) + " not found");
    Result<std::optional<int64_t>> running =
        sql::QueryInt(db, "SELECT count(*) FROM experiments WHERE project_id=? AND status='running'", id);
    if (!running.ok()) return running.status();
    int64_t n = running->value_or(0);
    if (n > 0) {
      return Status::Conflict("project " + std::to_string(id) + " has " + std::to_string(n) +
                              " running experiment(s); stop or finish them first");
    }
    std::vector<int64_t> ids;
    sql::Rows list(db, "SELECT id FROM experiments WHERE project_id=?", id);
    while (list.Next()) ids.push_back(list.Int(0));
    LOUPE_RETURN_IF_ERROR(list.status());
    for (int64_t e : ids) {
      LOUPE_RETURN_IF_ERROR(DeleteExperimentRows(db, e));
      series_writer_.Forget(e);
    }
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM project_renames WHERE project_id=?", id));
    return sql::Exec(db, "DELETE FROM projects WHERE id=?", id);
  });
}

// ---- Experiments ----------------------------------------------------------------

namespace {

// Registers a client of the experiment with its step bases: one past the experiment's
// last step over all keys but the system metrics', and over the system metrics' own
// (0 and 0 for a new run), read in one pass over its series.
Status RegisterClient(SqliteDb& db, const std::string& client, int64_t experiment_id, bool fresh, int64_t started,
                      int64_t& step_base) {
  step_base = 0;
  if (client.empty()) return Status::Ok();
  int64_t system_base = 0;
  if (!fresh) {  // the statement is reset before the insert below
    sql::Rows q(db,
                "SELECT coalesce(max(CASE WHEN substr(key, 1, 7)<>'system/' THEN last_step END), -1) + 1, "
                "coalesce(max(CASE WHEN substr(key, 1, 7)='system/' THEN last_step END), -1) + 1 "
                "FROM series WHERE experiment_id=?",
                experiment_id);
    if (q.Next()) {
      step_base = q.Int(0);
      system_base = q.Int(1);
    }
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  return sql::Exec(db,
                   "INSERT INTO experiment_clients(client, experiment_id, step_base, system_step_base, create_time) "
                   "VALUES(?,?,?,?,?)",
                   client, experiment_id, step_base, system_base, started);
}

// The project a run under `name` means: the one named so now, else the one that was
// named so before a rename (so a script not yet updated keeps logging where it did).
Result<std::optional<int64_t>> ProjectNamed(SqliteDb& db, const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> id, sql::QueryInt(db, "SELECT id FROM projects WHERE name=?", name));
  if (id) return id;
  return sql::QueryInt(db, "SELECT project_id FROM project_renames WHERE old_name=?", name);
}

// `wanted` when no experiment of the project has that name, else the first of
// wanted-2, wanted-3, ... that is free, within 255 bytes (the default name limit; the
// name is cut at a character boundary to make room for the suffix).
Result<std::string> FreeExperimentName(SqliteDb& db, int64_t project_id, const std::string& wanted) {
  constexpr size_t kMaxNameBytes = 255;
  for (size_t n = 1;; ++n) {
    std::string suffix = n == 1 ? "" : "-" + std::to_string(n);
    std::string base = wanted;
    if (base.size() + suffix.size() > kMaxNameBytes) {
      size_t cut = kMaxNameBytes - suffix.size();
      while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80) --cut;
      base.resize(cut);
    }
    std::string candidate = base + suffix;
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> taken,
                           sql::QueryInt(db, "SELECT 1 FROM experiments WHERE project_id=? AND name=?", project_id,
                                         candidate));
    if (!taken) return candidate;
  }
}

}  // namespace

Result<CreatedExperiment> SqliteStore::CreateOrResumeExperiment(const NewExperiment& e) {
  CreatedExperiment out;
  Status st = Write([&](SqliteDb& db) -> Status {
    const int64_t now = NowMicros();
    // The client's clock, when it is plausible (not ahead of ours, not before 2020); an
    // importer's files are believed back to the epoch (CLaaS runs from 2019 exist).
    constexpr int64_t k2020 = int64_t{1577836800} * 1000000;
    const int64_t earliest = e.imported ? 0 : k2020;
    const int64_t started = e.client_start > earliest && e.client_start < now ? e.client_start : now;
    if (!e.client.empty()) {
      sql::Rows known(db, "SELECT experiment_id, step_base FROM experiment_clients WHERE client=?", e.client);
      if (known.Next()) {
        // A replay (sync, a retry whose answer was lost): the run as it is, unchanged.
        out.resumed = true;
        out.step_base = known.Int(1);
        LOUPE_ASSIGN_OR_RETURN(out.experiment, LoadExperimentForWrite(db, known.Int(0)));
        return Status::Ok();
      }
      LOUPE_RETURN_IF_ERROR(known.status());
    }
    std::optional<int64_t> id;
    if (!e.run_id.empty()) {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> project_id, ProjectNamed(db, e.project));
      if (project_id) {
        LOUPE_ASSIGN_OR_RETURN(
            id, sql::QueryInt(db, "SELECT id FROM experiments WHERE project_id=? AND run_id=?", *project_id, e.run_id));
      }
    }
    if (id) {
      out.resumed = true;
      // A client that started before one already registered arrives late (synced from
      // another machine): its data is kept, but the newer client owns status and config.
      LOUPE_ASSIGN_OR_RETURN(
          std::optional<int64_t> newer,
          sql::QueryInt(db, "SELECT 1 FROM experiment_clients WHERE experiment_id=? AND create_time > ? LIMIT 1", *id,
                        started));
      if (newer) {
        LOUPE_RETURN_IF_ERROR(RegisterClient(db, e.client, *id, false, started, out.step_base));
        LOUPE_ASSIGN_OR_RETURN(out.experiment, LoadExperiment(db, *id));
        return Status::Ok();
      }
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "UPDATE experiments SET status='running', finish_time=0, error='', "
                                      "last_seen=?, update_time=? WHERE id=?",
                                      now, now, *id));
      // Whoever resumed the run last owns its status: an SDK script resuming an imported
      // run makes it an ordinary run again, which the heartbeat monitor ends if it dies.
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET imported=? WHERE id=?", int64_t{e.imported ? 1 : 0}, *id));
      if (e.imported) {
        LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET create_time=min(create_time, ?) WHERE id=?",
                                        started, *id));
      }
      if (e.config_json != "{}") {
        LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperiment(db, *id));
        LOUPE_ASSIGN_OR_RETURN(std::string merged, MergeJsonObjects(cur.config_json, e.config_json));
        LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET config=? WHERE id=?", merged, *id));
      }
      if (!e.tags.empty()) {
        LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperiment(db, *id));
        std::vector<std::string> tags = cur.tags;
        // The run's own tags first; the 32-tag limit holds across resumes too.
        for (const std::string& t : e.tags) {
          if (tags.size() < 32 && std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
        }
        LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET tags=? WHERE id=?", TagsText(tags), *id));
      }
    } else {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> project_id, ProjectNamed(db, e.project));
      if (!project_id) {
        LOUPE_RETURN_IF_ERROR(
            sql::Exec(db, "INSERT INTO projects(name, create_time, update_time) VALUES(?,?,?)", e.project, now, now));
        project_id = db.LastInsertId();
      }
      std::string run_id = e.run_id.empty() ? NewRunId(now) : e.run_id;
      LOUPE_RETURN_IF_ERROR(CheckQuota(db, "SELECT count(*) FROM experiments", options_.quotas.max_experiments,
                                       "experiments", "--max-experiments"));
      LOUPE_ASSIGN_OR_RETURN(std::string name, FreeExperimentName(db, *project_id, e.name.empty() ? run_id : e.name));
      LOUPE_RETURN_IF_ERROR(
          sql::Exec(db, "UPDATE projects SET sum=sum + 1, update_time=? WHERE id=?", now, *project_id));
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "INSERT INTO experiments(project_id, run_id, name, description, status, "
                                      "create_time, update_time, last_seen, config, tags, sort, imported) "
                                      "VALUES(?,?,?,?,'running',?,?,?,?,?,(SELECT sum FROM projects WHERE id=?),?)",
                                      *project_id, run_id, name, e.description, started, now, now, e.config_json,
                                      TagsText(e.tags), *project_id, int64_t{e.imported ? 1 : 0}));
      id = db.LastInsertId();
    }
    LOUPE_RETURN_IF_ERROR(RegisterClient(db, e.client, *id, !out.resumed, started, out.step_base));
    LOUPE_ASSIGN_OR_RETURN(out.experiment, LoadExperiment(db, *id));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Experiment> SqliteStore::GetExperiment(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return LoadExperiment(r.db(), id);
}

Result<std::vector<Experiment>> SqliteStore::ListExperiments(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  static const std::string kSql = std::string("SELECT ") + kExperimentColumns + " FROM experiments WHERE project_id=? ORDER BY id";
  sql::Rows q(r.db(), kSql, project_id);
  std::vector<Experiment> out;
  while (q.Next()) out.push_back(ExperimentFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<std::vector<Experiment>> SqliteStore::ListExperimentsBrief(int64_t project_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  // The same columns in the same places as kExperimentColumns, system and requirements left out.
  static const std::string kSql =
      "SELECT id, project_id, run_id, name, description, status, show, create_time, update_time, finish_time, "
      "last_seen, config, '{}', '', sort, error, tags FROM experiments WHERE project_id=? ORDER BY id";
  sql::Rows q(r.db(), kSql, project_id);
  std::vector<Experiment> out;
  while (q.Next()) out.push_back(ExperimentFromRow(q));
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::PatchExperiment(int64_t id, const ExperimentPatch& patch) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(Experiment e, LoadExperimentForWrite(db, id));
    if (patch.name && *patch.name != e.name) {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> other,
                             sql::QueryInt(db, "SELECT id FROM experiments WHERE project_id=? AND name=? AND id<>?",
                                           e.project_id, *patch.name, id));
      if (other) {
        return Status::Conflict("experiment " + std::to_string(*other) + " of this project is already named '" +
                                *patch.name + "'; experiment names are unique in a project");
      }
    }
    if (patch.name) e.name = *patch.name;
    if (patch.description) e.description = *patch.description;
    if (patch.show) e.show = *patch.show;
    if (patch.tags) e.tags = *patch.tags;
    return sql::Exec(db, "UPDATE experiments SET name=?, description=?, show=?, tags=?, update_time=? WHERE id=?",
                     e.name, e.description, e.show ? 1 : 0, TagsText(e.tags), NowMicros(), id);
  });
}

Status SqliteStore::MergeConfig(int64_t id, const std::string& config_json) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperimentForWrite(db, id));
    LOUPE_ASSIGN_OR_RETURN(std::string merged, MergeJsonObjects(cur.config_json, config_json));
    return sql::Exec(db, "UPDATE experiments SET config=?, update_time=? WHERE id=?", merged, NowMicros(), id);
  });
}

Status SqliteStore::SetSystem(int64_t id, const std::string& system_json,
                              const std::string& requirements) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET system=?, requirements=?, update_time=? WHERE id=?",
                                    system_json, requirements, NowMicros(), id));
    if (db.Changes() == 0) return MissingExperiment(db, id);
    return Status::Ok();
  });
}

namespace {
// A write is a sign of life: refresh last_seen, and revive a run the heartbeat
// monitor had given up on. Stopped and finished runs keep their status.
Result<RunStatus> TouchExperiment(SqliteDb& db, int64_t id, int64_t now, const std::string& client = "") {
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET last_seen=?1, update_time=?1 WHERE id=?2", now, id));
  if (db.Changes() == 0) return MissingExperiment(db, id);
  RunStatus s = RunStatus::kRunning;
  {
    sql::Rows q(db, "SELECT status FROM experiments WHERE id=?", id);
    if (q.Next()) s = ParseRunStatus(q.Text(0)).value_or(RunStatus::kCrashed);
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  if (s != RunStatus::kCrashed) return s;
  if (!client.empty()) {
    // A late client (one that started before the run's newest, synced from elsewhere)
    // keeps its data but does not revive the run the newest client ended.
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> newer, sql::QueryInt(db, kNewerClientSql, client, id));
    if (newer) return s;
  }
  LOUPE_RETURN_IF_ERROR(
      sql::Exec(db, "UPDATE experiments SET status='running', finish_time=0 WHERE id=? AND status='crashed'", id));
  return RunStatus::kRunning;
}

// The start of every client write: a sign of life, then the client's sequence number
// claimed in the space of its kind ("metrics", "console", "media"). Fills `ack`;
// returns false when the write was applied before (a retry).
Result<bool> BeginClientWrite(SqliteDb& db, int64_t experiment_id, const ClientWrite& from, const char* kind,
                              int64_t now, WriteAck& ack) {
  LOUPE_ASSIGN_OR_RETURN(RunStatus s, TouchExperiment(db, experiment_id, now, from.client));
  ack.status = s;
  if (from.seq < 0) return true;
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT OR IGNORE INTO applied_writes VALUES(?, ?, ?, ?)", experiment_id,
                                  from.client, std::string(kind), from.seq));
  ack.duplicate = db.Changes() == 0;
  return !ack.duplicate;
}

// What to add to the steps of a write (see StepOrigin).
Result<int64_t> StepBase(SqliteDb& db, int64_t experiment_id, const ClientWrite& from) {
  if (from.origin == StepOrigin::kAbsolute || from.client.empty()) return 0;
  const char* column = from.origin == StepOrigin::kResumeSystem ? "system_step_base" : "step_base";
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> base,
                         sql::QueryInt(db, std::string("SELECT ") + column +
                                               " FROM experiment_clients WHERE client=? AND experiment_id=?",
                                       from.client, experiment_id));
  return base.value_or(0);
}

constexpr int64_t kMaxStep = int64_t{1} << 53;

Status CheckRebasedStep(int64_t step, int64_t base) {
  if (step > kMaxStep - base) {
    return Status::InvalidArgument("step " + std::to_string(step) + " plus this run's resume point " +
                                   std::to_string(base) + " is above 2^53");
  }
  return Status::Ok();
}
}  // namespace

namespace {
Status ApplyStatus(SqliteDb& db, const Experiment& cur, RunStatus s, RunStatus& now_status, int64_t at = 0) {
  // A stop requested from the UI wins over the client's later "finished".
  if (cur.status == RunStatus::kStopped && s != RunStatus::kRunning) {
    now_status = RunStatus::kStopped;
    return Status::Ok();
  }
  now_status = s;
  int64_t now = NowMicros();
  // A run may end when it started (an import of one batch): at == create_time is kept.
  int64_t finish = at > 0 && at >= cur.create_time && at < now ? at : now;
  return sql::Exec(db, "UPDATE experiments SET status=?, finish_time=?, update_time=?, last_seen=? WHERE id=?",
                   std::string(RunStatusName(s)), s == RunStatus::kRunning ? int64_t{0} : finish, now, now, cur.id);
}
}  // namespace

Result<RunStatus> SqliteStore::SetStatus(int64_t id, RunStatus s) {
  RunStatus now_status = s;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperimentForWrite(db, id));
    return ApplyStatus(db, cur, s, now_status);
  });
  if (!st.ok()) return st;
  return now_status;
}

Result<RunStatus> SqliteStore::FinishFromClient(int64_t id, RunStatus s, const std::string& client, int64_t at,
                                               const std::string& error) {
  RunStatus now_status = s;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperimentForWrite(db, id));
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> newer, sql::QueryInt(db, kNewerClientSql, client, id));
    if (newer) {
      now_status = cur.status;
      return Status::Ok();
    }
    LOUPE_RETURN_IF_ERROR(ApplyStatus(db, cur, s, now_status, at));
    if (error.empty() || now_status == RunStatus::kRunning) return Status::Ok();
    return sql::Exec(db, "UPDATE experiments SET error=? WHERE id=?", error, id);
  });
  if (!st.ok()) return st;
  return now_status;
}

Result<Experiment> SqliteStore::StopIfRunning(int64_t id) {
  Experiment out;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(Experiment cur, LoadExperimentForWrite(db, id));
    if (cur.status != RunStatus::kRunning) {
      return Status::Conflict("experiment " + std::to_string(id) + " is not running (it is " +
                              RunStatusName(cur.status) + ")");
    }
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE experiments SET status='stopped', finish_time=?, update_time=? WHERE id=?",
                                    now, now, id));
    LOUPE_ASSIGN_OR_RETURN(out, LoadExperiment(db, id));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<RunStatus> SqliteStore::Heartbeat(int64_t id) {
  RunStatus out = RunStatus::kRunning;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(RunStatus s, TouchExperiment(db, id, NowMicros()));
    out = s;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<int> SqliteStore::CrashStaleRuns(int64_t cutoff_micros) {
  int changed = 0;
  Status st = Write([&](SqliteDb& db) -> Status {
    int64_t now = NowMicros();
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "UPDATE experiments SET status='crashed', finish_time=CASE WHEN last_seen > create_time THEN last_seen ELSE create_time END, "
                                    "update_time=? WHERE status='running' AND last_seen < ? AND imported=0",
                                    now, cutoff_micros));
    changed = db.Changes();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return changed;
}

Status SqliteStore::DeleteExperiment(int64_t id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(RequireExperiment(db, id));
    LOUPE_RETURN_IF_ERROR(DeleteExperimentRows(db, id));
    series_writer_.Forget(id);
    return Status::Ok();
  });
}

// ---- Quotas -----------------------------------------------------------------------

Status SqliteStore::CheckQuota(SqliteDb& db, const std::string& count_sql, int64_t max, const std::string& what,
                               const std::string& flag) {
  if (max <= 0) return Status::Ok();
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> n, sql::QueryInt(db, count_sql));
  if (n.value_or(0) < max) return Status::Ok();
  return Status::TooLarge("the server holds its maximum of " + std::to_string(max) + " " + what +
                         "; delete some, or raise it with `loupe serve " + flag + "`");
}

Status SqliteStore::AddUsage(SqliteDb& db, int64_t experiment_id, const char* column, int64_t bytes, int64_t max,
                             const std::string& what, const std::string& flag) {
  if (bytes <= 0) return Status::Ok();
  const std::string col(column);  // one of two fixed names, never input
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> used,
                         sql::QueryInt(db, "SELECT " + col + " FROM experiment_usage WHERE experiment_id=?",
                                       experiment_id));
  const int64_t now = used.value_or(0);
  if (max > 0 && now + bytes > max) {
    // Exact bytes as well as MiB: a quota of a few MiB shows what is left, not "0 MiB".
    auto mib = [](int64_t b) { return fmt::format("{:.2f} MiB ({} bytes)", static_cast<double>(b) / (1 << 20), b); };
    return Status::TooLarge("experiment " + std::to_string(experiment_id) + " holds " + mib(now) + " of " + what +
                            "; this write of " + std::to_string(bytes) + " bytes would pass its quota of " + mib(max) +
                            "; delete the run or raise the quota with `loupe serve " + flag + "`");
  }
  if (used) {
    return sql::Exec(db, "UPDATE experiment_usage SET " + col + "=" + col + "+? WHERE experiment_id=?", bytes,
                     experiment_id);
  }
  return sql::Exec(db, "INSERT INTO experiment_usage(experiment_id, " + col + ") VALUES(?, ?)", experiment_id, bytes);
}

// ---- Metrics ----------------------------------------------------------------------

Result<WriteAck> SqliteStore::WriteMetrics(const MetricBatch& batch) {
  WriteAck ack;
  Status st = Write(
      [&](SqliteDb& db) -> Status {
        LOUPE_ASSIGN_OR_RETURN(bool fresh,
                               BeginClientWrite(db, batch.experiment_id, batch.from, "metrics", batch.ts, ack));
        if (!fresh || batch.points.empty()) return Status::Ok();
        LOUPE_ASSIGN_OR_RETURN(int64_t base, StepBase(db, batch.experiment_id, batch.from));
        // A retried op starts over: what an earlier attempt left out is listed again.
        ack.refused.clear();
        ack.refused_points = 0;
        auto* refused = batch.partial ? &ack.refused : nullptr;
        auto* refused_points = batch.partial ? &ack.refused_points : nullptr;
        if (base == 0) {
          return series_writer_.Write(db, batch.experiment_id, batch.points, batch.ts, refused, refused_points);
        }
        std::vector<MetricPoint> rebased = batch.points;
        for (MetricPoint& p : rebased) {
          LOUPE_RETURN_IF_ERROR(CheckRebasedStep(p.step, base));
          p.step += base;
        }
        return series_writer_.Write(db, batch.experiment_id, rebased, batch.ts, refused, refused_points);
      },
      batch.points.size() + 1);
  if (!st.ok()) return st;
  return ack;
}

Result<WriteAck> SqliteStore::AppendConsole(const ConsoleBatch& batch) {
  WriteAck ack;
  Status st = Write(
      [&](SqliteDb& db) -> Status {
        LOUPE_ASSIGN_OR_RETURN(bool fresh,
                               BeginClientWrite(db, batch.experiment_id, batch.from, "console", NowMicros(), ack));
        if (!fresh) return Status::Ok();
        Result<std::optional<int64_t>> last =
            sql::QueryInt(db, "SELECT coalesce(max(line_no), 0) FROM console WHERE experiment_id=?", batch.experiment_id);
        if (!last.ok()) return last.status();
        int64_t line_no = last->value_or(0);
        int64_t bytes = 0;
        for (const ConsoleLine& l : batch.lines) bytes += static_cast<int64_t>(l.text.size());
        LOUPE_RETURN_IF_ERROR(AddUsage(db, batch.experiment_id, "console_bytes", bytes,
                                       options_.quotas.max_console_bytes_per_experiment, "console text",
                                       "--max-console-mb"));
        for (const ConsoleLine& l : batch.lines) {
          LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO console VALUES(?,?,?,?,?)", batch.experiment_id, ++line_no,
                                          l.stream, l.ts, l.text));
        }
        return Status::Ok();
      },
      batch.lines.size() + 1);
  if (!st.ok()) return st;
  return ack;
}

Result<WriteAck> SqliteStore::AddMedia(const MediaItem& item) {
  WriteAck ack;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(bool fresh, BeginClientWrite(db, item.experiment_id, item.from, "media", item.ts, ack));
    if (!fresh) return Status::Ok();
    LOUPE_ASSIGN_OR_RETURN(int64_t base, StepBase(db, item.experiment_id, item.from));
    LOUPE_RETURN_IF_ERROR(CheckRebasedStep(item.step, base));
    const int64_t step = item.step + base;
    LOUPE_RETURN_IF_ERROR(AddUsage(db, item.experiment_id, "media_bytes", item.bytes,
                                   options_.quotas.max_media_bytes_per_experiment, "media", "--max-media-mb"));
    std::string type = MediaSeriesType(item.content_type);
    LOUPE_ASSIGN_OR_RETURN(int64_t series, series_writer_.EnsureSeries(db, item.experiment_id, item.key, type));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                    "INSERT INTO media(experiment_id, key, step, filename, content_type, ts, caption) "
                                    "VALUES(?,?,?,?,?,?,?)",
                                    item.experiment_id, item.key, step, item.filename, item.content_type, item.ts,
                                    item.caption));
    return series_writer_.TouchMediaSeries(db, series, step, item.ts);
  });
  if (!st.ok()) return st;
  return ack;
}

}  // namespace loupe
