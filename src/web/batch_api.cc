// Batch tests' API under /api/v1/batches: a test set parsed (CSV or JSONL), runs created,
// listed, read with their progress and summary, results paged, cancelled, resumed,
// deleted, and downloaded as CSV or JSON lines (streamed).
#include "web/batch_api.h"

#include <nlohmann/json.hpp>

#include <set>

#include "common/csv.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxCreateBody = 64 << 20;
constexpr size_t kMaxTestSet = 64 << 20;
constexpr int64_t kExportPage = 1000;

std::string Num(const json& v) {
  if (v.is_null()) return "";
  return v.dump();
}

std::string CsvLine(const json& r) {
  std::string failed;
  for (const json& c : r["checks"]) {
    if (!c.value("passed", false)) failed += (failed.empty() ? "" : "; ") + c.value("type", std::string("?")) + ": " + c.value("message", std::string());
  }
  std::string labels;
  for (const json& l : r["labels"]) labels += (labels.empty() ? "" : ";") + l.get<std::string>();
  return std::to_string(r["case"].get<int64_t>()) + "," + CsvField(r["model_name"].get<std::string>()) + "," +
         CsvField(r["prompt"].get<std::string>()) + "," + CsvField(r["expected"].get<std::string>()) + "," +
         CsvField(labels) + "," + r["state"].get<std::string>() + "," +
         CsvField(r["response"].is_string() ? r["response"].get<std::string>() : "") + "," +
         CsvField(r["error_text"].is_string() ? r["error_text"].get<std::string>() : "") + "," +
         (r["passed"].is_boolean() ? (r["passed"].get<bool>() ? "true" : "false") : "") + "," + CsvField(failed) + "," +
         Num(r["latency_ms"]) + "," + Num(r["prompt_tokens"]) + "," + Num(r["completion_tokens"]) + "," +
         Num(r["cost_usd"]) + "," + (r["cached"].get<bool>() ? "true" : "false") + "," + Num(r["prediction_id"]) + "," +
         Num(r["judge_score"]) + "," + (r["judge_passed"].is_boolean() ? (r["judge_passed"].get<bool>() ? "true" : "false") : "") +
         "\n";
}

}  // namespace

std::vector<Route> BatchApiRoutes(evals::BatchService& batches, StreamWorkers& workers, size_t max_cases) {
  std::vector<Route> r;
  // The body is the file; ?name= says its kind (.csv, .jsonl). Nothing is stored.
  r.push_back(Offload({"POST", "/api/v1/batches/test-set", [&batches, max_cases](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"name"}); !s.ok()) return JsonError(s);
    const std::string* name = req.Query("name");
    if (!name || name->empty()) return JsonError(Status::InvalidArgument("'name' (the file's name, .csv or .jsonl) is required"));
    if (req.body.size() > kMaxTestSet) return JsonError(Status::TooLarge("a test set is at most 64 MiB"));
    LOUPE_ASSIGN_OR_RESPOND(json cases, evals::ParseTestSet(*name, req.body, max_cases));
    return JsonOk({{"cases", cases}, {"count", cases.size()}});
  }}));
  r.push_back(Offload({"POST", "/api/v1/batches", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxCreateBody));
    LOUPE_ASSIGN_OR_RESPOND(BatchRun run, batches.Create(body, req.caller.user));
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Get(run.id));
    HttpResponse resp = JsonOk(out);
    resp.status = 201;
    return resp;
  }}));
  r.push_back({"GET", "/api/v1/batches", [&](const HttpRequest& req) {
    if (Status s = OnlyQueryParams(req, {"limit", "offset"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 50, 1, 500));
    LOUPE_ASSIGN_OR_RESPOND(int64_t offset, QueryInteger(req, "offset", 0, 0, int64_t{1} << 40));
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.List(limit, offset));
    return JsonOk(out);
  }});
  r.push_back({"GET", "/api/v1/batches/:id", WithPathId("batch run id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"summary"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t summary, QueryInteger(req, "summary", 1, 0, 1));
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Get(id, summary == 1));
    return JsonOk(out);
  })});
  r.push_back({"GET", "/api/v1/batches/:id/results", WithPathId("batch run id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"after", "limit", "answered"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t after, QueryInteger(req, "after", 0, 0, INT64_MAX / 2));
    LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInteger(req, "limit", 100, 1, 1000));
    LOUPE_ASSIGN_OR_RESPOND(int64_t answered, QueryInteger(req, "answered", 0, 0, 1));
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Results(id, answered == 1, after, limit));
    return JsonOk(out);
  })});
  r.push_back({"GET", "/api/v1/batches/:id/compare", WithPathId("batch run id", [&](const HttpRequest& req, int64_t id) {
    if (Status s = OnlyQueryParams(req, {"a", "b"}); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(int64_t a, ParseId(req.Query("a"), "a"));
    LOUPE_ASSIGN_OR_RESPOND(int64_t b, ParseId(req.Query("b"), "b"));
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Compare(id, a, b));
    return JsonOk(out);
  })});
  r.push_back({"POST", "/api/v1/batches/:id/cancel", WithPathId("batch run id", [&](const HttpRequest&, int64_t id) {
    if (Status s = batches.Cancel(id); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Get(id));
    return JsonOk(out);
  })});
  r.push_back({"POST", "/api/v1/batches/:id/resume", WithPathId("batch run id", [&](const HttpRequest&, int64_t id) {
    if (Status s = batches.Continue(id); !s.ok()) return JsonError(s);
    LOUPE_ASSIGN_OR_RESPOND(json out, batches.Get(id));
    return JsonOk(out);
  })});
  r.push_back({"DELETE", "/api/v1/batches/:id", WithPathId("batch run id", [&](const HttpRequest&, int64_t id) {
    if (Status s = batches.Delete(id); !s.ok()) return JsonError(s);
    return JsonOk(nullptr);
  })});
  Route download{"GET", "/api/v1/batches/:id/export", nullptr};
  download.stream = [&](const HttpRequest& req) {
    Result<int64_t> id = ParseId(req.Param("id"), "batch run id");
    if (!id.ok()) return RefuseStream(id.status());
    if (Status s = OnlyQueryParams(req, {"format"}); !s.ok()) return RefuseStream(s);
    std::string format = "jsonl";
    if (const std::string* f = req.Query("format")) format = *f;
    if (format != "csv" && format != "jsonl") return RefuseStream(Status::InvalidArgument("'format' must be csv or jsonl"));
    if (Status s = batches.store().GetBatchRun(*id).status(); !s.ok()) return RefuseStream(s);
    auto after = std::make_shared<int64_t>(0);
    auto header = std::make_shared<bool>(format == "csv");
    const int64_t run = *id;
    return DownloadStream(
        workers, format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
        "batch-" + std::to_string(run) + "." + format, [&batches, run, after, header, format](std::string& chunk) -> Result<bool> {
          if (*header) {
            chunk += "case,model,prompt,expected,labels,state,response,error,passed,failed_checks,latency_ms,"
                     "prompt_tokens,completion_tokens,cost_usd,cached,prediction_id,judge_score,judge_passed\n";
            *header = false;
          }
          LOUPE_ASSIGN_OR_RETURN(json page, batches.Results(run, false, *after, kExportPage));
          for (const json& r : page["items"]) {
            chunk += format == "csv" ? CsvLine(r) : r.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
            *after = r["cell_id"].get<int64_t>();
          }
          return !page["next_after"].is_null();
        });
  };
  r.push_back(std::move(download));
  return r;
}

}  // namespace loupe
