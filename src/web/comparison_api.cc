// The comparison lab's API under /api/v1/comparisons: create (the calls start at once),
// list, read a comparison's grid, rate answers, decide rows, reveal, delete, the
// leaderboard, and preference pairs streamed as JSON lines.
#include "web/comparison_api.h"

#include <nlohmann/json.hpp>

#include <set>

#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

// 500 prompts of 32 KiB each, with room for the JSON around them.
constexpr size_t kMaxCreateBody = 17 << 20;
constexpr size_t kMaxSmallBody = 16 << 10;

Result<int64_t> PathId(const HttpRequest& req, const std::string& name, const std::string& what) {
  return ParseId(req.Param(name), what);
}

StreamStart Preferences(evals::ComparisonService& comparisons, StreamWorkers& workers, const HttpRequest& req,
                        int64_t comparison_id) {
  if (Status s = OnlyQueryParams(req, {"format"}); !s.ok()) return RefuseStream(s);
  std::string format = "trl";
  if (const std::string* f = req.Query("format")) format = *f;
  std::optional<llm::PreferenceFormat> parsed = llm::ParsePreferenceFormat(format);
  if (!parsed) return RefuseStream(Status::InvalidArgument("'format' must be one of trl, openai, table"));
  if (comparison_id > 0) {
    Result<Comparison> c = comparisons.store().GetComparison(comparison_id);
    if (!c.ok()) return RefuseStream(c.status());
    // The table form names each answer's prediction, and so its model.
    if (*parsed == llm::PreferenceFormat::kTable && c->blind && !c->revealed) {
      return RefuseStream(Status::Conflict("the table form names the predictions (and so the models): reveal the models first"));
    }
  }
  auto reader = std::make_shared<evals::ComparisonPreferenceReader>(comparisons.store(), comparison_id, *parsed);
  const std::string name = comparison_id > 0 ? "comparison-" + std::to_string(comparison_id) + "-preferences-"
                                             : "comparison-preferences-";
  return DownloadStream(workers, "application/x-ndjson", name + format + ".jsonl",
                        [reader](std::string& chunk) { return reader->Next(chunk); });
}

}  // namespace

std::vector<Route> ComparisonApiRoutes(evals::ComparisonService& comparisons, StreamWorkers& workers) {
  std::vector<Route> r;
  r.push_back({"POST", "/api/v1/comparisons", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxCreateBody));
    LOUPE_ASSIGN_OR_RESPOND(Comparison c, comparisons.Create(body, req.caller.user));
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Get(c.id, 0, 1));
    out.erase("items");
    out.erase("next_after");
    HttpResponse resp = JsonOk(out);
    resp.status = 201;
    return resp;
  }});
  r.push_back({"GET", "/api/v1/comparisons", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"limit", "offset"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 50, 1, 500));
    LOUPE_ASSIGN_OR_RESPOND(int64_t offset, QueryInteger(req, "offset", 0, 0, int64_t{1} << 40));
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.List(limit, offset));
    return JsonOk(out);
  }});
  r.push_back({"GET", "/api/v1/comparisons/leaderboard", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"comparison_id"}); !s.ok()) return JsonError(s);
    int64_t id = 0;
    if (const std::string* v = req.Query("comparison_id"); v && !v->empty()) {
      LOUPE_ASSIGN_OR_RESPOND(id, ParseId(v, "comparison_id"));
    }
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Leaderboard(id));
    return JsonOk(out);
  }});
  Route all_prefs{"GET", "/api/v1/comparisons/preferences", nullptr};
  all_prefs.stream = [&](const HttpRequest& req) { return Preferences(comparisons, workers, req, 0); };
  r.push_back(std::move(all_prefs));

  r.push_back({"GET", "/api/v1/comparisons/:id", WithPathId("comparison id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"after", "limit"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t after, QueryInteger(req, "after", 0, 0, INT64_MAX / 2));
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 500, 1, 500));
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Get(id, after, limit));
    return JsonOk(out);
  })});
  r.push_back({"GET", "/api/v1/comparisons/:id/ab", WithPathId("comparison id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"a", "b"}); !s.ok()) return JsonError(s);
    std::optional<int64_t> a, b;
    if (const std::string* v = req.Query("a")) {
      LOUPE_ASSIGN_OR_RESPOND(a, ParseId(v, "a"));
    }
    if (const std::string* v = req.Query("b")) {
      LOUPE_ASSIGN_OR_RESPOND(b, ParseId(v, "b"));
    }
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Ab(id, a, b));
    return JsonOk(out);
  })});
  r.push_back({"DELETE", "/api/v1/comparisons/:id", WithPathId("comparison id", [&](const HttpRequest&, int64_t id) {
    if (Status s = comparisons.Delete(id); !s.ok()) return JsonError(s);
    return JsonOk(nullptr);
  })});
  r.push_back({"POST", "/api/v1/comparisons/:id/reveal", WithPathId("comparison id", [&](const HttpRequest& req, int64_t id) {
    if (!req.body.empty() && req.body != "{}") return JsonError(Status::InvalidArgument("the body must be empty"));
    if (Status s = comparisons.Reveal(id); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Get(id, 0, 1));
    out.erase("items");
    out.erase("next_after");
    return JsonOk(out);
  })});
  r.push_back({"PUT", "/api/v1/comparisons/:id/rows/:row/decision", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t id, PathId(req, "id", "comparison id"));
    LOUPE_ASSIGN_OR_RESPOND(int64_t row, PathId(req, "row", "row id"));
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Decide(id, row, body, req.caller.user));
    return JsonOk(out);
  }});
  r.push_back({"PUT", "/api/v1/comparisons/:id/answers/:answer/ratings", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t id, PathId(req, "id", "comparison id"));
    LOUPE_ASSIGN_OR_RESPOND(int64_t cell, PathId(req, "answer", "answer id"));
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxSmallBody));
    LOUPE_ASSIGN_OR_RESPOND(json out, comparisons.Rate(id, cell, body, req.caller.user));
    return JsonOk(out);
  }});
  Route prefs{"GET", "/api/v1/comparisons/:id/preferences", nullptr};
  prefs.stream = [&](const HttpRequest& req) {
    Result<int64_t> id = ParseId(req.Param("id"), "comparison id");
    if (!id.ok()) return RefuseStream(id.status());
    return Preferences(comparisons, workers, req, *id);
  };
  r.push_back(std::move(prefs));
  return r;
}

}  // namespace loupe
