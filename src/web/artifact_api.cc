// Artifacts and the model registry over HTTP: the three-step upload (missing blobs,
// blobs, commit), versions, aliases, lineage, downloads (a blob, a file, a zip), and
// registered models with their versions and aliases.
#include <nlohmann/json.hpp>

#include "artifacts/artifact_rules.h"
#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using artifacts::ArtifactService;
using nlohmann::json;

constexpr size_t kMaxManifestBytes = size_t{32} << 20;  // 100,000 files with long paths
constexpr size_t kMaxSmallBody = size_t{1} << 20;

json RunRefJson(const std::optional<RunRef>& r) {
  if (!r) return nullptr;
  return {{"id", r->id},
          {"name", r->name.empty() ? json(nullptr) : json(r->name)},
          {"project_id", r->project_id ? json(r->project_id) : json(nullptr)},
          {"deleted", r->name.empty() && r->project_id == 0},
          {"time", FormatIsoMicros(r->time)}};
}

json VersionJson(const ArtifactVersion& v) {
  return {{"id", v.id},
          {"name", v.name},
          {"type", v.type},
          {"version", v.version},
          {"ref", v.name + ":v" + std::to_string(v.version)},
          {"digest", v.digest},
          {"size", v.size},
          {"file_count", v.file_count},
          {"description", v.description},
          {"metadata", StoredJson(v.metadata_json)},
          {"aliases", v.aliases},
          {"produced_by", RunRefJson(v.produced_by)},
          {"create_time", FormatIsoMicros(v.create_time)},
          {"created_by", v.created_by}};
}

json FileJson(const ArtifactFile& f) {
  return {{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}, {"chunks", f.chunks}};
}

json DetailJson(const artifacts::VersionDetail& d) {
  json out = VersionJson(d.version);
  json files = json::array();
  for (const ArtifactFile& f : d.files) files.push_back(FileJson(f));
  out["files"] = std::move(files);
  json users = json::array();
  for (const RunRef& r : d.used_by) users.push_back(RunRefJson(r));
  out["used_by"] = std::move(users);
  json reg = json::array();
  for (const auto& [model, version] : d.registered_as) {
    reg.push_back({{"model", model}, {"version", version}, {"ref", model + ":v" + std::to_string(version)}});
  }
  out["registered_as"] = std::move(reg);
  return out;
}

json ModelVersionJson(const ModelVersion& mv) {
  return {{"id", mv.id},
          {"model", mv.model},
          {"version", mv.version},
          {"ref", mv.model + ":v" + std::to_string(mv.version)},
          {"description", mv.description},
          {"aliases", mv.aliases},
          {"artifact", VersionJson(mv.artifact)},
          {"create_time", FormatIsoMicros(mv.create_time)},
          {"created_by", mv.created_by}};
}

json ModelJson(const RegisteredModel& m) {
  json aliases = json::object();
  for (const auto& [alias, version] : m.aliases) aliases[alias] = version;
  return {{"id", m.id},
          {"name", m.name},
          {"description", m.description},
          {"version_count", m.version_count},
          {"aliases", aliases},
          {"create_time", FormatIsoMicros(m.create_time)},
          {"update_time", FormatIsoMicros(m.update_time)}};
}

// Reads an optional string field; `err` set on a wrong type.
Result<std::string> StringField(const json& body, const char* field, bool required) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string(field) + " is required");
    return std::string();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string(field) + " must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringList(const json& body, const char* field, size_t max) {
  std::vector<std::string> out;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return Status::InvalidArgument(std::string(field) + " must be an array of strings");
  if (it->size() > max) {
    return Status::InvalidArgument(std::string(field) + " holds at most " + std::to_string(max) + " entries; got " +
                                   std::to_string(it->size()));
  }
  for (const json& s : *it) {
    if (!s.is_string()) return Status::InvalidArgument(std::string(field) + " must be an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<int64_t> IntField(const json& v, const std::string& what) {
  if (!v.is_number_integer()) return Status::InvalidArgument(what + " must be an integer");
  return v.get<int64_t>();
}

Result<NewArtifactVersion> ParseCommit(const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(json body, ParseJsonObject(req, kMaxManifestBytes));
  NewArtifactVersion v;
  LOUPE_ASSIGN_OR_RETURN(v.name, StringField(body, "name", true));
  LOUPE_ASSIGN_OR_RETURN(v.type, StringField(body, "type", true));
  LOUPE_ASSIGN_OR_RETURN(v.description, StringField(body, "description", false));
  LOUPE_ASSIGN_OR_RETURN(v.aliases, StringList(body, "aliases", artifacts::kMaxAliases));
  if (auto m = body.find("metadata"); m != body.end() && !m->is_null()) {
    if (!m->is_object()) return Status::InvalidArgument("metadata must be a JSON object");
    v.metadata_json = m->dump();
  }
  if (auto e = body.find("experiment_id"); e != body.end() && !e->is_null()) {
    LOUPE_ASSIGN_OR_RETURN(int64_t id, IntField(*e, "experiment_id"));
    v.experiment_id = id;
  }
  auto files = body.find("files");
  if (files == body.end() || !files->is_array()) {
    return Status::InvalidArgument("files must be an array of {path, size, sha256, chunks}");
  }
  if (files->size() > artifacts::kMaxFilesPerVersion) {
    return Status::InvalidArgument("an artifact version holds at most " + std::to_string(artifacts::kMaxFilesPerVersion) +
                                   " files; got " + std::to_string(files->size()));
  }
  for (const json& f : *files) {
    if (!f.is_object()) return Status::InvalidArgument("each file must be an object {path, size, sha256, chunks}");
    ArtifactFile file;
    LOUPE_ASSIGN_OR_RETURN(file.path, StringField(f, "path", true));
    if (!f.contains("size")) return Status::InvalidArgument("file '" + file.path.substr(0, 200) + "': size is required");
    LOUPE_ASSIGN_OR_RETURN(file.size, IntField(f["size"], "file size"));
    LOUPE_ASSIGN_OR_RETURN(file.sha256, StringField(f, "sha256", true));
    LOUPE_ASSIGN_OR_RETURN(file.chunks, StringList(f, "chunks", 1 << 16));
    if (file.chunks.empty()) file.chunks.push_back(file.sha256);  // a file of one chunk may leave them out
    v.files.push_back(std::move(file));
  }
  v.created_by = req.caller.user;
  return v;
}

// `:name` and `:selector` of the path as a version.
Result<ArtifactVersion> PathVersion(ArtifactService& a, const HttpRequest& req) {
  const std::string* name = req.Param("name");
  const std::string* sel = req.Param("selector");
  return a.Resolve(name ? *name : "", sel ? *sel : "latest");
}

// RFC 6266 filename for a download: ASCII letters, digits and ._- as they are, the
// rest percent-encoded in filename*.
std::string Disposition(const std::string& name) {
  std::string plain, encoded;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    plain += safe ? static_cast<char>(c) : '_';
    if (safe) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return "attachment; filename=\"" + plain + "\"; filename*=UTF-8''" + encoded;
}

HttpResponse SendFile(const std::string& path, const std::string& download_name) {
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.file_path = path;
  r.headers.push_back({"Content-Disposition", Disposition(download_name)});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Cache-Control", "private, max-age=86400, immutable"});
  return r;
}

Result<int64_t> VersionNumber(const std::string* text) {
  std::string t = text ? *text : "";
  if (!t.empty() && t[0] == 'v') t = t.substr(1);
  return ParseId(&t, "version");
}

void AddArtifactRoutes(ArtifactService& a, std::vector<Route>& r) {
  r.push_back(ReadingPost({"POST", "/api/v1/artifact-blobs/missing", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxManifestBytes));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<std::string> digests,
                            StringList(body, "digests", artifacts::kMaxDigestsPerQuery));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<std::string> missing, a.MissingBlobs(digests));
    return JsonOk({{"missing", missing}});
  }}));
  r.push_back(NotAudited(Offload({"PUT", "/api/v1/artifact-blobs/:digest", [&a](const HttpRequest& req) {
    const std::string* d = req.Param("digest");
    if (Status st = a.PutBlob(d ? *d : "", req.body); !st.ok()) return JsonError(st);
    return JsonOk({{"digest", *d}, {"size", req.body.size()}});
  }})));
  r.push_back({"GET", "/api/v1/artifact-blobs/:digest", [&a](const HttpRequest& req) {
    const std::string* d = req.Param("digest");
    LOUPE_ASSIGN_OR_RESPOND(std::string path, a.BlobPath(d ? *d : ""));
    return SendFile(path, *d);
  }});
  r.push_back(Offload({"POST", "/api/v1/artifact-versions", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(NewArtifactVersion v, ParseCommit(req));
    LOUPE_ASSIGN_OR_RESPOND(CreatedArtifactVersion c, a.CommitVersion(std::move(v)));
    json out = VersionJson(c.version);
    out["created"] = c.created;
    HttpResponse resp = JsonOk(out);
    if (c.created) resp.status = 201;
    return resp;
  }}));
  r.push_back({"GET", "/api/v1/artifacts", [&a](const HttpRequest&) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<ArtifactSummary> all, a.List());
    json out = json::array();
    for (const ArtifactSummary& s : all) {
      out.push_back({{"id", s.id}, {"name", s.name}, {"type", s.type}, {"version_count", s.version_count},
                     {"latest_version", s.latest_version}, {"latest_size", s.latest_size},
                     {"update_time", FormatIsoMicros(s.update_time)}});
    }
    return JsonOk({{"artifacts", out}});
  }});
  r.push_back({"GET", "/api/v1/artifacts/:name", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<ArtifactVersion> versions, a.Versions(*req.Param("name")));
    json out = json::array();
    for (const ArtifactVersion& v : versions) out.push_back(VersionJson(v));
    return JsonOk({{"name", *req.Param("name")}, {"type", versions.empty() ? "" : versions[0].type}, {"versions", out}});
  }});
  r.push_back({"GET", "/api/v1/artifacts/:name/:selector", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, PathVersion(a, req));
    LOUPE_ASSIGN_OR_RESPOND(artifacts::VersionDetail d, a.Detail(v.id));
    return JsonOk(DetailJson(d));
  }});
  // A run used this version: lineage, and the manifest to download it by.
  r.push_back(NotAudited({"POST", "/api/v1/artifacts/:name/:selector/use", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    auto e = body.find("experiment_id");
    if (e == body.end()) return JsonError(Status::InvalidArgument("experiment_id is required"));
    LOUPE_ASSIGN_OR_RESPOND(int64_t experiment, IntField(*e, "experiment_id"));
    LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, PathVersion(a, req));
    LOUPE_ASSIGN_OR_RESPOND(artifacts::VersionDetail d, a.Use(v.id, experiment));
    return JsonOk(DetailJson(d));
  }}));
  r.push_back({"POST", "/api/v1/artifact-versions/:id/aliases", WithPathId("artifact version id",
      [&a](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string alias, StringField(body, "alias", true));
    if (Status st = a.AddAlias(id, alias); !st.ok()) return JsonError(st);
    LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, a.Get(id));
    return JsonOk(VersionJson(v));
  })});
  r.push_back({"DELETE", "/api/v1/artifact-versions/:id/aliases/:alias", WithPathId("artifact version id",
      [&a](const HttpRequest& req, int64_t id) {
    if (Status st = a.RemoveAlias(id, *req.Param("alias")); !st.ok()) return JsonError(st);
    LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, a.Get(id));
    return JsonOk(VersionJson(v));
  })});
  r.push_back({"DELETE", "/api/v1/artifact-versions/:id", WithPathId("artifact version id",
      [&a](const HttpRequest&, int64_t id) {
    if (Status st = a.Delete(id); !st.ok()) return JsonError(st);
    return JsonOk({{"deleted", id}});
  })});
  r.push_back(Offload({"GET", "/api/v1/artifact-versions/:id/zip", WithPathId("artifact version id",
      [&a](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, a.Get(id));
    LOUPE_ASSIGN_OR_RESPOND(std::string path, a.ZipForDownload(v));
    HttpResponse resp = SendFile(path, v.name + "-v" + std::to_string(v.version) + ".zip");
    resp.content_type = "application/zip";
    return resp;
  })}));
  r.push_back(Offload({"GET", "/api/v1/artifact-versions/:id/files/:path(.*)", WithPathId("artifact version id",
      [&a](const HttpRequest& req, int64_t id) {
    const std::string path = *req.Param("path");
    LOUPE_ASSIGN_OR_RESPOND(std::string on_disk, a.FileForDownload(id, path, nullptr));
    return SendFile(on_disk, path.substr(path.rfind('/') + 1));
  })}));
  r.push_back({"GET", "/api/v1/experiments/:id/artifacts", WithPathId("experiment id",
      [&a](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(RunArtifacts ra, a.OfRun(id));
    json produced = json::array(), used = json::array();
    for (const ArtifactVersion& v : ra.produced) produced.push_back(VersionJson(v));
    for (const ArtifactVersion& v : ra.used) used.push_back(VersionJson(v));
    return JsonOk({{"produced", produced}, {"used", used}});
  })});
}

void AddRegistryRoutes(ArtifactService& a, std::vector<Route>& r) {
  r.push_back({"GET", "/api/v1/registry/models", [&a](const HttpRequest&) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<RegisteredModel> all, a.Models());
    json out = json::array();
    for (const RegisteredModel& m : all) out.push_back(ModelJson(m));
    return JsonOk({{"models", out}});
  }});
  // Registers an artifact version ({"artifact": "name:v3"} or {"artifact_version_id": 7}).
  r.push_back({"POST", "/api/v1/registry/models/:name/versions", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    int64_t artifact_version = 0;
    if (auto id = body.find("artifact_version_id"); id != body.end() && !id->is_null()) {
      LOUPE_ASSIGN_OR_RESPOND(artifact_version, IntField(*id, "artifact_version_id"));
    } else {
      LOUPE_ASSIGN_OR_RESPOND(std::string ref_text, StringField(body, "artifact", true));
      LOUPE_ASSIGN_OR_RESPOND(artifacts::Ref ref, artifacts::ParseRef(ref_text, "artifact name"));
      LOUPE_ASSIGN_OR_RESPOND(ArtifactVersion v, a.Resolve(ref.name, ref.selector));
      artifact_version = v.id;
    }
    LOUPE_ASSIGN_OR_RESPOND(std::string description, StringField(body, "description", false));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<std::string> aliases, StringList(body, "aliases", artifacts::kMaxAliases));
    LOUPE_ASSIGN_OR_RESPOND(ModelVersion mv,
                            a.Register(*req.Param("name"), artifact_version, description, aliases, req.caller.user));
    return JsonOk(ModelVersionJson(mv));
  }});
  r.push_back({"GET", "/api/v1/registry/models/:name", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(RegisteredModel m, a.Model(*req.Param("name")));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<ModelVersion> versions, a.ModelVersions(m.name));
    json out = ModelJson(m);
    json vs = json::array();
    for (const ModelVersion& mv : versions) vs.push_back(ModelVersionJson(mv));
    out["versions"] = vs;
    return JsonOk(out);
  }});
  r.push_back({"PATCH", "/api/v1/registry/models/:name", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    LOUPE_ASSIGN_OR_RESPOND(std::string description, StringField(body, "description", true));
    if (Status st = a.DescribeModel(*req.Param("name"), description); !st.ok()) return JsonError(st);
    LOUPE_ASSIGN_OR_RESPOND(RegisteredModel m, a.Model(*req.Param("name")));
    return JsonOk(ModelJson(m));
  }});
  r.push_back({"GET", "/api/v1/registry/models/:name/versions/:selector", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(ModelVersion mv, a.ResolveModel(*req.Param("name"), *req.Param("selector")));
    return JsonOk(ModelVersionJson(mv));
  }});
  r.push_back({"DELETE", "/api/v1/registry/models/:name/versions/:version", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t version, VersionNumber(req.Param("version")));
    if (Status st = a.DeleteModelVersion(*req.Param("name"), version); !st.ok()) return JsonError(st);
    return JsonOk({{"deleted", *req.Param("name") + ":v" + std::to_string(version)}});
  }});
  // Points an alias (staging, production, ...) at a version: {"version": 3}.
  r.push_back({"PUT", "/api/v1/registry/models/:name/aliases/:alias", [&a](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    auto v = body.find("version");
    if (v == body.end()) return JsonError(Status::InvalidArgument("version is required"));
    LOUPE_ASSIGN_OR_RESPOND(int64_t version, IntField(*v, "version"));
    if (Status st = a.SetModelAlias(*req.Param("name"), *req.Param("alias"), version); !st.ok()) return JsonError(st);
    LOUPE_ASSIGN_OR_RESPOND(RegisteredModel m, a.Model(*req.Param("name")));
    return JsonOk(ModelJson(m));
  }});
  r.push_back({"DELETE", "/api/v1/registry/models/:name/aliases/:alias", [&a](const HttpRequest& req) {
    if (Status st = a.RemoveModelAlias(*req.Param("name"), *req.Param("alias")); !st.ok()) return JsonError(st);
    LOUPE_ASSIGN_OR_RESPOND(RegisteredModel m, a.Model(*req.Param("name")));
    return JsonOk(ModelJson(m));
  }});
}

}  // namespace

std::vector<Route> ArtifactApiRoutes(ArtifactService& artifacts) {
  std::vector<Route> r;
  AddArtifactRoutes(artifacts, r);
  AddRegistryRoutes(artifacts, r);
  return r;
}

}  // namespace loupe
