// Loupe's native tracking API: create/resume runs, log metrics, config, system
// metadata, console lines and media, heartbeat, finish, and read series back.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>

#include "common/bounded_json.h"
#include "common/json_order.h"
#include "common/time_util.h"
#include "tracking/validation.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/metric_batch_parser.h"

namespace loupe {

namespace {

using nlohmann::json;

json ExperimentJson(const Experiment& e) {
  return {
      {"id", e.id},
      {"project_id", e.project_id},
      {"run_id", e.run_id},
      {"name", e.name},
      {"description", e.description},
      {"status", RunStatusName(e.status)},
      {"show", e.show},
      {"create_time", FormatIsoMicros(e.create_time)},
      {"update_time", FormatIsoMicros(e.update_time)},
      {"finish_time", e.finish_time ? json(FormatIsoMicros(e.finish_time)) : json(nullptr)},
      {"last_seen", FormatIsoMicros(e.last_seen)},
      {"config", StoredJson(e.config_json)},
      {"system", StoredJson(e.system_json)},
      {"error", e.error.empty() ? json(nullptr) : json(e.error)},
      {"tags", e.tags},
  };
}

json ProjectJson(const Project& p) {
  return {{"id", p.id}, {"name", p.name}, {"description", p.description},
          {"create_time", FormatIsoMicros(p.create_time)}, {"update_time", FormatIsoMicros(p.update_time)}};
}

// The optional "tags" of a body: absent or null is none; else an array of strings.
Result<std::optional<std::vector<std::string>>> TagsFromBody(const json& body) {
  auto it = body.find("tags");
  if (it == body.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return Status::InvalidArgument("tags must be an array of strings");
  std::vector<std::string> tags;
  for (const json& t : *it) {
    if (!t.is_string()) return Status::InvalidArgument("tags must be an array of strings");
    tags.push_back(t.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(tags));
}

json AckJson(const WriteAck& ack) {
  return {{"status", RunStatusName(ack.status)}, {"duplicate", ack.duplicate}};
}

// The optional "client" of a JSON body: absent or null is "", anything else must be a
// valid client id (an empty string is refused, as in a metrics batch).
Result<std::string> ClientFromBody(const json& body) {
  auto it = body.find("client");
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument("client must be a string");
  LOUPE_RETURN_IF_ERROR(ValidateClientId(it->get<std::string>()));
  return it->get<std::string>();
}

// An optional Unix time in seconds, as micros (0 when absent or null).
Result<int64_t> UnixSecondsField(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return int64_t{0};
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0 ||
      it->get<double>() > 1e11) {
    return Status::InvalidArgument(std::string(field) + " must be Unix time in seconds");
  }
  return static_cast<int64_t>(it->get<double>() * 1e6);
}

// The client id and seq of a write sent as query parameters (media uploads).
Result<ClientWrite> ClientFromQuery(const HttpRequest& req) {
  ClientWrite from;
  if (const std::string* client = req.Query("client")) {
    LOUPE_RETURN_IF_ERROR(ValidateClientId(*client));
    from.client = *client;
  }
  if (req.Query("seq")) {
    LOUPE_ASSIGN_OR_RETURN(from.seq, ParseId(req.Query("seq"), "seq"));
  }
  if (const std::string* origin = req.Query("step_origin")) {
    LOUPE_ASSIGN_OR_RETURN(from.origin, ParseStepOrigin(*origin));
  }
  return from;
}

// Wraps a handler that needs the experiment id from the path.
Handler WithExperiment(std::function<HttpResponse(const HttpRequest&, int64_t)> f) {
  return WithPathId("experiment id", std::move(f));
}

Result<int64_t> OptionalInt(const HttpRequest& req, const std::string& name, int64_t fallback) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto res = std::from_chars(v->data(), v->data() + v->size(), out);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size()) {
    return Status::InvalidArgument(name + " must be an integer");
  }
  return out;
}

std::optional<std::string> OptionalString(const json& body, const char* field, Status& err) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    err = Status::InvalidArgument(std::string(field) + " must be a string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

// PATCH body {name?, description?, tags?}: fields left out keep their value.
HttpResponse PatchExperiment(TrackingService& t, const HttpRequest& req, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "name" && it.key() != "description" && it.key() != "tags") {
      return JsonError(Status::InvalidArgument("unknown field '" + it.key().substr(0, 64) +
                                               "'; an experiment's name, description and tags can be changed"));
    }
  }
  ExperimentPatch patch;
  Status err;
  patch.name = OptionalString(body, "name", err);
  patch.description = OptionalString(body, "description", err);
  if (!err.ok()) return JsonError(err);
  LOUPE_ASSIGN_OR_RESPOND(patch.tags, TagsFromBody(body));
  if (Status st = t.PatchExperiment(id, patch); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));
  return JsonOk(ExperimentJson(e));
}

HttpResponse PatchProject(TrackingService& t, const HttpRequest& req, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "name" && it.key() != "description") {
      return JsonError(Status::InvalidArgument("unknown field '" + it.key().substr(0, 64) +
                                               "'; a project's name and description can be changed"));
    }
  }
  LOUPE_ASSIGN_OR_RESPOND(Project p, t.GetProject(id));
  Status err;
  std::string name = OptionalString(body, "name", err).value_or(p.name);
  std::string description = OptionalString(body, "description", err).value_or(p.description);
  if (!err.ok()) return JsonError(err);
  if (Status st = t.RenameProject(id, name, description); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(Project updated, t.GetProject(id));
  return JsonOk(ProjectJson(updated));
}

// A media key's files, oldest first: GET .../media?key=&limit=1000. Text samples and
// histograms come inline, so a panel draws them from one request.
HttpResponse ListMediaOfKey(TrackingService& t, const HttpRequest& req, int64_t id) {
  const std::string* key = req.Query("key");
  if (!key || key->empty()) return JsonError(Status::InvalidArgument("key is required"));
  LOUPE_ASSIGN_OR_RESPOND(int64_t limit, OptionalInt(req, "limit", 1000));
  if (limit < 1 || limit > 5000) return JsonError(Status::InvalidArgument("limit must be between 1 and 5000"));
  LOUPE_ASSIGN_OR_RESPOND(Series s, t.GetSeries(id, *key));
  if (s.type == "line") {
    return JsonError(Status::InvalidArgument("key " + key->substr(0, 200) + " holds numbers, not media"));
  }
  LOUPE_ASSIGN_OR_RESPOND(std::vector<MediaItem> items, t.ListMedia(id, *key, static_cast<int>(limit) + 1));
  const bool truncated = items.size() > static_cast<size_t>(limit);
  if (truncated) items.erase(items.begin());  // the newest `limit` are kept
  json arr = json::array();
  for (const MediaItem& m : items) {
    json item = {{"step", m.step},
                 {"url", "/api/v1/media/" + m.filename + "?experiment_id=" + std::to_string(id)},
                 {"content_type", m.content_type},
                 {"ts", m.ts / 1e6},
                 {"caption", m.caption ? json(*m.caption) : json(nullptr)}};
    if (s.type == "text" || s.type == "histogram") {
      Result<std::string> body = t.ReadMedia(id, m.filename, 64 * 1024);
      if (!body.ok()) {
        item["error"] = body.status().message();
      } else if (s.type == "text") {
        item["text"] = *body;
      } else {
        item["histogram"] = StoredJson(*body);
      }
    }
    arr.push_back(std::move(item));
  }
  return JsonOk({{"key", *key}, {"type", s.type}, {"truncated", truncated}, {"items", arr}});
}

// The "config" object of a body already parsed, as JSON text in the order the client
// sent its keys (SwanLab numbers config keys by that order).
Result<std::string> ConfigInClientOrder(const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(JsonMembers members, FieldMembersInOrder(req.body, "config"));
  return ObjectText(members);
}

HttpResponse CreateExperiment(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
  NewExperiment e;
  Status err;
  e.project = OptionalString(body, "project", err).value_or("");
  e.name = OptionalString(body, "name", err).value_or("");
  e.run_id = OptionalString(body, "run_id", err).value_or("");
  e.description = OptionalString(body, "description", err).value_or("");

  if (!err.ok()) return JsonError(err);
  LOUPE_ASSIGN_OR_RESPOND(std::optional<std::vector<std::string>> tags, TagsFromBody(body));
  if (tags) e.tags = std::move(*tags);
  LOUPE_ASSIGN_OR_RESPOND(e.client, ClientFromBody(body));
  LOUPE_ASSIGN_OR_RESPOND(e.client_start, UnixSecondsField(body, "start_time"));
  if (auto c = body.find("config"); c != body.end() && !c->is_null()) {
    if (!c->is_object()) return JsonError(Status::InvalidArgument("config must be a JSON object"));
    LOUPE_ASSIGN_OR_RESPOND(e.config_json, ConfigInClientOrder(req));
  }
  LOUPE_ASSIGN_OR_RESPOND(CreatedExperiment created, t.StartRun(e));
  json out = ExperimentJson(created.experiment);
  out["resumed"] = created.resumed;
  out["step_base"] = created.step_base;
  HttpResponse r = JsonOk(out);
  if (!created.resumed) r.status = 201;
  return r;
}

HttpResponse LogMetrics(TrackingService& t, const HttpRequest& req, int64_t id) {
  MetricBatch batch;
  batch.experiment_id = id;
  if (Status st = ParseMetricBatch(req.body, t.limits(), batch); !st.ok()) return JsonError(st);
  size_t n = batch.points.size();
  LOUPE_ASSIGN_OR_RESPOND(WriteAck ack, t.LogMetrics(std::move(batch)));
  json out = AckJson(ack);
  out["accepted"] = ack.duplicate ? 0 : n - ack.refused_points;
  if (!ack.refused.empty()) {
    json refused = json::array();
    for (const WriteAck::Refusal& r : ack.refused) {
      refused.push_back({{"key", r.key}, {"step", r.step < 0 ? json(nullptr) : json(r.step)}, {"message", r.message}});
    }
    out["refused"] = std::move(refused);
    out["refused_points"] = ack.refused_points;
  }
  return JsonOk(out);
}

HttpResponse ReadSeries(TrackingService& t, const HttpRequest& req, int64_t id) {
  const std::string* key = req.Query("key");
  if (!key || key->empty()) return JsonError(Status::InvalidArgument("key is required"));
  Result<int64_t> from = OptionalInt(req, "from", 0);
  Result<int64_t> to = OptionalInt(req, "to", std::numeric_limits<int64_t>::max());
  Result<int64_t> max_points = OptionalInt(req, "max_points", 1500);
  for (const auto* r : {&from, &to, &max_points}) {
    if (!r->ok()) return JsonError(r->status());
  }
  // 5 at least: the first and last points and one bucket's minimum, maximum and NaN/Inf.
  if (*max_points < 5 || *max_points > 100000) {
    return JsonError(Status::InvalidArgument("max_points must be between 5 and 100000"));
  }
  if (*from > *to) return JsonError(Status::InvalidArgument("from must not be greater than to"));
  if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(Series s, t.GetSeries(id, *key));
  const std::string etag = SeriesEtag(s.id, s.version, std::to_string(*from) + "/" + std::to_string(*to) +
                                                              "/" + std::to_string(*max_points));
  if (HttpResponse not_modified; NotModified(req, etag, not_modified)) return not_modified;
  SeriesQuery q{*from, *to, static_cast<int>(*max_points)};
  LOUPE_ASSIGN_OR_RESPOND(SeriesResult r, t.QuerySeries(s.id, q));
  std::string data;
  AppendSeriesData(data, *key, s.type, r);
  HttpResponse out = JsonOkRaw(data);
  SetEtag(out, etag);
  return out;
}

HttpResponse LogConsole(TrackingService& t, const HttpRequest& req, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
  ConsoleBatch batch;
  batch.experiment_id = id;
  if (auto s = body.find("seq"); s != body.end() && !s->is_null()) {
    if (!s->is_number_integer() || s->get<int64_t>() < 0) {
      return JsonError(Status::InvalidArgument("seq must be a non-negative integer"));
    }
    batch.from.seq = s->get<int64_t>();
  }
  LOUPE_ASSIGN_OR_RESPOND(batch.from.client, ClientFromBody(body));
  auto lines = body.find("lines");
  if (lines == body.end() || !lines->is_array()) {
    return JsonError(Status::InvalidArgument("lines is required and must be an array"));
  }
  size_t i = 0;
  for (const json& l : *lines) {
    std::string where = "lines[" + std::to_string(i++) + "]";
    if (!l.is_object()) return JsonError(Status::InvalidArgument(where + " must be an object"));
    ConsoleLine line;
    auto text = l.find("text");
    if (text == l.end() || !text->is_string()) {
      return JsonError(Status::InvalidArgument(where + ".text is required and must be a string"));
    }
    line.text = text->get<std::string>();
    auto stream_it = l.find("stream");
    std::string stream = "stdout";
    if (stream_it != l.end() && !stream_it->is_null()) {
      stream = stream_it->is_string() ? stream_it->get<std::string>() : "";
    }
    if (stream != "stdout" && stream != "stderr") {
      return JsonError(Status::InvalidArgument(where + ".stream must be \"stdout\" or \"stderr\""));
    }
    line.stream = stream == "stderr" ? 1 : 0;
    if (auto ts = l.find("ts"); ts != l.end() && !ts->is_null()) {
      if (!ts->is_number() || !std::isfinite(ts->get<double>()) || ts->get<double>() < 0 ||
          ts->get<double>() > t.limits().max_unix_seconds) {
        return JsonError(Status::InvalidArgument(where + ".ts must be Unix time in seconds"));
      }
      line.ts = static_cast<int64_t>(ts->get<double>() * 1e6);
    }
    batch.lines.push_back(std::move(line));
  }
  LOUPE_ASSIGN_OR_RESPOND(WriteAck ack, t.LogConsole(std::move(batch)));
  return JsonOk(AckJson(ack));
}

HttpResponse ReadConsole(TrackingService& t, const HttpRequest& req, int64_t id) {
  LOUPE_ASSIGN_OR_RESPOND(int64_t limit, OptionalInt(req, "limit", 1000));
  if (limit < 1 || limit > 100000) return JsonError(Status::InvalidArgument("limit must be between 1 and 100000"));
  if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.TailConsole(id, static_cast<int>(limit)));
  json arr = json::array();
  for (const ConsoleLine& l : lines) {
    arr.push_back({{"line", l.line_no}, {"stream", l.stream ? "stderr" : "stdout"},
                   {"ts", static_cast<double>(l.ts) / 1e6}, {"text", l.text}});
  }
  return JsonOk({{"lines", arr}});
}

HttpResponse LogMedia(TrackingService& t, const HttpRequest& req, int64_t id) {
  const std::string* key = req.Query("key");
  const std::string* filename = req.Query("filename");
  if (!key) return JsonError(Status::InvalidArgument("key is required"));
  if (!filename) return JsonError(Status::InvalidArgument("filename is required"));
  LOUPE_ASSIGN_OR_RESPOND(int64_t step, ParseId(req.Query("step"), "step"));
  LOUPE_ASSIGN_OR_RESPOND(ClientWrite from, ClientFromQuery(req));
  std::optional<std::string> caption;
  if (const std::string* c = req.Query("caption")) caption = *c;
  LOUPE_ASSIGN_OR_RESPOND(WriteAck ack, t.LogMedia(id, *key, step, *filename, req.body, from, caption));
  return JsonOk(AckJson(ack));
}

}  // namespace

std::vector<Route> NativeApiRoutes(TrackingService& t) {
  std::vector<Route> r;
  // 503 while writes fail (a full disk, an I/O error): reads still work, but a monitor
  // must see that nothing new is being kept.
  r.push_back(WithAccess(Access::kPublic, {"GET", "/api/v1/health", [&t](const HttpRequest&) {
                 Status writes = t.WriteHealth();
                 if (!writes.ok()) return JsonError(Status::Unavailable("writes are failing: " + writes.message()));
                 return JsonOk({{"status", "ok"}, {"version", LOUPE_VERSION}});
               }}));
  r.push_back({"GET", "/api/v1/projects", [&t](const HttpRequest&) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<Project> ps, t.ListProjects());
                 json arr = json::array();
                 for (const Project& p : ps) arr.push_back(ProjectJson(p));
                 return JsonOk({{"projects", arr}});
               }});
  r.push_back({"PATCH", "/api/v1/projects/:id", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "project id"));
                 return PatchProject(t, req, id);
               }});
  r.push_back({"DELETE", "/api/v1/projects/:id", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "project id"));
                 if (Status st = t.DeleteProject(id); !st.ok()) return JsonError(st);
                 return JsonOk(json::object());
               }});
  r.push_back({"GET", "/api/v1/projects/:id/experiments", [&t](const HttpRequest& req) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), "project id"));
                 if (Status st = (t.GetProject(id)).status(); !st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<Experiment> es, t.ListExperiments(id));
                 json arr = json::array();
                 for (const Experiment& e : es) arr.push_back(ExperimentJson(e));
                 return JsonOk({{"experiments", arr}});
               }});
  r.push_back({"POST", "/api/v1/experiments", [&t](const HttpRequest& req) { return CreateExperiment(t, req); }});
  r.push_back({"GET", "/api/v1/experiments/:id", WithExperiment([&t](const HttpRequest&, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));
                 return JsonOk(ExperimentJson(e));
               })});
  r.push_back({"GET", "/api/v1/experiments/:id/media", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return ListMediaOfKey(t, req, id);
               })});
  r.push_back({"PATCH", "/api/v1/experiments/:id", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return PatchExperiment(t, req, id);
               })});
  r.push_back({"DELETE", "/api/v1/experiments/:id", WithExperiment([&t](const HttpRequest&, int64_t id) {
                 if (Status st = t.DeleteExperiment(id); !st.ok()) return JsonError(st);
                 return JsonOk(json::object());
               })});
  // The pages' stop button: the run's client sees "stopped" in its next answer and ends.
  r.push_back({"POST", "/api/v1/experiments/:id/stop", WithExperiment([&t](const HttpRequest&, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.Stop(id));
                 return JsonOk(ExperimentJson(e));
               })});
  r.push_back(NotAudited({"POST", "/api/v1/experiments/:id/metrics", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return LogMetrics(t, req, id);
               })}));
  r.push_back({"GET", "/api/v1/experiments/:id/series", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return ReadSeries(t, req, id);
               })});
  r.push_back({"GET", "/api/v1/experiments/:id/keys", WithExperiment([&t](const HttpRequest&, int64_t id) {
                 if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<Series> ss, t.ListSeries(id));
                 json arr = json::array();
                 for (const Series& s : ss) {
                   arr.push_back({{"key", s.key}, {"type", s.type}, {"chart_id", s.chart_id},
                                  {"first_step", s.first_step}, {"last_step", s.last_step},
                                  {"last_value", s.type == "line" ? JsonNumber(s.last_value) : json(nullptr)}});
                 }
                 return JsonOk({{"keys", arr}});
               })});
  r.push_back(NotAudited({"PUT", "/api/v1/experiments/:id/config", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
                 auto c = body.find("config");
                 if (c == body.end() || !c->is_object()) {
                   return JsonError(Status::InvalidArgument("config is required and must be a JSON object"));
                 }
                 LOUPE_ASSIGN_OR_RESPOND(std::string config, ConfigInClientOrder(req));
                 Status st = t.LogConfig(id, config);
                 return st.ok() ? JsonOk(nullptr) : JsonError(st);
               })}));
  r.push_back(NotAudited({"PUT", "/api/v1/experiments/:id/system", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
                 auto s = body.find("system");
                 if (s == body.end() || !s->is_object()) {
                   return JsonError(Status::InvalidArgument("system is required and must be a JSON object"));
                 }
                 std::vector<std::string> reqs;
                 if (auto rq = body.find("requirements"); rq != body.end() && !rq->is_null()) {
                   if (!rq->is_array()) return JsonError(Status::InvalidArgument("requirements must be an array of strings"));
                   for (const json& line : *rq) {
                     if (!line.is_string()) return JsonError(Status::InvalidArgument("requirements must be an array of strings"));
                     reqs.push_back(line.get<std::string>());
                   }
                 }
                 Status st = t.LogSystem(id, s->dump(), reqs);
                 return st.ok() ? JsonOk(nullptr) : JsonError(st);
               })}));
  r.push_back(NotAudited({"POST", "/api/v1/experiments/:id/console", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return LogConsole(t, req, id);
               })}));
  r.push_back({"GET", "/api/v1/experiments/:id/console", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return ReadConsole(t, req, id);
               })});
  r.push_back(NotAudited({"POST", "/api/v1/experiments/:id/media", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 return LogMedia(t, req, id);
               })}));
  r.push_back(NotAudited({"POST", "/api/v1/experiments/:id/heartbeat", WithExperiment([&t](const HttpRequest&, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(RunStatus s, t.Heartbeat(id));
                 return JsonOk({{"status", RunStatusName(s)}});
               })}));
  r.push_back({"POST", "/api/v1/experiments/:id/finish", WithExperiment([&t](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, t.limits().max_body_bytes));
                 Status err;
                 std::string name = OptionalString(body, "status", err).value_or("finished");
                 std::optional<RunStatus> s = ParseRunStatus(name);
                 if (!err.ok() || !s || *s == RunStatus::kRunning) {
                   return JsonError(Status::InvalidArgument(
                       "status must be \"finished\", \"crashed\", \"failed\" or \"stopped\""));
                 }
                 LOUPE_ASSIGN_OR_RESPOND(std::string client, ClientFromBody(body));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t at, UnixSecondsField(body, "time"));
                 std::string error = OptionalString(body, "error", err).value_or("");
                 if (!err.ok()) return JsonError(Status::InvalidArgument("error must be a string (a traceback)"));
                 LOUPE_ASSIGN_OR_RESPOND(RunStatus now, t.Finish(id, *s, client, at, error));
                 return JsonOk({{"status", RunStatusName(now)}});
               })});
  return r;
}

}  // namespace loupe
