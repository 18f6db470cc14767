// JSON and file routes the dashboard pages call besides the tracking API: a series
// exported at full resolution (CSV or JSON), and console lines by range or search.
#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <limits>
#include <future>
#include <memory>

#include "common/time_util.h"
#include "common/thread_pool.h"
#include "web/api_routes.h"
#include "web/console_text.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr int kMaxConsolePage = 5000;
constexpr int kMaxConsoleMatches = 100000;

// A download's file name from run names and keys: letters, digits, '-' and '.'; the rest '_'.
std::string FileNameBase(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return out;
}

Result<int64_t> IntQuery(const HttpRequest& req, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto res = std::from_chars(v->data(), v->data() + v->size(), out);
  if (res.ec != std::errc() || res.ptr != v->data() + v->size() || out < lo || out > hi) {
    return Status::InvalidArgument(std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
                                   std::to_string(hi));
  }
  return out;
}

// Level of a console line for the filter: from its text, the way people read logs.
const char* LineLevel(const ConsoleLine& l) {
  const std::string& t = l.text;
  auto has = [&](const char* w) { return t.find(w) != std::string::npos; };
  if (has("ERROR") || has("CRITICAL") || has("FATAL") || has("Traceback") || has("Error:") || has("Exception")) {
    return "error";
  }
  // Python's warnings module writes "file.py:3: UserWarning: text" (and FutureWarning,
  // DeprecationWarning, ...); compilers and many tools write "warning:".
  if (has("WARN") || has("Warning:") || has("warning:")) return "warning";
  if (has("DEBUG")) return "debug";
  return "info";
}

json LineJson(const ConsoleLine& l) {
  return {{"line", l.line_no}, {"stream", l.stream == 1 ? "stderr" : "stdout"}, {"ts", l.ts / 1e6},
          {"level", LineLevel(l)}, {"text", l.text}};
}

HttpResponse ExportSeries(TrackingService& t, const HttpRequest& req, int64_t id) {
  const std::string* key = req.Query("key");
  if (!key || key->empty()) return JsonError(Status::InvalidArgument("key is required"));
  const std::string* format = req.Query("format");
  std::string fmt = format ? *format : "csv";
  if (fmt != "csv" && fmt != "json") return JsonError(Status::InvalidArgument("format must be csv or json"));
  LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));
  LOUPE_ASSIGN_OR_RESPOND(Series s, t.GetSeries(id, *key));
  if (s.type != "line") return JsonError(Status::InvalidArgument("key " + *key + " holds media, not scalars"));
  SeriesQuery q{0, std::numeric_limits<int64_t>::max(), std::numeric_limits<int>::max()};
  LOUPE_ASSIGN_OR_RESPOND(SeriesResult r, t.QuerySeries(s.id, q));
  HttpResponse resp;
  std::string base = FileNameBase(e.name + "-" + *key);
  if (fmt == "csv") {
    resp.content_type = "text/csv; charset=utf-8";
    resp.body.reserve(32 + r.points.size() * 48);
    resp.body = "step,value,timestamp\n";
    for (const SeriesPoint& p : r.points) {
      resp.body += std::to_string(p.step);
      resp.body += ',';
      AppendJsonNumber(resp.body, p.value);
      resp.body += ',';
      resp.body += FormatIsoMicros(p.ts);
      resp.body += '\n';
    }
  } else {
    resp.content_type = "application/json";
    resp.body.reserve(64 + r.points.size() * 48);
    resp.body = "{\"experiment_id\":" + std::to_string(id) + ",\"key\":";
    AppendJsonString(resp.body, *key);
    resp.body += ",\"points\":[";
    bool first = true;
    for (const SeriesPoint& p : r.points) {
      if (!first) resp.body += ',';
      first = false;
      resp.body += "{\"step\":" + std::to_string(p.step) + ",\"value\":";
      AppendJsonNumber(resp.body, p.value);
      resp.body += ",\"timestamp\":\"" + FormatIsoMicros(p.ts) + "\"}";
    }
    resp.body += "]}";
  }
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + base + "." + fmt + "\"");
  return resp;
}

// Many charts' first draw in one request: the page asks for its charts in groups
// instead of one request per chart (a browser keeps only 6 connections per host).
HttpResponse SeriesBatch(TrackingService& t, ThreadPool& fanout, const HttpRequest& req, int64_t id) {
  constexpr size_t kMaxKeys = 200;
  const std::string* keys_text = req.Query("keys");
  if (!keys_text || keys_text->empty()) return JsonError(Status::InvalidArgument("keys is required (comma-separated)"));
  LOUPE_ASSIGN_OR_RESPOND(int64_t max_points, IntQuery(req, "max_points", 1500, 5, 100000));
  std::vector<std::string> keys;
  for (size_t start = 0; start <= keys_text->size();) {
    size_t comma = keys_text->find(',', start);
    if (comma == std::string::npos) comma = keys_text->size();
    if (comma > start) keys.push_back(keys_text->substr(start, comma - start));
    start = comma + 1;
  }
  if (keys.size() > kMaxKeys) return JsonError(Status::InvalidArgument("at most 200 keys per request"));
  if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
  // Two halves on two threads (the second from a small shared pool, never a thread per
  // request): a 100-chart page's first draw waits on this request.
  struct Part {
    std::string data, missing;
    Status status;
  };
  auto run = [&](size_t begin, size_t end, Part& part) {
    for (size_t i = begin; i < end; ++i) {
      const std::string& key = keys[i];
      Result<Series> s = t.GetSeries(id, key);
      if (!s.ok()) {
        if (!part.missing.empty()) part.missing += ',';
        AppendJsonString(part.missing, key);
        continue;
      }
      Result<SeriesResult> r = t.QuerySeries(s->id, SeriesQuery{0, std::numeric_limits<int64_t>::max(),
                                                                static_cast<int>(max_points)});
      if (!r.ok()) {
        part.status = r.status();
        return;
      }
      if (!part.data.empty()) part.data += ',';
      AppendSeriesData(part.data, key, s->type, *r);
    }
  };
  Part parts[2];
  size_t mid = keys.size() >= 8 ? keys.size() / 2 : keys.size();
  std::promise<void> second_done;
  bool posted = mid < keys.size() && fanout.Post([&] {
    run(mid, keys.size(), parts[1]);
    second_done.set_value();
  });
  run(0, mid, parts[0]);
  if (posted) {
    second_done.get_future().wait();
  } else if (mid < keys.size()) {
    run(mid, keys.size(), parts[1]);  // the pool is saturated: do it here
  }
  std::string data = "{\"series\":[", missing = "[";
  for (Part& p : parts) {
    if (!p.status.ok()) return JsonError(p.status);
    if (!p.data.empty()) data += (data.size() > 11 ? "," : "") + p.data;
    if (!p.missing.empty()) missing += (missing.size() > 1 ? "," : "") + p.missing;
  }
  data += "],\"missing\":" + missing + "]}";
  return JsonOkRaw(data);
}

HttpResponse ConsoleLines(TrackingService& t, const HttpRequest& req, int64_t id) {
  Result<int64_t> from = IntQuery(req, "from", 1, 1, std::numeric_limits<int64_t>::max());
  Result<int64_t> limit = IntQuery(req, "limit", 500, 1, kMaxConsolePage);
  if (!from.ok()) return JsonError(from.status());
  if (!limit.ok()) return JsonError(limit.status());
  if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
  LOUPE_ASSIGN_OR_RESPOND(int64_t total, t.CountConsole(id));
  LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.ReadConsole(id, *from, static_cast<int>(*limit)));
  json out = {{"total", total}, {"lines", json::array()}};
  for (const ConsoleLine& l : lines) out["lines"].push_back(LineJson(l));
  return JsonOk(out);
}

// The whole log as a text file, as the terminal showed it (colours and progress-bar
// redraws resolved); with timestamps=1 each line starts with its time (UTC, ISO 8601)
// and stream. Read in pages; refused past kMaxExportBytes (the lines API pages instead).
HttpResponse ConsoleExport(TrackingService& t, const HttpRequest& req, int64_t id) {
  constexpr size_t kMaxExportBytes = 256u << 20;
  LOUPE_ASSIGN_OR_RESPOND(int64_t stamps, IntQuery(req, "timestamps", 0, 0, 1));
  LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));
  HttpResponse resp;
  resp.content_type = "text/plain; charset=utf-8";
  for (int64_t from = 1;;) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.ReadConsole(id, from, kMaxConsolePage));
    for (const ConsoleLine& l : lines) {
      if (stamps) {
        resp.body += FormatIsoMicros(l.ts);
        resp.body += l.stream == 1 ? " stderr " : " stdout ";
      }
      resp.body += TerminalText(l.text);
      resp.body += '\n';
      from = l.line_no + 1;
    }
    if (resp.body.size() > kMaxExportBytes) {
      return JsonError(Status::TooLarge("the log is over " + std::to_string(kMaxExportBytes >> 20) +
                                        " MiB; read it in pages with GET .../console/lines"));
    }
    if (lines.size() < static_cast<size_t>(kMaxConsolePage)) break;
  }
  std::string base = FileNameBase(e.name);
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + base + "-console.log\"");
  return resp;
}

HttpResponse ConsoleSearch(TrackingService& t, const HttpRequest& req, int64_t id) {
  const std::string* q = req.Query("q");
  const std::string* level = req.Query("level");
  const std::string* stream = req.Query("stream");
  std::string needle = q ? *q : "";
  if (needle.size() > 1000) return JsonError(Status::InvalidArgument("q must be at most 1000 bytes"));
  std::string lvl = level ? *level : "";
  if (!lvl.empty() && lvl != "error" && lvl != "warning" && lvl != "info" && lvl != "debug") {
    return JsonError(Status::InvalidArgument("level must be error, warning, info or debug"));
  }
  int stream_no = -1;
  if (stream && !stream->empty()) {
    if (*stream != "stdout" && *stream != "stderr") {
      return JsonError(Status::InvalidArgument("stream must be stdout or stderr"));
    }
    stream_no = *stream == "stderr" ? 1 : 0;
  }
  LOUPE_ASSIGN_OR_RESPOND(int64_t limit, IntQuery(req, "limit", 10000, 1, kMaxConsoleMatches));
  if (Status st = (t.GetExperiment(id)).status(); !st.ok()) return JsonError(st);
  // Level is derived from text, so it is filtered here; the store narrows by keyword and stream.
  int fetch = lvl.empty() ? static_cast<int>(limit) + 1 : std::numeric_limits<int>::max();
  LOUPE_ASSIGN_OR_RESPOND(std::vector<ConsoleLine> lines, t.SearchConsole(id, needle, stream_no, fetch));
  json matches = json::array();
  bool truncated = false;
  for (const ConsoleLine& l : lines) {
    if (!lvl.empty() && lvl != LineLevel(l)) continue;
    if (static_cast<int64_t>(matches.size()) == limit) {
      truncated = true;
      break;
    }
    matches.push_back(LineJson(l));
  }
  return JsonOk({{"matches", matches}, {"truncated", truncated}});
}

}  // namespace

std::vector<Route> DashboardApiRoutes(TrackingService& t) {
  std::vector<Route> r;
  auto fanout = std::make_shared<ThreadPool>(2, 64);  // lives as long as the routes that share it
  r.push_back({"GET", "/api/v1/experiments/:id/series/export", WithPathId("experiment id", [&t](const HttpRequest& req, int64_t id) { return ExportSeries(t, req, id); })});
  r.push_back({"GET", "/api/v1/experiments/:id/series/batch", WithPathId("experiment id", [&t, fanout](const HttpRequest& req, int64_t id) { return SeriesBatch(t, *fanout, req, id); })});
  r.push_back({"GET", "/api/v1/experiments/:id/console/lines", WithPathId("experiment id", [&t](const HttpRequest& req, int64_t id) { return ConsoleLines(t, req, id); })});
  r.push_back({"GET", "/api/v1/experiments/:id/console/export", WithPathId("experiment id", [&t](const HttpRequest& req, int64_t id) { return ConsoleExport(t, req, id); })});
  r.push_back({"GET", "/api/v1/experiments/:id/console/search", WithPathId("experiment id", [&t](const HttpRequest& req, int64_t id) { return ConsoleSearch(t, req, id); })});
  return r;
}

}  // namespace loupe
