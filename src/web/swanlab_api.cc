// The SwanLab offline-dashboard API (../shared/specs/swanlab-api.md): 19 routes under
// /api/v1 with swanboard's envelope, codes, field names and status values.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/swanlab_rows.h"

namespace loupe {

namespace {

using nlohmann::json;
using swanlab::GroupState;

json Iso(int64_t micros) { return micros ? json(FormatIsoMicros(micros)) : json(nullptr); }

json ParseOrEmpty(const std::string& text) {
  json j = ParseBoundedJson(text);
  return j.is_discarded() ? json::object() : j;
}

int UiOpened(TrackingService& t, const std::string& key, int fallback) {
  Result<std::string> v = t.GetUiState(key);
  return v.ok() ? std::atoi(v->c_str()) : fallback;
}

std::string GroupKey(const std::string& scope, int64_t scope_id, int64_t ns_id) {
  return scope + ":" + std::to_string(scope_id) + ":ns:" + std::to_string(ns_id);
}

GroupState GroupsOpened(TrackingService& t, const std::string& scope, int64_t id) {
  return {UiOpened(t, GroupKey(scope, id, -1), 1), UiOpened(t, GroupKey(scope, id, -2), 0)};
}

Result<json> ProjectRowOf(TrackingService& t, const Project& p) {
  // Every experiment row nests its project row, and /status is polled each second: a
  // flag, not the project's chart list.
  LOUPE_ASSIGN_OR_RETURN(bool has_charts, t.ProjectHasCharts(p.id));
  return swanlab::ProjectRow(p, GroupsOpened(t, "project", p.id), has_charts);
}

Result<json> ExperimentRowOf(TrackingService& t, const Experiment& e) {
  LOUPE_ASSIGN_OR_RETURN(Project p, t.GetProject(e.project_id));
  LOUPE_ASSIGN_OR_RETURN(json project, ProjectRowOf(t, p));
  return swanlab::ExperimentRow(e, project, GroupsOpened(t, "exp", e.id));
}

// Orders pinned or hidden charts as swanboard does: by their place in that group.
json IdsByPinSort(std::vector<const Chart*> cs) {
  std::stable_sort(cs.begin(), cs.end(), [](const Chart* a, const Chart* b) {
    return a->pin_sort.value_or(0) < b->pin_sort.value_or(0);
  });
  json ids = json::array();
  for (const Chart* c : cs) ids.push_back(c->id);
  return ids;
}

// swanboard get_pinned_and_hidden: each group with the ids of its charts in the normal
// state, pinned (-1) first and hidden (-2) last when they hold charts, groups left empty
// dropped. `owner_exp`/`owner_project`: the owner's row (the other null).
json Groups(const std::vector<const Chart*>& charts, const std::vector<Namespace>& spaces, const GroupState& g,
            const json& owner_exp, const json& owner_project) {
  std::map<int64_t, json> by_ns;
  std::vector<const Chart*> pinned, hidden;
  for (const Chart* c : charts) {
    if (c->status == 1) pinned.push_back(c);
    else if (c->status == -1) hidden.push_back(c);
    else by_ns[c->namespace_id].push_back(c->id);
  }
  json out = json::array();
  if (charts.empty() || spaces.empty()) return out;
  if (!pinned.empty()) out.push_back(swanlab::PinnedOrHidden(-1, g.pinned_opened, owner_exp, owner_project, IdsByPinSort(pinned)));
  for (const Namespace& n : spaces) {
    auto it = by_ns.find(n.id);
    if (it != by_ns.end()) out.push_back(swanlab::NamespaceRow(n, owner_exp, owner_project, std::move(it->second)));
  }
  if (!hidden.empty()) out.push_back(swanlab::PinnedOrHidden(-2, g.hidden_opened, owner_exp, owner_project, IdsByPinSort(hidden)));
  return out;
}

// {charts, namespaces} of one experiment (swanboard get_exp_charts).
Result<json> ExperimentCharts(TrackingService& t, const Experiment& e) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<Chart> charts, t.ListCharts(e.id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<Namespace> spaces, t.ListNamespaces(e.id));
  LOUPE_ASSIGN_OR_RETURN(json exp_row, ExperimentRowOf(t, e));
  json chart_arr = json::array();
  std::vector<const Chart*> shown;
  for (const Chart& c : charts) {
    json row = swanlab::ChartRow(c, nullptr);
    row["source"] = json::array({c.name});
    row["multi"] = false;
    row["source_map"] = {{c.name, e.id}};
    chart_arr.push_back(std::move(row));
    shown.push_back(&c);
  }
  json groups = Groups(shown, spaces, GroupsOpened(t, "exp", e.id), exp_row, nullptr);
  return json{{"charts", std::move(chart_arr)}, {"namespaces", std::move(groups)}};
}

// {charts, namespaces} of the compare view (swanboard get_proj_charts): the project's own
// charts, each with the experiments that have its key as sources (by name). As in
// swanboard, every chart carries the same source_map, of every source's name to its id.
Result<json> ProjectCharts(TrackingService& t, const Project& p) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<Chart> charts, t.ListProjectCharts(p.id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<Namespace> spaces, t.ListProjectNamespaces(p.id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<Experiment> es, t.ListExperimentsBrief(p.id));
  const GroupState g = GroupsOpened(t, "project", p.id);
  json project_row = swanlab::ProjectRow(p, g, !charts.empty());
  std::map<std::string, json> sources;
  json source_map = json::object();
  for (const Experiment& e : es) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<Series> ss, t.ListSeries(e.id));
    for (const Series& s : ss) {
      sources[s.key].push_back(e.name);
      source_map[e.name] = e.id;
    }
  }
  json chart_arr = json::array();
  std::vector<const Chart*> shown;
  for (const Chart& c : charts) {
    auto src = sources.find(c.name);
    if (src == sources.end()) continue;  // its experiments were all deleted
    json row = swanlab::ChartRow(c, project_row);
    row["source"] = src->second;
    row["multi"] = true;
    row["source_map"] = source_map;
    chart_arr.push_back(std::move(row));
    shown.push_back(&c);
  }
  json groups = Groups(shown, spaces, g, nullptr, project_row);
  return json{{"charts", std::move(chart_arr)}, {"namespaces", std::move(groups)}};
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
  size_t end = line.find(' ');
  return line.substr(0, end);
}

HttpResponse GetProject(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperimentsBrief(p.id));
  LOUPE_ASSIGN_OR_RESPOND(json data, ProjectRowOf(t, p));
  json exps = json::array();
  for (const Experiment& e : es) {
    json row = swanlab::ExperimentRow(e, nullptr, GroupsOpened(t, "exp", e.id));
    row.erase("project_id");
    row["experiment_id"] = e.id;
    row["config"] = swanlab::WrappedConfig(e.config_json);
    exps.push_back(std::move(row));
  }
  data["logdir"] = t.DataDir();
  data["experiments"] = std::move(exps);
  data["colors"] = {{"light", swanlab::LightPalette()}, {"dark", swanlab::DarkPalette()}};
  return JsonOk(data);
}

// The data a key held at its last step: the number, or the media files of that step.
Result<json> LastData(TrackingService& t, const Experiment& e, const Series& s) {
  if (s.type == "line") return JsonNumber(s.last_value);
  LOUPE_ASSIGN_OR_RETURN(std::vector<MediaItem> items, t.ListMedia(e.id, s.key, 64));
  json files = json::array();
  for (const MediaItem& m : items) {
    if (m.step == s.last_step) files.push_back(m.filename);
  }
  return files;
}

HttpResponse ProjectSummaries(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperimentsBrief(p.id));
  json tags = json::array();
  std::set<std::string> seen;
  json summaries = json::object();
  for (const Experiment& e : es) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Series> ss, t.ListSeries(e.id));
    json row = json::object();
    for (const Series& s : ss) {
      if (seen.insert(s.key).second) tags.push_back(s.key);
      if (s.last_step < 0) continue;
      LOUPE_ASSIGN_OR_RESPOND(row[s.key], LastData(t, e, s));
    }
    summaries[e.name] = std::move(row);
  }
  return JsonOk({{"tags", tags}, {"summaries", summaries}});
}

Result<std::pair<std::string, std::optional<std::string>>> NameAndDescription(const json& body) {
  auto name = body.find("name");
  auto desc = body.find("description");
  if (name == body.end()) return Status::InvalidArgument("name is required");
  if (!name->is_string()) return Status::InvalidArgument("name must be a string");
  if (desc != body.end() && !desc->is_null() && !desc->is_string()) {
    return Status::InvalidArgument("description must be a string or null");
  }
  std::optional<std::string> d;
  if (desc != body.end()) d = desc->is_string() ? desc->get<std::string>() : std::string();
  return std::make_pair(name->get<std::string>(), d);
}

std::string Strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Python's truthiness of a JSON value, as swanboard applies it to `show`.
bool Truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
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
    // One entry per step: its files, and per file its caption ({caption}) or null, as the
    // SwanLab SDK writes them.
    json list = json::array();
    for (const MediaItem& m : items) {
      json more = m.caption ? json{{"caption", *m.caption}} : json(nullptr);
      if (!list.empty() && list.back()["index"] == m.step) {
        list.back()["data"].push_back(m.filename);
        list.back()["more"].push_back(std::move(more));
      } else {
        list.push_back({{"index", m.step},
                        {"data", json::array({m.filename})},
                        {"create_time", Iso(m.ts)},
                        {"more", json::array({std::move(more)})}});
      }
    }
    if (!list.empty()) list.back()["_last"] = true;
    data += ",\"sum\":" + std::to_string(list.size());
    if (!list.empty()) data += ",\"max\":null,\"min\":null";
    data += ",\"list\":" + list.dump(-1, ' ', false, json::error_handler_t::replace) + "}";
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

// swanboard get_recent_logs: the console as lines, and `error` only for a run that ended
// with an exception (error.log: when, then the traceback).
HttpResponse RecentLog(TrackingService& t, const Experiment& e) {
  LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.TailConsole(e.id, 1000));
  json error = nullptr;
  if (!e.error.empty()) {
    error = json::array({FormatIsoMicros(e.finish_time ? e.finish_time : e.update_time)});
    std::istringstream in(e.error);
    for (std::string line; std::getline(in, line);) error.push_back(line);
    error.push_back("");
  }
  if (lines.empty()) {
    if (!error.is_null()) return JsonOk({{"error", error}});
    return JsonError(Status::NotFound("experiment " + std::to_string(e.id) + " has no console log"));
  }
  json logs = json::array();
  for (const ConsoleLine& l : lines) logs.push_back(l.text);
  json out = {{"recent", {FirstToken(lines.front().text), FirstToken(lines.back().text)}}, {"logs", logs}};
  if (!error.is_null()) out["error"] = error;
  return JsonOk(out);
}

HttpResponse SetOpened(TrackingService& t, const HttpRequest& req) {
  const std::string* raw = req.Param("id");
  bool negative = raw && !raw->empty() && (*raw)[0] == '-';
  std::string digits = negative ? raw->substr(1) : (raw ? *raw : "");
  LOUPE_ASSIGN_OR_RESPOND(int64_t parsed, ParseId(&digits, "namespace id"));
  const int64_t id = negative ? -parsed : parsed;
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
  auto o = body.find("opened");
  if (o == body.end() || !(o->is_boolean() || o->is_number_integer())) {
    return JsonError(Status::InvalidArgument("opened is required and must be a boolean or 0/1"));
  }
  const int opened = Truthy(*o) ? 1 : 0;
  auto scope_id = [&](const char* f) -> Result<std::optional<int64_t>> {
    auto it = body.find(f);
    if (it == body.end() || it->is_null()) return std::optional<int64_t>();
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX)) {
      return Status::InvalidArgument(std::string(f) + " must be an integer id");
    }
    return std::optional<int64_t>(it->get<int64_t>());
  };
  LOUPE_ASSIGN_OR_RESPOND(std::optional<int64_t> pid, scope_id("project_id"));
  LOUPE_ASSIGN_OR_RESPOND(std::optional<int64_t> eid, scope_id("experiment_id"));
  if (id < 0) {
    if (id != -1 && id != -2) return JsonError(Status::NotFound("namespace " + std::to_string(id) + " not found"));
    std::string key;
    if (pid) {
      if (Status st = t.GetProject(*pid).status(); !st.ok()) return JsonError(st);
      key = GroupKey("project", *pid, id);
    } else if (eid) {
      if (Status st = t.GetExperiment(*eid).status(); !st.ok()) return JsonError(st);
      key = GroupKey("exp", *eid, id);
    } else {
      return JsonError(Status::InvalidArgument("experiment_id or project_id is required for the pinned and hidden groups"));
    }
    Status st = t.SetUiState(key, std::to_string(opened));
    return st.ok() ? JsonOk(nullptr) : JsonError(st);
  }
  // A real group is named by its id; an owner sent with it must be that group's.
  if (pid || eid) {
    Result<std::vector<Namespace>> owned = pid ? t.ListProjectNamespaces(*pid) : t.ListNamespaces(*eid);
    if (!owned.ok()) return JsonError(owned.status());
    bool found = std::any_of(owned->begin(), owned->end(), [&](const Namespace& n) { return n.id == id; });
    if (!found) {
      return JsonError(Status::NotFound("namespace " + std::to_string(id) + " is not one of " +
                                        (pid ? "project " + std::to_string(*pid) : "experiment " + std::to_string(*eid))));
    }
  }
  Status st = t.SetNamespaceOpened(id, opened);
  return st.ok() ? JsonOk(nullptr) : JsonError(st);
}

// swanboard update_charts_status: the owner's charts and groups after the change. The
// older board answered {groups: namespaces with the chart rows inlined}; both are sent.
HttpResponse SetChartStatus(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "chart id"));
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
  auto s = body.find("status");
  if (s == body.end() || !s->is_number_integer() || (s->is_number_unsigned() && s->get<uint64_t>() > 1) ||
      (s->get<int64_t>() != 0 && s->get<int64_t>() != 1 && s->get<int64_t>() != -1)) {
    return JsonError(Status::InvalidArgument("status is required and must be 1 (pinned), -1 (hidden) or 0"));
  }
  LOUPE_ASSIGN_OR_RESPOND(Chart c, t.SetChartStatus(id, static_cast<int>(s->get<int64_t>())));
  Result<json> all = Status::Internal("unreachable");
  if (c.project_id) {
    LOUPE_ASSIGN_OR_RESPOND(Project p, t.GetProject(c.project_id));
    all = ProjectCharts(t, p);
  } else {
    LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(c.experiment_id));
    all = ExperimentCharts(t, e);
  }
  if (!all.ok()) return JsonError(all.status());
  json groups = (*all)["namespaces"];
  std::map<int64_t, json> rows;
  for (const json& row : (*all)["charts"]) rows[row["id"].get<int64_t>()] = row;
  for (json& g : groups) {
    for (json& ref : g["charts"]) ref = rows.count(ref.get<int64_t>()) ? rows[ref.get<int64_t>()] : json(nullptr);
  }
  json out = std::move(*all);
  out["groups"] = std::move(groups);
  return JsonOk(out);
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
  r.push_back({"GET", "/api/v1/project/charts", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(Project p, SelectProject(t, req));
                 LOUPE_ASSIGN_OR_RESPOND(json c, ProjectCharts(t, p));
                 return JsonOk(c);
               }});
  r.push_back({"PATCH", "/api/v1/project/update", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(Project p, ProjectToChange(t, req));
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 LOUPE_ASSIGN_OR_RESPOND(auto nd, NameAndDescription(body));
                 Status st = t.RenameProject(p.id, nd.first, nd.second.value_or(p.description));
                 if (!st.ok()) return JsonError(st);
                 return JsonOk({{"updates", body}});
               }});
  r.push_back({"DELETE", "/api/v1/project", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(Project p, ProjectToChange(t, req));
                 Status st = t.DeleteProject(p.id);
                 return st.ok() ? JsonOk(json::object()) : JsonError(st);
               }});
  r.push_back({"GET", "/api/v1/experiment/:id", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json out, ExperimentRowOf(t, e));
                 out.erase("project_id");
                 out["config"] = swanlab::WrappedConfig(e.config_json);
                 json system = ParseOrEmpty(e.system_json);
                 if (!system.is_object()) system = json::object();
                 // SwanLab's metadata has memory as a number of GB; SDKs before 0.10 sent {total_gb}.
                 if (auto m = system.find("memory"); m != system.end() && m->is_object() && m->contains("total_gb")) {
                   *m = (*m)["total_gb"];
                 }
                 out["system"] = system;
                 return JsonOk(out);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/chart", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json c, ExperimentCharts(t, e));
                 return JsonOk(c);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/tag/:tag(.*)", WithExperiment(t, [&t](const HttpRequest& req, const Experiment& e) {
                 return TagData(t, req, e);
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/status", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json c, ExperimentCharts(t, e));
                 return JsonOk({{"status", SwanlabStatusCode(e.status)}, {"update_time", Iso(e.update_time)},
                                {"finish_time", Iso(e.finish_time)}, {"charts", c}});
               })});
  r.push_back({"GET", "/api/v1/experiment/:id/summary", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<Series> ss, t.ListSeries(e.id));
                 json arr = json::array();
                 for (const Series& s : ss) {
                   if (s.last_step < 0) continue;
                   LOUPE_ASSIGN_OR_RESPOND(json value, LastData(t, e, s));
                   arr.push_back({{"key", s.key}, {"value", value}});
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
                 LOUPE_ASSIGN_OR_RESPOND(auto nd, NameAndDescription(body));
                 body["name"] = Strip(nd.first);
                 Status st = t.PatchExperiment(e.id, {body["name"].get<std::string>(), nd.second, std::nullopt});
                 if (!st.ok()) return JsonError(st);
                 return JsonOk(body);  // swanboard answers the request body, the name stripped
               })});
  r.push_back({"DELETE", "/api/v1/experiment/:id", WithExperiment(t, [&t](const HttpRequest&, const Experiment& e) {
                 Status st = t.DeleteExperiment(e.id);
                 return st.ok() ? JsonOk({{"experiment_id", e.id}}) : JsonError(st);
               })});
  r.push_back({"PATCH", "/api/v1/experiment/:id/show", WithExperiment(t, [&t](const HttpRequest& req, const Experiment& e) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 16));
                 auto s = body.find("show");
                 if (s == body.end()) return JsonError(Status::InvalidArgument("show is required"));
                 Status st = t.PatchExperiment(e.id, {std::nullopt, std::nullopt, Truthy(*s)});
                 if (!st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(Experiment updated, t.GetExperiment(e.id));
                 LOUPE_ASSIGN_OR_RESPOND(Project p, t.GetProject(updated.project_id));
                 LOUPE_ASSIGN_OR_RESPOND(json project, ProjectRowOf(t, p));
                 return JsonOk({{"experiment", swanlab::ExperimentInstance(updated, project)}});
               })});
  r.push_back({"GET", "/api/v1/media/:path(.*)", [&t](const HttpRequest& req) { return Media(t, req); }});
  r.push_back({"PATCH", "/api/v1/namespace/:id/opened", [&t](const HttpRequest& req) { return SetOpened(t, req); }});
  r.push_back({"PATCH", "/api/v1/chart/:id/status", [&t](const HttpRequest& req) { return SetChartStatus(t, req); }});
  return r;
}

}  // namespace loupe
