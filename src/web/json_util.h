// JSON helpers shared by the API handlers: the {code, message, data} envelope every
// /api route answers with, non-finite numbers, and parsing small request bodies.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <set>
#include <string>

#include "common/status.h"
#include "store/store_types.h"
#include "web/http_types.h"

namespace loupe {

// {"code": 0, "message": "success", "data": data}; data left out when null.
HttpResponse JsonOk(const nlohmann::json& data);
// Same envelope around an already serialized data object (for hot paths).
HttpResponse JsonOkRaw(const std::string& data_json);
// {"code": 3000 + HTTP status (3500 corrupt, 3555 unexpected), "message": ...}.
HttpResponse JsonError(const Status& st);
// A download: `body` as `content_type`, saved as `filename` (characters that need no quoting).
HttpResponse Attachment(std::string body, std::string content_type, const std::string& filename);

// In a handler: `LOUPE_ASSIGN_OR_RESPOND(Experiment e, t.GetExperiment(id));` answers the
// request with the Result's error (JsonError), or binds its value.
#define LOUPE_ASSIGN_OR_RESPOND(lhs, expr) \
  LOUPE_ASSIGN_OR_RESPOND_IMPL(LOUPE_STATUS_CONCAT(_loupe_result_, __LINE__), lhs, expr)
#define LOUPE_ASSIGN_OR_RESPOND_IMPL(result, lhs, expr)   \
  auto result = (expr);                                    \
  if (!result.ok()) return ::loupe::JsonError(result.status()); \
  lhs = std::move(*result)

// Finite numbers as JSON numbers; NaN, Infinity and -Infinity as those strings
// (JSON has no literal for them).
nlohmann::json JsonNumber(double v);
void AppendJsonNumber(std::string& out, double v);
void AppendJsonString(std::string& out, const std::string& s);

// {key, type, count, min, max, downsampled, points: [[step, value, unix_seconds]]}
void AppendSeriesData(std::string& out, const std::string& key, const std::string& type, const SeriesResult& r);

// Chart data is revalidated, not re-sent: an ETag derived from the series version
// (and the query), and 304 Not Modified when the client already holds it.
std::string SeriesEtag(int64_t series_id, int64_t version, const std::string& query_key);
bool NotModified(const HttpRequest& req, const std::string& etag, HttpResponse& out);
void SetEtag(HttpResponse& r, const std::string& etag);

// Parses a request body that must be a JSON object.
Result<nlohmann::json> ParseJsonObject(const HttpRequest& req, size_t max_bytes);
// Parses a path parameter or query value as a non-negative integer id.
Result<int64_t> ParseId(const std::string* text, const std::string& what);
// InvalidArgument naming the first query parameter not in `allowed`.
Status OnlyQueryParams(const HttpRequest& req, const std::set<std::string>& allowed);
// The query parameter `name` as a whole number from `min` to `max`; `fallback` when absent.
Result<int64_t> QueryInteger(const HttpRequest& req, const std::string& name, int64_t fallback, int64_t min,
                             int64_t max);
// Wraps a handler that needs the `:id` path parameter as an integer (`what` names it
// in the error, e.g. "job id").
Handler WithPathId(const std::string& what, std::function<HttpResponse(const HttpRequest&, int64_t)> f);

}  // namespace loupe
