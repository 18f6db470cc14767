// SqliteStore: artifacts (manifests, aliases, lineage) and the model registry.
#include <algorithm>
#include <map>
#include <sstream>

#include "store/sql.h"
#include "store/sqlite_store.h"

namespace loupe {

namespace {

// "latest", "v<N>" or an alias; the version number, or nullopt for an alias.
struct Selector {
  bool latest = false;
  std::optional<int64_t> version;
  std::string alias;
};

Selector ParseSelector(const std::string& s) {
  Selector out;
  if (s == "latest") {
    out.latest = true;
  } else if (s.size() >= 2 && s.size() <= 12 && s[0] == 'v' &&
             std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    out.version = std::stoll(s.substr(1));
  } else {
    out.alias = s;
  }
  return out;
}

std::string JoinChunks(const std::vector<std::string>& chunks) {
  std::string out;
  for (const std::string& c : chunks) {
    if (!out.empty()) out += ' ';
    out += c;
  }
  return out;
}

std::vector<std::string> SplitChunks(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string c; in >> c;) out.push_back(c);
  return out;
}

constexpr const char* kVersionColumns =
    "v.id, v.artifact_id, a.name, a.type, v.version, v.digest, v.size, v.file_count, v.description, v.metadata, "
    "v.experiment_id, e.name, e.project_id, v.create_time, v.created_by";
constexpr const char* kVersionFrom =
    " FROM artifact_versions v JOIN artifacts a ON a.id=v.artifact_id LEFT JOIN experiments e ON e.id=v.experiment_id";

ArtifactVersion VersionFromRow(const sql::Rows& q) {
  ArtifactVersion v;
  v.id = q.Int(0);
  v.artifact_id = q.Int(1);
  v.name = q.Text(2);
  v.type = q.Text(3);
  v.version = q.Int(4);
  v.digest = q.Text(5);
  v.size = q.Int(6);
  v.file_count = q.Int(7);
  v.description = q.Text(8);
  v.metadata_json = q.Text(9);
  if (!q.IsNull(10)) {
    RunRef r;
    r.id = q.Int(10);
    r.name = q.IsNull(11) ? "" : q.Text(11);
    r.project_id = q.IsNull(12) ? 0 : q.Int(12);
    r.time = q.Int(13);
    v.produced_by = r;
  }
  v.create_time = q.Int(13);
  v.created_by = q.Text(14);
  return v;
}

// Fills each version's aliases, "latest" first where it is the artifact's newest.
Status FillAliases(SqliteDb& db, std::vector<ArtifactVersion>& versions) {
  // Per artifact, once: its newest version and every alias (a list of 10,000 versions
  // costs two queries, not one per version).
  struct Known {
    std::optional<int64_t> newest;
    std::map<int64_t, std::vector<std::string>> aliases;  // version id -> aliases, sorted
  };
  std::map<int64_t, Known> of;
  for (ArtifactVersion& v : versions) {
    auto it = of.find(v.artifact_id);
    if (it == of.end()) {
      Known k;
      LOUPE_ASSIGN_OR_RETURN(k.newest, sql::QueryInt(db, "SELECT max(version) FROM artifact_versions WHERE artifact_id=?",
                                                     v.artifact_id));
      sql::Rows q(db, "SELECT version_id, alias FROM artifact_aliases WHERE artifact_id=? ORDER BY alias", v.artifact_id);
      while (q.Next()) k.aliases[q.Int(0)].push_back(q.Text(1));
      LOUPE_RETURN_IF_ERROR(q.status());
      it = of.emplace(v.artifact_id, std::move(k)).first;
    }
    v.aliases.clear();
    if (it->second.newest && *it->second.newest == v.version) v.aliases.push_back("latest");
    if (auto a = it->second.aliases.find(v.id); a != it->second.aliases.end()) {
      v.aliases.insert(v.aliases.end(), a->second.begin(), a->second.end());
    }
  }
  return Status::Ok();
}

Result<ArtifactVersion> VersionById(SqliteDb& db, int64_t id) {
  std::vector<ArtifactVersion> out;
  {
    sql::Rows q(db, std::string("SELECT ") + kVersionColumns + kVersionFrom + " WHERE v.id=?", id);
    if (q.Next()) out.push_back(VersionFromRow(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  if (out.empty()) return Status::NotFound("artifact version " + std::to_string(id) + " not found");
  LOUPE_RETURN_IF_ERROR(FillAliases(db, out));
  return out[0];
}

Result<int64_t> ArtifactIdByName(SqliteDb& db, const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> id, sql::QueryInt(db, "SELECT id FROM artifacts WHERE name=?", name));
  if (!id) return Status::NotFound("no artifact named '" + name + "'");
  return *id;
}

Result<ArtifactVersion> ResolveVersion(SqliteDb& db, const std::string& name, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(int64_t artifact, ArtifactIdByName(db, name));
  Selector sel = ParseSelector(selector);
  std::optional<int64_t> id;
  if (sel.latest) {
    LOUPE_ASSIGN_OR_RETURN(id, sql::QueryInt(db,
                                             "SELECT id FROM artifact_versions WHERE artifact_id=? "
                                             "ORDER BY version DESC LIMIT 1",
                                             artifact));
  } else if (sel.version) {
    LOUPE_ASSIGN_OR_RETURN(
        id, sql::QueryInt(db, "SELECT id FROM artifact_versions WHERE artifact_id=? AND version=?", artifact, *sel.version));
  } else {
    LOUPE_ASSIGN_OR_RETURN(
        id, sql::QueryInt(db, "SELECT version_id FROM artifact_aliases WHERE artifact_id=? AND alias=?", artifact, sel.alias));
  }
  if (!id) return Status::NotFound("artifact '" + name + "' has no version '" + selector + "'");
  return VersionById(db, *id);
}

// Points `alias` of the artifact at `version_id`, moving it from wherever it was.
Status PutArtifactAlias(SqliteDb& db, int64_t artifact_id, const std::string& alias, int64_t version_id) {
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM artifact_aliases WHERE artifact_id=? AND alias=?", artifact_id, alias));
  return sql::Exec(db, "INSERT INTO artifact_aliases(artifact_id, alias, version_id) VALUES(?, ?, ?)", artifact_id, alias,
                   version_id);
}

// ---- Registry ----

Result<int64_t> ModelIdByName(SqliteDb& db, const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> id,
                         sql::QueryInt(db, "SELECT id FROM registered_models WHERE name=?", name));
  if (!id) return Status::NotFound("no registered model named '" + name + "'");
  return *id;
}

Result<std::vector<ModelVersion>> ModelVersionsWhere(SqliteDb& db, const std::string& where, int64_t arg,
                                                     std::optional<int64_t> arg2 = std::nullopt) {
  std::vector<ModelVersion> out;
  std::vector<int64_t> artifact_ids;
  {
    std::string q_sql =
        "SELECT mv.id, m.name, mv.version, mv.description, mv.create_time, mv.created_by, mv.artifact_version_id "
        "FROM model_versions mv JOIN registered_models m ON m.id=mv.model_id WHERE " +
        where + " ORDER BY mv.version DESC";
    auto read = [&](sql::Rows& q) -> Status {
      while (q.Next()) {
        ModelVersion mv;
        mv.id = q.Int(0);
        mv.model = q.Text(1);
        mv.version = q.Int(2);
        mv.description = q.Text(3);
        mv.create_time = q.Int(4);
        mv.created_by = q.Text(5);
        artifact_ids.push_back(q.Int(6));
        out.push_back(std::move(mv));
      }
      return q.status();
    };
    if (arg2) {
      sql::Rows q(db, q_sql, arg, *arg2);
      LOUPE_RETURN_IF_ERROR(read(q));
    } else {
      sql::Rows q(db, q_sql, arg);
      LOUPE_RETURN_IF_ERROR(read(q));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    LOUPE_ASSIGN_OR_RETURN(out[i].artifact, VersionById(db, artifact_ids[i]));
    sql::Rows q(db, "SELECT alias FROM model_aliases WHERE model_version_id=? ORDER BY alias", out[i].id);
    while (q.Next()) out[i].aliases.push_back(q.Text(0));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  // "latest" for the newest version of each model (lists hold one model's versions).
  if (!out.empty()) {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> newest,
                           sql::QueryInt(db,
                                         "SELECT max(version) FROM model_versions WHERE model_id="
                                         "(SELECT id FROM registered_models WHERE name=?)",
                                         out[0].model));
    for (ModelVersion& mv : out) {
      if (newest && mv.version == *newest) mv.aliases.insert(mv.aliases.begin(), "latest");
    }
  }
  return out;
}

Result<ModelVersion> ResolveModel(SqliteDb& db, const std::string& model, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(db, model));
  Selector sel = ParseSelector(selector);
  std::optional<int64_t> id;
  if (sel.latest) {
    LOUPE_ASSIGN_OR_RETURN(
        id, sql::QueryInt(db, "SELECT id FROM model_versions WHERE model_id=? ORDER BY version DESC LIMIT 1", model_id));
  } else if (sel.version) {
    LOUPE_ASSIGN_OR_RETURN(
        id, sql::QueryInt(db, "SELECT id FROM model_versions WHERE model_id=? AND version=?", model_id, *sel.version));
  } else {
    LOUPE_ASSIGN_OR_RETURN(id, sql::QueryInt(db, "SELECT model_version_id FROM model_aliases WHERE model_id=? AND alias=?",
                                             model_id, sel.alias));
  }
  if (!id) return Status::NotFound("model '" + model + "' has no version '" + selector + "'");
  LOUPE_ASSIGN_OR_RETURN(std::vector<ModelVersion> found, ModelVersionsWhere(db, "mv.id=?", *id));
  if (found.empty()) return Status::NotFound("model '" + model + "' has no version '" + selector + "'");
  return found[0];
}

Status PutModelAlias(SqliteDb& db, int64_t model_id, const std::string& alias, int64_t model_version_id) {
  LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM model_aliases WHERE model_id=? AND alias=?", model_id, alias));
  return sql::Exec(db, "INSERT INTO model_aliases(model_id, alias, model_version_id) VALUES(?, ?, ?)", model_id, alias,
                   model_version_id);
}

}  // namespace

Result<CreatedArtifactVersion> SqliteStore::CreateArtifactVersion(const NewArtifactVersion& v, int64_t max_versions) {
  CreatedArtifactVersion out;
  Status st = Write([&](SqliteDb& db) -> Status {
    if (v.experiment_id) {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> e,
                             sql::QueryInt(db, "SELECT 1 FROM experiments WHERE id=?", *v.experiment_id));
      if (!e) return Status::NotFound("experiment " + std::to_string(*v.experiment_id) + " not found");
    }
    std::optional<int64_t> artifact;
    {
      sql::Rows q(db, "SELECT id, type FROM artifacts WHERE name=?", v.name);
      if (q.Next()) {
        if (q.Text(1) != v.type) {
          return Status::Conflict("artifact '" + v.name + "' holds type '" + q.Text(1) + "', not '" + v.type +
                                  "'; use another name or the same type");
        }
        artifact = q.Int(0);
      }
      LOUPE_RETURN_IF_ERROR(q.status());
    }
    if (!artifact) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "INSERT INTO artifacts(name, type, next_version, create_time) VALUES(?, ?, 0, ?)",
                                      v.name, v.type, v.time));
      artifact = db.LastInsertId();
    }
    // A checkpoint is a point in training: the same weights saved at another step (a model
    // that has converged) are a new version with their own step; only a retry of the same
    // save (same files, same metadata) finds the version it made.
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> same,
                           sql::QueryInt(db,
                                         "SELECT id FROM artifact_versions WHERE artifact_id=? AND digest=? "
                                         "AND (? <> 'checkpoint' OR metadata=?) ORDER BY version DESC LIMIT 1",
                                         *artifact, v.digest, v.type, v.metadata_json));
    int64_t version_id = 0;
    if (same) {
      version_id = *same;
    } else {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> count,
                             sql::QueryInt(db, "SELECT count(*) FROM artifact_versions WHERE artifact_id=?", *artifact));
      if (max_versions > 0 && count.value_or(0) >= max_versions) {
        return Status::TooLarge("artifact '" + v.name + "' holds its maximum of " + std::to_string(max_versions) +
                               " versions; delete old ones first");
      }
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> next,
                             sql::QueryInt(db, "SELECT next_version FROM artifacts WHERE id=?", *artifact));
      LOUPE_RETURN_IF_ERROR(sql::Exec(db, "UPDATE artifacts SET next_version=? WHERE id=?", next.value_or(0) + 1, *artifact));
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "INSERT INTO artifact_versions(artifact_id, version, digest, size, file_count, "
                                      "description, metadata, experiment_id, create_time, created_by) "
                                      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      *artifact, next.value_or(0), v.digest, v.size,
                                      static_cast<int64_t>(v.files.size()), v.description, v.metadata_json,
                                      v.experiment_id, v.time, v.created_by));
      version_id = db.LastInsertId();
      for (const ArtifactFile& f : v.files) {
        LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                        "INSERT INTO artifact_files(version_id, path, size, sha256, chunks) "
                                        "VALUES(?, ?, ?, ?, ?)",
                                        version_id, f.path, f.size, f.sha256, JoinChunks(f.chunks)));
      }
    }
    for (const std::string& alias : v.aliases) LOUPE_RETURN_IF_ERROR(PutArtifactAlias(db, *artifact, alias, version_id));
    LOUPE_ASSIGN_OR_RETURN(out.version, VersionById(db, version_id));
    out.created = !same;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<ArtifactSummary>> SqliteStore::ListArtifacts() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT a.id, a.name, a.type, count(v.id), max(v.version), max(v.create_time) FROM artifacts a "
              "JOIN artifact_versions v ON v.artifact_id=a.id GROUP BY a.id, a.name, a.type "
              "ORDER BY max(v.create_time) DESC, a.id DESC");
  std::vector<ArtifactSummary> out;
  while (q.Next()) {
    ArtifactSummary s;
    s.id = q.Int(0);
    s.name = q.Text(1);
    s.type = q.Text(2);
    s.version_count = q.Int(3);
    s.latest_version = q.Int(4);
    s.update_time = q.Int(5);
    out.push_back(std::move(s));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  for (ArtifactSummary& s : out) {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> size,
                           sql::QueryInt(r.db(), "SELECT size FROM artifact_versions WHERE artifact_id=? AND version=?",
                                         s.id, s.latest_version));
    s.latest_size = size.value_or(0);
  }
  return out;
}

Result<std::vector<ArtifactVersion>> SqliteStore::ListArtifactVersions(const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(int64_t artifact, ArtifactIdByName(r.db(), name));
  std::vector<ArtifactVersion> out;
  {
    sql::Rows q(r.db(), std::string("SELECT ") + kVersionColumns + kVersionFrom + " WHERE v.artifact_id=? ORDER BY v.version DESC",
                artifact);
    while (q.Next()) out.push_back(VersionFromRow(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  LOUPE_RETURN_IF_ERROR(FillAliases(r.db(), out));
  return out;
}

Result<ArtifactVersion> SqliteStore::GetArtifactVersion(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return VersionById(r.db(), id);
}

Result<ArtifactVersion> SqliteStore::ResolveArtifactVersion(const std::string& name, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return ResolveVersion(r.db(), name, selector);
}

Result<std::vector<ArtifactFile>> SqliteStore::ListArtifactFiles(int64_t version_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT path, size, sha256, chunks FROM artifact_files WHERE version_id=? ORDER BY path", version_id);
  std::vector<ArtifactFile> out;
  while (q.Next()) out.push_back({q.Text(0), q.Int(1), q.Text(2), SplitChunks(q.Text(3))});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Status SqliteStore::AddArtifactAlias(int64_t version_id, const std::string& alias) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> artifact,
                           sql::QueryInt(db, "SELECT artifact_id FROM artifact_versions WHERE id=?", version_id));
    if (!artifact) return Status::NotFound("artifact version " + std::to_string(version_id) + " not found");
    return PutArtifactAlias(db, *artifact, alias, version_id);
  });
}

Status SqliteStore::RemoveArtifactAlias(int64_t version_id, const std::string& alias) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM artifact_aliases WHERE version_id=? AND alias=?", version_id, alias));
    if (db.Changes() == 0) {
      return Status::NotFound("artifact version " + std::to_string(version_id) + " has no alias '" + alias + "'");
    }
    return Status::Ok();
  });
}

Status SqliteStore::RecordArtifactUse(int64_t version_id, int64_t experiment_id, int64_t time) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> v, sql::QueryInt(db, "SELECT 1 FROM artifact_versions WHERE id=?", version_id));
    if (!v) return Status::NotFound("artifact version " + std::to_string(version_id) + " not found");
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> e, sql::QueryInt(db, "SELECT 1 FROM experiments WHERE id=?", experiment_id));
    if (!e) return Status::NotFound("experiment " + std::to_string(experiment_id) + " not found");
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> had,
                           sql::QueryInt(db, "SELECT 1 FROM artifact_usage WHERE version_id=? AND experiment_id=?",
                                         version_id, experiment_id));
    if (had) return Status::Ok();
    return sql::Exec(db, "INSERT INTO artifact_usage(version_id, experiment_id, use_time) VALUES(?, ?, ?)", version_id,
                     experiment_id, time);
  });
}

Result<std::vector<RunRef>> SqliteStore::ArtifactVersionUsers(int64_t version_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  // A deleted run used nothing any more: only runs that still exist are listed.
  sql::Rows q(r.db(),
              "SELECT u.experiment_id, e.name, e.project_id, u.use_time FROM artifact_usage u "
              "JOIN experiments e ON e.id=u.experiment_id WHERE u.version_id=? ORDER BY u.use_time, u.experiment_id",
              version_id);
  std::vector<RunRef> out;
  while (q.Next()) out.push_back({q.Int(0), q.Text(1), q.Int(2), q.Int(3)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

Result<RunArtifacts> SqliteStore::ArtifactsOfRun(int64_t experiment_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  RunArtifacts out;
  {
    sql::Rows q(r.db(), std::string("SELECT ") + kVersionColumns + kVersionFrom + " WHERE v.experiment_id=? ORDER BY v.id",
                experiment_id);
    while (q.Next()) out.produced.push_back(VersionFromRow(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  {
    sql::Rows q(r.db(),
                std::string("SELECT ") + kVersionColumns + kVersionFrom +
                    " JOIN artifact_usage u ON u.version_id=v.id WHERE u.experiment_id=? ORDER BY u.use_time, v.id",
                experiment_id);
    while (q.Next()) out.used.push_back(VersionFromRow(q));
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  LOUPE_RETURN_IF_ERROR(FillAliases(r.db(), out.produced));
  LOUPE_RETURN_IF_ERROR(FillAliases(r.db(), out.used));
  return out;
}

Status SqliteStore::DeleteArtifactVersion(int64_t version_id) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> artifact,
                           sql::QueryInt(db, "SELECT artifact_id FROM artifact_versions WHERE id=?", version_id));
    if (!artifact) return Status::NotFound("artifact version " + std::to_string(version_id) + " not found");
    std::string models;
    {
      sql::Rows q(db,
                  "SELECT m.name, mv.version FROM model_versions mv JOIN registered_models m ON m.id=mv.model_id "
                  "WHERE mv.artifact_version_id=? ORDER BY m.name, mv.version",
                  version_id);
      while (q.Next()) models += (models.empty() ? "" : ", ") + q.Text(0) + ":v" + std::to_string(q.Int(1));
      LOUPE_RETURN_IF_ERROR(q.status());
    }
    if (!models.empty()) {
      return Status::Conflict("this artifact version is registered as " + models +
                              "; delete those model versions first");
    }
    // The artifact's row stays, also without versions: it holds next_version, so "name:v0"
    // never comes to mean other content.
    return sql::Exec(db, "DELETE FROM artifact_versions WHERE id=?", version_id);
  });
}

Result<std::vector<std::string>> SqliteStore::ReferencedChunks() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(), "SELECT DISTINCT chunks FROM artifact_files");
  std::vector<std::string> out;
  while (q.Next()) {
    for (std::string& c : SplitChunks(q.Text(0))) out.push_back(std::move(c));
  }
  LOUPE_RETURN_IF_ERROR(q.status());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---- Registry ----------------------------------------------------------------------

Result<ModelVersion> SqliteStore::RegisterModelVersion(const std::string& model, int64_t artifact_version_id,
                                                       const std::string& description,
                                                       const std::vector<std::string>& aliases, int64_t time,
                                                       const std::string& created_by) {
  ModelVersion out;
  Status st = Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> av,
                           sql::QueryInt(db, "SELECT 1 FROM artifact_versions WHERE id=?", artifact_version_id));
    if (!av) return Status::NotFound("artifact version " + std::to_string(artifact_version_id) + " not found");
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> model_id,
                           sql::QueryInt(db, "SELECT id FROM registered_models WHERE name=?", model));
    if (!model_id) {
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "INSERT INTO registered_models(name, description, next_version, create_time, "
                                      "update_time) VALUES(?, '', 0, ?, ?)",
                                      model, time, time));
      model_id = db.LastInsertId();
    }
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> existing,
                           sql::QueryInt(db, "SELECT id FROM model_versions WHERE model_id=? AND artifact_version_id=?",
                                         *model_id, artifact_version_id));
    int64_t mv_id = 0;
    if (existing) {
      mv_id = *existing;
    } else {
      LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> next,
                             sql::QueryInt(db, "SELECT next_version FROM registered_models WHERE id=?", *model_id));
      LOUPE_RETURN_IF_ERROR(sql::Exec(db,
                                      "INSERT INTO model_versions(model_id, version, artifact_version_id, description, "
                                      "create_time, created_by) VALUES(?, ?, ?, ?, ?, ?)",
                                      *model_id, next.value_or(0), artifact_version_id, description, time, created_by));
      mv_id = db.LastInsertId();
      LOUPE_RETURN_IF_ERROR(
          sql::Exec(db, "UPDATE registered_models SET next_version=?, update_time=? WHERE id=?", next.value_or(0) + 1,
                    time, *model_id));
    }
    for (const std::string& alias : aliases) LOUPE_RETURN_IF_ERROR(PutModelAlias(db, *model_id, alias, mv_id));
    LOUPE_ASSIGN_OR_RETURN(std::vector<ModelVersion> found, ModelVersionsWhere(db, "mv.id=?", mv_id));
    if (found.empty()) return Status::Internal("the registered model version vanished");
    out = std::move(found[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

namespace {
Result<std::vector<RegisteredModel>> ModelsWhere(SqliteDb& db, const std::string& where, const std::string& arg) {
  std::vector<RegisteredModel> out;
  {
    const std::string q_sql =
        "SELECT m.id, m.name, m.description, m.create_time, m.update_time, "
        "(SELECT count(*) FROM model_versions mv WHERE mv.model_id=m.id) FROM registered_models m " +
        where + " ORDER BY m.update_time DESC, m.id DESC";
    auto read = [&](sql::Rows& q) -> Status {
      while (q.Next()) {
        RegisteredModel m;
        m.id = q.Int(0);
        m.name = q.Text(1);
        m.description = q.Text(2);
        m.create_time = q.Int(3);
        m.update_time = q.Int(4);
        m.version_count = q.Int(5);
        out.push_back(std::move(m));
      }
      return q.status();
    };
    if (arg.empty()) {
      sql::Rows q(db, q_sql);
      LOUPE_RETURN_IF_ERROR(read(q));
    } else {
      sql::Rows q(db, q_sql, arg);
      LOUPE_RETURN_IF_ERROR(read(q));
    }
  }
  for (RegisteredModel& m : out) {
    sql::Rows q(db,
                "SELECT a.alias, mv.version FROM model_aliases a JOIN model_versions mv ON mv.id=a.model_version_id "
                "WHERE a.model_id=? ORDER BY a.alias",
                m.id);
    while (q.Next()) m.aliases.push_back({q.Text(0), q.Int(1)});
    LOUPE_RETURN_IF_ERROR(q.status());
  }
  return out;
}
}  // namespace

Result<std::vector<RegisteredModel>> SqliteStore::ListModels() {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return ModelsWhere(r.db(), "", "");
}

Result<RegisteredModel> SqliteStore::GetModel(const std::string& name) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> found, ModelsWhere(r.db(), "WHERE m.name=?", name));
  if (found.empty()) return Status::NotFound("no registered model named '" + name + "'");
  return found[0];
}

Result<std::vector<ModelVersion>> SqliteStore::ListModelVersions(const std::string& model) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(r.db(), model));
  return ModelVersionsWhere(r.db(), "mv.model_id=?", model_id);
}

Result<ModelVersion> SqliteStore::ResolveModelVersion(const std::string& model, const std::string& selector) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  return ResolveModel(r.db(), model, selector);
}

Status SqliteStore::SetModelAlias(const std::string& model, const std::string& alias, int64_t version, int64_t time) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(db, model));
    LOUPE_ASSIGN_OR_RETURN(std::optional<int64_t> mv,
                           sql::QueryInt(db, "SELECT id FROM model_versions WHERE model_id=? AND version=?", model_id, version));
    if (!mv) return Status::NotFound("model '" + model + "' has no version v" + std::to_string(version));
    LOUPE_RETURN_IF_ERROR(PutModelAlias(db, model_id, alias, *mv));
    return sql::Exec(db, "UPDATE registered_models SET update_time=? WHERE id=?", time, model_id);
  });
}

Status SqliteStore::RemoveModelAlias(const std::string& model, const std::string& alias) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(db, model));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM model_aliases WHERE model_id=? AND alias=?", model_id, alias));
    if (db.Changes() == 0) return Status::NotFound("model '" + model + "' has no alias '" + alias + "'");
    return Status::Ok();
  });
}

Status SqliteStore::UpdateModelDescription(const std::string& model, const std::string& description, int64_t time) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(db, model));
    return sql::Exec(db, "UPDATE registered_models SET description=?, update_time=? WHERE id=?", description, time,
                     model_id);
  });
}

Status SqliteStore::DeleteModelVersion(const std::string& model, int64_t version) {
  return Write([&](SqliteDb& db) -> Status {
    LOUPE_ASSIGN_OR_RETURN(int64_t model_id, ModelIdByName(db, model));
    LOUPE_RETURN_IF_ERROR(sql::Exec(db, "DELETE FROM model_versions WHERE model_id=? AND version=?", model_id, version));
    if (db.Changes() == 0) return Status::NotFound("model '" + model + "' has no version v" + std::to_string(version));
    // The model stays, also without versions: its next_version keeps numbers from being reused.
    return Status::Ok();
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::RegistrationsOf(int64_t artifact_version_id) {
  LOUPE_ASSIGN_OR_RETURN(Reader r, Borrow());
  sql::Rows q(r.db(),
              "SELECT m.name, mv.version FROM model_versions mv JOIN registered_models m ON m.id=mv.model_id "
              "WHERE mv.artifact_version_id=? ORDER BY m.name, mv.version",
              artifact_version_id);
  std::vector<std::pair<std::string, int64_t>> out;
  while (q.Next()) out.push_back({q.Text(0), q.Int(1)});
  LOUPE_RETURN_IF_ERROR(q.status());
  return out;
}

}  // namespace loupe
