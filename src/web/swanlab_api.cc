// The SwanLab offline-dashboard API (../shared/specs/swanlab-api.md): 19 routes under
// /api/v1 with swanboard's envelope, codes, field names and status values.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

// swanboard's 16-colour palettes, light and dark themes.
const std::vector<std::string> kLight = {
    "#528d59", "#587ad2", "#c24d46", "#9cbe5d", "#6ebad3", "#dfb142", "#6d4ba4", "#8cc5b7",
    "#892d58", "#40877c", "#d0703c", "#d47694", "#e3b292", "#b15fbb", "#905f4a", "#989fa3"};
const std::vector<std::string> kDark = {
    "#5da265", "#6b8ce3", "#d5605a", "#b0d071", "#7fcbe2", "#f0c253", "#815fb8", "#9fd8ca",
    "#a3466f", "#52998e", "#e3854f", "#e78aa8", "#f2c4a5", "#c575cf", "#a6735d", "#aab2b6"};

json Iso(int64_t micros) { return micros ? json(FormatIsoMicros(micros)) : json(nullptr); }

json ParseOrEmpty(const std::string& text) {
  json j = ParseBoundedJson(text);
  return j.is_discarded() ? json::object() : j;
}

json ExperimentRow(const Experiment& e, size_t index) {
  return {{"id", e.id},
          {"experiment_id", e.id},
          {"project_id", e.project_id},
          {"run_id", e.run_id},
          {"name", e.name},
          {"description", e.description},
          {"sort", index},
          {"status", SwanlabStatusCode(e.status)},
          {"show", e.show ? 1 : 0},
          {"light", kLight[index % kLight.size()]},
          {"dark", kDark[index % kDark.size()]},
          {"pinned_opened", 1},
          {"hidden_opened", 0},
          {"more", nullptr},
          {"version", LOUPE_VERSION},
          {"create_time", Iso(e.create_time)},
          {"update_time", Iso(e.update_time)},
          {"finish_time", Iso(e.finish_time)},
          {"config", ParseOrEmpty(e.config_json)}};
}

json ChartJson(const Chart& c, int64_t experiment_id) {
  return {{"id", c.id},
          {"name", c.name},
          {"description", ""},
          {"system", c.name.rfind("system/", 0) == 0 ? 1 : 0},
          {"type", c.type},
          {"reference", "step"},
          {"config", nullptr},
          {"status", c.status},
          {"sort", c.sort},
          {"more", nullptr},
          {"create_time", Iso(c.create_time)},
          {"update_time", Iso(c.update_time)},
          {"error", nullptr},
          {"source", json::array({c.name})},
          {"multi", false},
          {"source_map", {{c.name, experiment_id}}}};
}

int UiOpened(TrackingService& t, const std::string& key, int fallback) {
  Result<std::string> v = t.GetUiState(key);
  return v.ok() ? std::atoi(v->c_str()) : fallback;
}

std::string GroupKey(const std::string& scope, int64_t scope_id, int64_t ns_id) {
  return scope + ":" + std::to_string(scope_id) + ":ns:" + std::to_string(ns_id);
}

// {charts, namespaces}, with the synthetic pinned (-1) and hidden (-2) groups.
// When `inline_charts`, each namespace carries its chart objects instead of ids.
Result<json> ExperimentCharts(TrackingService& t, int64_t id, bool inline_charts) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<Chart> charts, t.ListCharts(id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<Namespace> spaces, t.ListNamespaces(id));
  json chart_arr = json::array();
  std::map<int64_t, json> by_ns;
  json pinned = json::array(), hidden = json::array();
  for (const Chart& c : charts) {
    json cj = ChartJson(c, id);
    json ref = inline_charts ? cj : json(c.id);
    if (c.status == 1) pinned.push_back(ref);
    else if (c.status == -1) hidden.push_back(ref);
    else by_ns[c.namespace_id].push_back(ref);
    chart_arr.push_back(std::move(cj));
  }
  json ns_arr = json::array();
  ns_arr.push_back({{"id", -1}, {"name", "pinned"}, {"description", ""}, {"sort", -1},
                    {"opened", UiOpened(t, GroupKey("exp", id, -1), 1)},
                    {"charts", pinned}});
  for (const Namespace& n : spaces) {
    json list = by_ns.count(n.id) ? by_ns[n.id] : json::array();
    ns_arr.push_back({{"id", n.id}, {"name", n.name}, {"description", ""}, {"sort", n.sort},
                      {"opened", n.opened}, {"experiment_id", id},
                      {"create_time", Iso(n.create_time)}, {"update_time", Iso(n.update_time)},
                      {"charts", list}});
  }
  ns_arr.push_back({{"id", -2}, {"name", "hidden"}, {"description", ""}, {"sort", 1 << 30},
                    {"opened", UiOpened(t, GroupKey("exp", id, -2), 0)},
                    {"charts", hidden}});
  return json{{"charts", chart_arr}, {"namespaces", ns_arr}};
}

Result<Project> SelectProject(TrackingService& t, const HttpRequest& req) {
  if (const std::string* pid = req.Query("project_id")) {
    LOUPE_ASSIGN_OR_RETURN(int64_t id, ParseId(pid, "project_id"));
    return t.GetProject(id);
  }
  LOUPE_ASSIGN_OR_RETURN(std::vector<Project> ps, t.ListProjects());
  if (ps.empty()) return Status::NotFound("no project has been logged yet");
  return ps.front();
}

// SwanLab's offline board keeps one project, so its project changes name none. Loupe keeps
// many: a change that names none is refused rather than applied to whichever comes first.
Result<Project> ProjectToChange(TrackingService& t, const HttpRequest& req) {
  if (!req.Query("project_id")) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<Project> ps, t.ListProjects());
    if (ps.size() > 1) {
      return Status::BadRequest("this server keeps " + std::to_string(ps.size()) +
                                " projects: name the one to change with ?project_id=");
    }
  }
  return SelectProject(t, req);
}

Handler WithExperiment(TrackingService& t,
                       std::function<HttpResponse(const HttpRequest&, const Experiment&)> f) {
  return [&t, f = std::move(f)](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "experiment id"));
    LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));
    return f(req, e);
  };
}

std::string FirstToken(const std::string& line) {
  size_t start = line.find_first_not_of(' ');
  if (start == std::string::npos) return "";
  size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

HttpResponse GetProject(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperiments(p.id));
  json exps = json::array();
  for (size_t i = 0; i < es.size(); ++i) exps.push_back(ExperimentRow((es)[i], i));
  LOUPE_ASSIGN_OR_RESPOND(int64_t charts, t.CountProjectCharts(p.id));
  return JsonOk({{"id", p.id},
                 {"name", p.name},
                 {"description", p.description},
                 {"sum", es.size()},
                 {"charts", charts},
                 {"more", nullptr},
                 {"pinned_opened", UiOpened(t, GroupKey("project", p.id, -1), 1)},
                 {"hidden_opened", UiOpened(t, GroupKey("project", p.id, -2), 0)},
                 {"version", LOUPE_VERSION},
                 {"create_time", Iso(p.create_time)},
                 {"update_time", Iso(p.update_time)},
                 {"logdir", ""},
                 {"colors", {{"light", kLight}, {"dark", kDark}}},
                 {"experiments", exps}});
}

HttpResponse ProjectSummaries(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperiments(p.id));
  json tags = json::array();
  std::vector<std::string> seen;
  json summaries = json::object();
  for (const Experiment& e : es) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Series> ss, t.ListSeries(e.id));
    json row = json::object();
    for (const Series& s : ss) {
      if (s.type != "line") continue;
      if (std::find(seen.begin(), seen.end(), s.key) == seen.end()) {
        seen.push_back(s.key);
        tags.push_back(s.key);
      }
      if (s.last_step >= 0) row[s.key] = JsonNumber(s.last_value);
    }
    summaries[e.name] = row;
  }
  return JsonOk({{"tags", tags}, {"summaries", summaries}});
}

HttpResponse ProjectCharts(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperiments(p.id));
  // One multi-experiment chart per key; its id is the smallest chart id of that key.
  struct Multi { Chart first; json source = json::array(); json source_map = json::object(); std::string ns; };
  std::vector<Multi> multis;
  std::map<std::string, size_t> index;
  std::map<std::string, int64_t> ns_ids;
  std::vector<std::string> ns_order;
  for (const Experiment& e : es) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Chart> cs, t.ListCharts(e.id));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Namespace> ns, t.ListNamespaces(e.id));
    std::map<int64_t, std::string> ns_name;
    for (const Namespace& n : ns) {
      ns_name[n.id] = n.name;
      auto [it, inserted] = ns_ids.try_emplace(n.name, n.id);
      if (inserted) ns_order.push_back(n.name);
      else it->second = std::min(it->second, n.id);
    }
    for (const Chart& c : cs) {
      auto [it, inserted] = index.try_emplace(c.name, multis.size());
      if (inserted) multis.push_back({c, json::array(), json::object(), ns_name[c.namespace_id]});
      Multi& m = multis[it->second];
      if (c.id < m.first.id) m.first.id = c.id;
      m.source.push_back(e.name);
      m.source_map[e.name] = e.id;
    }
  }
  json charts = json::array();
  std::map<std::string, json> members;
  for (const Multi& m : multis) {
    json cj = ChartJson(m.first, 0);
    cj["multi"] = true;
    cj["status"] = 0;
    cj["source"] = m.source;
    cj["source_map"] = m.source_map;
    charts.push_back(cj);
    members[m.ns].push_back(m.first.id);
  }
  json spaces = json::array();
  for (size_t i = 0; i < ns_order.size(); ++i) {
    const std::string& name = ns_order[i];
    int64_t id = ns_ids[name];
    spaces.push_back({{"id", id}, {"name", name}, {"description", ""}, {"sort", i},
                      {"opened", UiOpened(t, GroupKey("project", p.id, id), 1)},
                      {"charts", members.count(name) ? members[name] : json::array()}});
  }
  return JsonOk({{"charts", charts}, {"namespaces", spaces}});
}

Result<std::pair<std::string, std::string>> NameAndDescription(const json& body) {
  auto name = body.find("name");
  auto desc = body.find("description");
  if (name != body.end() && !name->is_string()) return Status::InvalidArgument("name must be a string");
  if (desc != body.end() && !desc->is_null() && !desc->is_string()) {
    return Status::InvalidArgument("description must be a string");
  }
  if (name == body.end()) return Status::InvalidArgument("name is required");
  std::string d = (desc != body.end() && desc->is_string()) ? desc->get<std::string>() : "";
  return std::make_pair(name->get<std::string>(), d);
}

HttpResponse TagData(TrackingService& t, const HttpRequest& req, const Experiment& e) {
  const std::string* tag = req.Param("tag");
  if (!tag || tag->empty()) return JsonError(Status::InvalidArgument("tag is required"));
  LOUPE_ASSIGN_OR_RESPOND(Series s, t.GetSeries(e.id, *tag));
  const std::string etag = SeriesEtag(s.id, s.version, "");
  if (HttpResponse not_modified; NotModified(req, etag, not_modified)) return not_modified;
  std::string data = "{\"experiment_id\":" + std::to_string(e.id);
  if (s.type != "line") {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<MediaItem> items, t.ListMedia(e.id, *tag, 1500));
    // One entry per step, its files as the data list.
    json list = json::array();
    for (const MediaItem& m : items) {
      if (!list.empty() && list.back()["index"] == m.step) {
        list.back()["data"].push_back(m.filename);
      } else {
        list.push_back({{"index", m.step}, {"data", json::array({m.filename})}, {"create_time", Iso(m.ts)}});
      }
    }
    if (!list.empty()) list.back()["_last"] = true;
    data += ",\"sum\":" + std::to_string(list.size()) + ",\"list\":" + list.dump() + "}";
    HttpResponse out = JsonOkRaw(data);
    SetEtag(out, etag);
    return out;
  }
  Result<SeriesResult> r = t.QuerySeries(s.id, SeriesQuery{});
  if (!r.ok()) return JsonError(r.status());
  data += ",\"sum\":" + std::to_string(r->count);
  if (r->count > 0) {
    data += ",\"max\":";
    AppendJsonNumber(data, r->max);
    data += ",\"min\":";
    AppendJsonNumber(data, r->min);
  }
  data += ",\"list\":[";
  data.reserve(data.size() + r->points.size() * 72);
  for (size_t i = 0; i < r->points.size(); ++i) {
    const SeriesPoint& p = r->points[i];
    if (i) data += ',';
    data += "{\"index\":" + std::to_string(p.step) + ",\"data\":";
    AppendJsonNumber(data, p.value);
    data += ",\"create_time\":\"";
    AppendIsoMicros(data, p.ts);
    data += '"';
    if (i + 1 == r->points.size()) data += ",\"_last\":true";
    data += '}';
  }
  data += "]}";
  HttpResponse out = JsonOkRaw(data);
  SetEtag(out, etag);
  return out;
}

HttpResponse RecentLog(TrackingService& t, const Experiment& e) {
  LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.TailConsole(e.id, 1000));
  if (lines.empty()) {
    return JsonError(Status::NotFound("experiment " + std::to_string(e.id) + " has no console log"));
  }
  json logs = json::array(), errors = json::array();
  for (const ConsoleLine& l : lines) {
    logs.push_back(l.text);
    if (l.stream == 1) errors.push_back(l.text);
  }
  json out = {{"recent", {FirstToken(lines.front().text), FirstToken(lines.back().text)}}, {"logs", logs}};
  if (!errors.empty()) out["error"] = errors;
  return JsonOk(out);
}

HttpResponse SetOpened(TrackingService& t, const HttpRequest& req) {
  const std::string* raw = req.Param("id");
  int64_t id = 0;
  bool negative = raw && !raw->empty() && (*raw)[0] == '-';
  std::string digits = negative ? raw->substr(1) : (raw ? *raw : "");
  LOUPE_ASSIGN_OR_RESPOND(int64_t parsed, ParseId(&digits, "namespace id"));
  id = negative ? -parsed : parsed;
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
  auto o = body.find("opened");
  if (o == body.end() || !(o->is_boolean() || o->is_number_integer())) {
    return JsonError(Status::InvalidArgument("opened is required and must be a boolean or 0/1"));
  }
  int opened = o->is_boolean() ? (o->get<bool>() ? 1 : 0) : (o->get<int64_t>() ? 1 : 0);
  auto scope_id = [&](const char* f) -> std::optional<int64_t> {
    auto it = body.find(f);
    if (it == body.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  if (auto pid = scope_id("project_id")) {
    if (Status st = (t.GetProject(*pid)).status(); !st.ok()) return JsonError(st);
    Status st = t.SetUiState(GroupKey("project", *pid, id), std::to_string(opened));
    return st.ok() ? JsonOk(nullptr) : JsonError(st);
  }
  if (id < 0) {
    auto eid = scope_id("experiment_id");
    if (!eid) return JsonError(Status::InvalidArgument("experiment_id or project_id is required for the pinned and hidden groups"));
    if (Status st = (t.GetExperiment(*eid)).status(); !st.ok()) return JsonError(st);
    if (id != -1 && id != -2) return JsonError(Status::NotFound("namespace " + std::to_string(id) + " not found"));
    Status st = t.SetUiState(GroupKey("exp", *eid, id), std::to_string(opened));
    return st.ok() ? JsonOk(nullptr) : JsonError(st);
  }
  Status st = t.SetNamespaceOpened(id, opened);
  return st.ok() ? JsonOk(nullptr) : JsonError(st);
}

HttpResponse SetChartStatus(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "chart id"));
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
  auto s = body.find("status");
  if (s == body.end() || !s->is_number_integer() ||
      (s->get<int64_t>() != 0 && s->get<int64_t>() != 1 && s->get<int64_t>() != -1)) {
    return JsonError(Status::InvalidArgument("status is required and must be 1 (pinned), -1 (hidden) or 0"));
  }
  LOUPE_ASSIGN_OR_RESPOND(Chart c, t.SetChartStatus(id, static_cast<int>(s->get<int64_t>())));
  LOUPE_ASSIGN_OR_RESPOND(json groups, ExperimentCharts(t, c.experiment_id, true));
  return JsonOk({{"groups", (groups)["namespaces"]}});
}

HttpResponse Media(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(int64_t eid, ParseId(req.Query("experiment_id"), "experiment_id"));
  if (Status st = (t.GetExperiment(eid)).status(); !st.ok()) return JsonError(st);
  const std::string* path = req.Param("path");
  std::string name = path ? *path : "";
  LOUPE_ASSIGN_OR_RESPOND(std::string full, t.MediaPath(eid, name));
  std::ifstream in(full, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) return JsonError(Status::Corrupt("media file '" + name + "' cannot be read"));
  HttpResponse r;
  r.content_type = TrackingService::ContentTypeFor(name);
  r.body = ss.str();
  r.headers.push_back({"Cache-Control", "private, max-age=86400, immutable"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  return r;
}

}  // namespace

std::vector<Route> SwanlabApiRoutes(TrackingService& t) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/project", [&t](const HttpRequest& req) { return GetProject(t, req); }});
  r.push_back({"GET", "/api/v1/project/summaries", [&t](const HttpRequest& req) { return ProjectSummaries(t, req); }});
  r.push_back({"GET", "/api/v1/project/charts", [&t](const HttpRequest& req) { return ProjectCharts(t, req); }});
  r.push_back({"PATCH", "/api/v1/project/update", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(Project p, ProjectToChange(t, req));
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 auto nd = NameAndDescription(body);
                 if (!nd.ok()) return JsonError(nd.status());
                 Status st = t.RenameProject(p.id, nd->first, nd->second);
                 if (!st.ok()) return JsonError(st);
                 return JsonOk({{"updates", body}});
               }});
  r.push_back({"DELETE", "/api/v1/project", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(Project p, ProjectToChange(t, req));
                 Status st = t.DeleteProject(p.id);
                 return st.ok() ? JsonOk(nullptr) : JsonError(st);
               }});
  r.push_back({"GET", "/api/v1/experiment/:id", WithExperiment(t, [](const HttpRequest&, const Experiment& e) {
                 json out = ExperimentRow(e, 0);
                 for (const char* k : {"light", "dark", "pinned_opened", "hidden_opened", "experiment_id", "project_id"}) out.erase(k);
                 out["system"] = ParseOrEmpty(e.system_json);
                 return JsonOk(out);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/chart", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 Result<json> c = ExperimentCharts(t, e.id, false);
                 return c.ok() ? JsonOk(*c) : JsonError(c.status());
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/tag/:tag(.*)", WithExperiment(t, [&t](const HttpRequest& req, const Experiment& e) {
                 return TagData(t, req, e);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/status", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json c, ExperimentCharts(t, e.id, false));
                 return JsonOk({{"status", SwanlabStatusCode(e.status)}, {"update_time", Iso(e.update_time)},
                                {"finish_time", Iso(e.finish_time)}, {"charts", c}});
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/summary", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<Series> ss, t.ListSeries(e.id));
                 json arr = json::array();
                 for (const Series& s : ss) {
                   if (s.type == "line" && s.last_step >= 0) arr.push_back({{"key", s.key}, {"value", JsonNumber(s.last_value)}});
                 }
                 return JsonOk({{"summaries", arr}});
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/recent_log", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 return RecentLog(t, e);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/requirements", WithExperiment(t, [](const HttpRequest&, const Experiment& e) {
                 json lines = json::array();
                 std::istringstream in(e.requirements);
                 for (std::string line; std::getline(in, line);) if (!line.empty()) lines.push_back(line);
                 return JsonOk({{"requirements", lines}});
               })});
  r.push_back(WithAccess(Access::kWrite, {"GET", "/api/v1/experiment/:id/stop", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(Experiment s, t.Stop(e.id));  // Conflict unless running
                 return JsonOk({{"id", s.id}, {"status", SwanlabStatusCode(s.status)}, {"finish_time", Iso(s.finish_time)}});
               })}));
  r.push_back({"PATCH", "/api/v1/experiment/:id", WithExperiment(t, [&t](const HttpRequest& req, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 auto nd = NameAndDescription(body);
                 if (!nd.ok()) return JsonError(nd.status());
                 std::optional<std::string> description;  // absent: kept as it is
                 if (body.contains("description")) description = nd->second;
                 Status st = t.PatchExperiment(e.id, {nd->first, description, std::nullopt});
                 if (!st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(Experiment updated, t.GetExperiment(e.id));
                 return JsonOk({{"experiment", ExperimentRow(updated, 0)}});
               })});
  r.push_back({"DELETE", "/api/v1/experiment/:id", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 Status st = t.DeleteExperiment(e.id);
                 return st.ok() ? JsonOk({{"experiment_id", e.id}}) : JsonError(st);
               })});
  r.push_back({"PATCH", "/api/v1/experiment/:id/show", WithExperiment(t, [&t](const HttpRequest& req, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
                 auto s = body.find("show");
                 if (s == body.end() || !s->is_boolean()) {
                   return JsonError(Status::InvalidArgument("show is required and must be a boolean"));
                 }
                 Status st = t.PatchExperiment(e.id, {std::nullopt, std::nullopt, s->get<bool>()});
                 if (!st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(Experiment updated, t.GetExperiment(e.id));
                 return JsonOk({{"experiment", ExperimentRow(updated, 0)}});
               })});
  r.push_back({"GET", "/api/v1/media/:path(.*)", [&t](const HttpRequest& req) { return Media(t, req); }});
  r.push_back({"PATCH", "/api/v1/namespace/:id/opened", [&t](const HttpRequest& req) { return SetOpened(t, req); }});
  r.push_back({"PATCH", "/api/v1/chart/:id/status", [&t](const HttpRequest& req) { return SetChartStatus(t, req); }});
  return r;
}

}  // namespace loupe
