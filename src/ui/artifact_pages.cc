#include "ui/artifact_pages.h"

#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "ui/page.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using artifacts::ArtifactService;
using nlohmann::json;

// A version page lists this many files; the zip and the API have them all.
constexpr size_t kFilesShown = 1000;

std::string Ref(const std::string& name, int64_t version) { return name + ":v" + std::to_string(version); }

// Sections test truth, and an empty string is true to mustache: text that may be empty
// goes to the template as false when it is.
json TextOrFalse(const std::string& s) { return s.empty() ? json(false) : json(s); }

// Every key set, so that a section never falls through to a same-named key of the row
// around it (a version's own href, its name).
json RunLink(const std::optional<RunRef>& r) {
  const bool deleted = r && r->project_id == 0;
  return json{{"none", !r},
              {"deleted", deleted},
              {"id", r ? r->id : 0},
              {"name", r && !deleted ? r->name : ""},
              {"href", r && !deleted ? json("/experiments/" + std::to_string(r->id)) : json(false)}};
}

json AliasList(const std::vector<std::string>& aliases) {
  json out = json::array();
  for (const std::string& a : aliases) out.push_back({{"alias", a}, {"latest", a == "latest"}});
  return out;
}

// The metadata's first few top-level entries as "key value" pairs, to compare versions
// at a glance (numbers as JSON writes them, strings bare).
json MetadataBrief(const std::string& metadata_json) {
  constexpr size_t kShown = 4;
  json m = StoredJson(metadata_json);
  json out = json::array();
  if (!m.is_object()) return out;
  for (auto it = m.begin(); it != m.end() && out.size() < kShown; ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    if (v.size() > 40) v = v.substr(0, 39) + "…";
    out.push_back({{"k", it.key()}, {"v", v}});
  }
  return out;
}

json VersionRow(const ArtifactVersion& v) {
  return {{"id", v.id},
          {"version", v.version},
          {"ref", Ref(v.name, v.version)},
          {"href", "/artifacts/" + v.name + "/v" + std::to_string(v.version)},
          {"aliases", AliasList(v.aliases)},
          {"files", v.file_count},
          {"size", FormatBytes(v.size)},
          {"bytes", v.size},
          {"digest", v.digest.substr(0, 12)},
          {"produced_by", RunLink(v.produced_by)},
          {"created", FormatMicrosUtc(v.create_time)},
          {"description", TextOrFalse(v.description)}};
}

HttpResponse ListPage(ArtifactService& a) {
  PageFrame frame{"Artifacts", {{"Home", "/"}, {"Artifacts", ""}}, "artifacts", false, {"copy.js"}};
  Result<std::vector<ArtifactSummary>> all = a.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json rows = json::array();
  for (const ArtifactSummary& s : *all) {
    rows.push_back({{"name", s.name}, {"type", s.type}, {"versions", s.version_count},
                    {"latest", "v" + std::to_string(s.latest_version)}, {"size", FormatBytes(s.latest_size)},
                    {"updated", FormatMicrosUtc(s.update_time)}});
  }
  return HtmlPage(frame, RenderTemplate("artifacts", json{{"artifacts", rows}, {"has_artifacts", !rows.empty()}}));
}

HttpResponse ArtifactPage(ArtifactService& a, const HttpRequest& req) {
  const std::string name = *req.Param("name");
  PageFrame frame{name, {{"Home", "/"}, {"Artifacts", "/artifacts"}, {name, ""}}, "artifacts", false, {}};
  Result<std::vector<ArtifactVersion>> versions = a.Versions(name);
  if (!versions.ok()) return HtmlErrorPage(versions.status(), frame);
  json rows = json::array();
  for (const ArtifactVersion& v : *versions) rows.push_back(VersionRow(v));
  json view = {{"name", name}, {"type", versions->empty() ? "" : (*versions)[0].type}, {"versions", rows},
               {"count", rows.size()}, {"has_versions", !rows.empty()}};
  return HtmlPage(frame, RenderTemplate("artifact", view));
}

HttpResponse VersionPage(ArtifactService& a, const HttpRequest& req) {
  const std::string name = *req.Param("name");
  const std::string selector = *req.Param("selector");
  PageFrame frame{name, {{"Home", "/"}, {"Artifacts", "/artifacts"}, {name, "/artifacts/" + name}}, "artifacts", false,
                  {"copy.js", "api.js", "artifacts.js"}};
  Result<ArtifactVersion> v = a.Resolve(name, selector);
  if (!v.ok()) return HtmlErrorPage(v.status(), frame);
  Result<artifacts::VersionDetail> d = a.Detail(v->id);
  if (!d.ok()) return HtmlErrorPage(d.status(), frame);
  const std::string ref = Ref(name, v->version);
  frame.title = ref;
  frame.crumbs.push_back({"v" + std::to_string(v->version), ""});
  json files = json::array();
  for (size_t i = 0; i < d->files.size() && i < kFilesShown; ++i) {
    const ArtifactFile& f = d->files[i];
    files.push_back({{"path", f.path}, {"size", FormatBytes(f.size)}, {"bytes", f.size}, {"sha", f.sha256.substr(0, 12)},
                     {"href", "/api/v1/artifact-versions/" + std::to_string(v->id) + "/files/" + UrlEncode(f.path)}});
  }
  json users = json::array();
  for (const RunRef& r : d->used_by) users.push_back(RunLink(r));
  json registered = json::array();
  for (const auto& [model, version] : d->registered_as) {
    registered.push_back({{"ref", Ref(model, version)}, {"href", "/registry/" + model}});
  }
  json metadata = StoredJson(v->metadata_json);
  json view = VersionRow(*v);
  view.update({{"name", name},
               {"type", v->type},
               {"full_digest", v->digest},
               {"created_by", TextOrFalse(v->created_by)},
               {"file_rows", files},
               {"has_more_files", d->files.size() > kFilesShown},
               {"more_files", d->files.size() > kFilesShown ? d->files.size() - kFilesShown : 0},
               {"register_as", v->type == "model" ? name : ""},
               {"used_by", users},
               {"has_users", !users.empty()},
               {"registered", registered},
               {"has_registered", !registered.empty()},
               {"metadata", metadata.is_object() && !metadata.empty() ? json(metadata.dump(2)) : json(false)},
               {"zip_href", "/api/v1/artifact-versions/" + std::to_string(v->id) + "/zip"},
               {"use_snippet", "artifact = run.use_artifact(\"" + ref + "\")\npath = artifact.download()"},
               {"can_edit", CanEdit(req)}});
  return HtmlPage(frame, RenderTemplate("artifact_version", view));
}

HttpResponse RegistryPage(ArtifactService& a) {
  PageFrame frame{"Model registry", {{"Home", "/"}, {"Model registry", ""}}, "registry", false, {}};
  Result<std::vector<RegisteredModel>> all = a.Models();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json rows = json::array();
  for (const RegisteredModel& m : *all) {
    json aliases = json::array();
    for (const auto& [alias, version] : m.aliases) aliases.push_back({{"alias", alias}, {"version", version}});
    rows.push_back({{"name", m.name}, {"description", m.description}, {"versions", m.version_count},
                    {"aliases", aliases}, {"updated", FormatMicrosUtc(m.update_time)}});
  }
  return HtmlPage(frame, RenderTemplate("registry", json{{"models", rows}, {"has_models", !rows.empty()}}));
}

HttpResponse ModelPage(ArtifactService& a, const HttpRequest& req) {
  const std::string name = *req.Param("name");
  PageFrame frame{name, {{"Home", "/"}, {"Model registry", "/registry"}, {name, ""}}, "registry", false,
                  {"copy.js", "api.js", "artifacts.js"}};
  Result<RegisteredModel> m = a.Model(name);
  if (!m.ok()) return HtmlErrorPage(m.status(), frame);
  Result<std::vector<ModelVersion>> versions = a.ModelVersions(name);
  if (!versions.ok()) return HtmlErrorPage(versions.status(), frame);
  json rows = json::array();
  for (const ModelVersion& mv : *versions) {
    json row = VersionRow(mv.artifact);
    rows.push_back({{"version", mv.version},
                    {"ref", Ref(name, mv.version)},
                    {"aliases", AliasList(mv.aliases)},
                    {"artifact_ref", row["ref"]},
                    {"artifact_href", row["href"]},
                    {"artifact_type", mv.artifact.type},
                    {"size", row["size"]},
                    {"produced_by", row["produced_by"]},
                    {"registered", FormatMicrosUtc(mv.create_time)},
                    {"created_by", TextOrFalse(mv.created_by)},
                    {"metadata", MetadataBrief(mv.artifact.metadata_json)},
                    {"description", TextOrFalse(mv.description)}});
  }
  json aliases = json::array();
  for (const auto& [alias, version] : m->aliases) aliases.push_back({{"alias", alias}, {"version", version}});
  std::string pick = m->aliases.empty() ? "latest" : m->aliases.front().first;
  for (const auto& [alias, version] : m->aliases) {
    if (alias == "production") pick = alias;
  }
  json view = {{"name", name},
               {"description", m->description},
               {"versions", rows},
               {"aliases", aliases},
               {"has_aliases", !aliases.empty()},
               {"use_snippet", "import loupe\npath = loupe.use_model(\"" + name + ":" + pick + "\").download()"},
               {"can_edit", CanEdit(req)}};
  return HtmlPage(frame, RenderTemplate("registered_model", view));
}

}  // namespace

std::vector<Route> ArtifactPageRoutes(ArtifactService& a) {
  std::vector<Route> r;
  r.push_back({"GET", "/artifacts", [&a](const HttpRequest&) { return ListPage(a); }});
  r.push_back({"GET", "/artifacts/:name", [&a](const HttpRequest& req) { return ArtifactPage(a, req); }});
  r.push_back({"GET", "/artifacts/:name/:selector", [&a](const HttpRequest& req) { return VersionPage(a, req); }});
  r.push_back({"GET", "/registry", [&a](const HttpRequest&) { return RegistryPage(a); }});
  r.push_back({"GET", "/registry/:name", [&a](const HttpRequest& req) { return ModelPage(a, req); }});
  return r;
}

}  // namespace loupe
