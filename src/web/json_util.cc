#include "web/json_util.h"
#include "common/bounded_json.h"
#include "common/number_text.h"
#include "web/http_status.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>

namespace loupe {

namespace {
int EnvelopeCode(const Status& st) {
  if (st.code() == Code::kCorrupt) return 3500;
  if (st.code() == Code::kInternal) return 3555;
  return 3000 + HttpStatus(st);
}
}  // namespace

HttpResponse Attachment(std::string body, std::string content_type, const std::string& filename) {
  HttpResponse out;
  out.content_type = std::move(content_type);
  out.body = std::move(body);
  out.headers.push_back({"Content-Disposition", "attachment; filename=\"" + filename + "\""});
  return out;
}

HttpResponse JsonOk(const nlohmann::json& data) {
  nlohmann::json env = {{"code", 0}, {"message", "success"}};
  if (!data.is_null()) env["data"] = data;
  HttpResponse r;
  r.body = env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse JsonOkRaw(const std::string& data_json) {
  HttpResponse r;
  r.body.reserve(data_json.size() + 48);
  r.body = "{\"code\":0,\"message\":\"success\",\"data\":";
  r.body += data_json;
  r.body += '}';
  return r;
}

HttpResponse JsonError(const Status& st) {
  nlohmann::json env = {{"code", EnvelopeCode(st)}, {"message", st.message()}};
  HttpResponse r;
  r.status = HttpStatus(st);
  r.body = env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

nlohmann::json JsonNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

void AppendJsonNumber(std::string& out, double v) { AppendNumberText(out, v); }

void AppendJsonString(std::string& out, const std::string& s) {
  out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SeriesEtag(int64_t series_id, int64_t version, const std::string& query_key) {
  return "\"s" + std::to_string(series_id) + "v" + std::to_string(version) +
         (query_key.empty() ? "" : "q" + std::to_string(std::hash<std::string>{}(query_key))) + "\"";
}

bool NotModified(const HttpRequest& req, const std::string& etag, HttpResponse& out) {
  if (req.if_none_match.empty() || req.if_none_match.find(etag) == std::string::npos) return false;
  out = HttpResponse{};
  out.status = 304;
  out.content_type.clear();  // 304 has no body
  SetEtag(out, etag);
  return true;
}

void SetEtag(HttpResponse& r, const std::string& etag) {
  r.headers.push_back({"ETag", etag});
  r.headers.push_back({"Cache-Control", "no-cache"});
}

Result<nlohmann::json> ParseJsonObject(const HttpRequest& req, size_t max_bytes) {
  if (req.body.size() > max_bytes) {
    return Status::TooLarge("request body is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (req.body.empty()) return Status::BadRequest("request body must be a JSON object; it is empty");
  if (JsonNestingDepth(req.body) > kMaxJsonDepth) {
    return Status::InvalidArgument("request body is nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels of arrays and objects");
  }
  nlohmann::json j = ParseBoundedJson(req.body);
  if (j.is_discarded()) return Status::BadRequest("request body is not valid JSON");
  if (!j.is_object()) return Status::BadRequest("request body must be a JSON object");
  return j;
}

Status OnlyQueryParams(const HttpRequest& req, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : req.query) {
    if (!allowed.count(k)) return Status::InvalidArgument("unknown query parameter '" + k + "'");
  }
  return Status::Ok();
}

Result<int64_t> QueryInteger(const HttpRequest& req, const std::string& name, int64_t fallback, int64_t min,
                             int64_t max) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  const std::string range =
      "'" + name + "' must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (v->empty() || v->size() > 18 || v->find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(range);
  }
  const int64_t n = std::stoll(*v);
  if (n < min || n > max) return Status::InvalidArgument(range);
  return n;
}

Result<int64_t> ParseId(const std::string* text, const std::string& what) {
  if (!text || text->empty()) return Status::InvalidArgument(what + " is required");
  int64_t v = 0;
  auto res = std::from_chars(text->data(), text->data() + text->size(), v);
  if (res.ec != std::errc() || res.ptr != text->data() + text->size() || v < 0) {
    return Status::InvalidArgument(what + " must be a non-negative integer, got '" +
                                   text->substr(0, 64) + "'");
  }
  return v;
}

void AppendSeriesData(std::string& data, const std::string& key, const std::string& type, const SeriesResult& r) {
  data.reserve(data.size() + 64 + r.points.size() * 40);
  data += "{\"key\":";
  AppendJsonString(data, key);
  data += ",\"type\":\"" + type + "\",\"count\":" + std::to_string(r.count) + ",\"min\":";
  // Over finite values: with none (a series of NaN and infinities only) there is no
  // minimum to give, which is null, not the NaN a reader would take for a value.
  auto bound = [&](double v) {
    if (std::isnan(v)) data += "null";
    else AppendJsonNumber(data, v);
  };
  bound(r.min);
  data += ",\"max\":";
  bound(r.max);
  data += r.downsampled ? ",\"downsampled\":true" : ",\"downsampled\":false";
  data += ",\"points\":[";
  bool first = true;
  for (const SeriesPoint& p : r.points) {
    if (!first) data += ',';
    first = false;
    data += '[';
    data += std::to_string(p.step);
    data += ',';
    AppendJsonNumber(data, p.value);
    data += ',';
    AppendJsonNumber(data, static_cast<double>(p.ts) / 1e6);
    data += ']';
  }
  data += "]}";
}

Handler WithPathId(const std::string& what, std::function<HttpResponse(const HttpRequest&, int64_t)> f) {
  return [what, f = std::move(f)](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(req.Param("id"), what));
    return f(req, id);
  };
}

}  // namespace loupe
