// Datasets over HTTP (DashAI-style paths):
//   POST   /api/v1/dataset/            multipart (file, name?, format?) or JSON {name?, path, format?}
//   GET    /api/v1/dataset/            list
//   GET    /api/v1/dataset/samples     built-in samples;  POST /api/v1/dataset/samples/{name} imports one
//   GET    /api/v1/dataset/{id}        catalogue row with its columns
//   GET    /api/v1/dataset/{id}/preview?offset=&limit=&col_offset=&col_limit=
//   GET    /api/v1/dataset/{id}/stats?col_offset=&col_limit=   (wide datasets: a page of columns)
//   PATCH  /api/v1/dataset/{id}/types[?coerce=true]  {"column": "numeric"|...|"auto"}; coerce turns
//                                     values that do not convert into missing ones (counted per column)
//   GET    /api/v1/dataset/{id}/bad-rows   the rows an upload with skip_bad_rows left out, as written
//   GET    /api/v1/dataset/{id}/images?offset=&limit=48   an image dataset's rows as pixels
//   POST fields: skip_bad_rows ("true") leaves out rows that cannot be read, reported as
//   bad_rows {count, first: [{line, reason}] (100 at most), file} on the dataset.
//   A .zip/.tar/.tar.gz of PNG/JPEG pictures (or a folder of them as `path`) becomes an
//   image dataset, labels from sub-folder names or a labels.csv; image_side (4-64) sets
//   the square the pictures are scaled to (default: their own, else 32).
//   POST   /api/v1/dataset/{id}/clean  {steps, name?}: a cleaned copy that records its steps
//   DELETE /api/v1/dataset/{id}
#include <nlohmann/json.hpp>

#include <charconv>

#include "common/bounded_json.h"
#include "common/file_util.h"
#include "common/time_util.h"
#include "web/api_routes.h"
#include "web/json_util.h"
#include "web/multipart.h"

namespace loupe {

namespace {

using nlohmann::json;
using datasets::DatasetService;

json DatasetJson(const DatasetRecord& d) {
  return {{"id", d.id}, {"name", d.name}, {"format", d.format}, {"source", d.source}, {"rows", d.rows},
          {"columns", StoredJson(d.columns_json)}, {"bytes", d.bytes},
          {"created", FormatIsoMicros(d.create_time)}, {"last_modified", FormatIsoMicros(d.update_time)}};
}

HttpResponse Reply(DatasetService& s, const Result<DatasetRecord>& r, int status = 200) {
  if (!r.ok()) return JsonError(r.status());
  json body = DatasetJson(*r);
  Result<json> bad = s.BadRows(r->id);
  body["bad_rows"] = bad.ok() ? *bad : json(nullptr);
  Result<json> cleaning = s.Cleaning(r->id);
  body["cleaning"] = cleaning.ok() ? *cleaning : json(nullptr);
  HttpResponse out = JsonOk(body);
  out.status = status;
  return out;
}

Result<bool> FlagValue(const std::string& field, const std::string& v) {
  if (v == "true" || v == "1" || v == "on") return true;
  if (v == "false" || v == "0" || v == "off" || v.empty()) return false;
  return Status::InvalidArgument(field + " must be true or false (got \"" + v.substr(0, 40) + "\")");
}

Result<int> ImageSideValue(const std::string& v) {
  int out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || (out != 0 && (out < 4 || out > 64))) {
    return Status::InvalidArgument("image_side must be a whole number from 4 to 64 (got \"" + v.substr(0, 40) + "\")");
  }
  return out;
}

Result<int64_t> QueryInt(const HttpRequest& req, const char* name, int64_t fallback) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) return Status::InvalidArgument(std::string(name) + " must be an integer");
  return out;
}

HttpResponse Upload(DatasetService& s, const HttpRequest& req) {
  if (IsMultipart(req)) {
    LOUPE_ASSIGN_OR_RESPOND(std::vector<FormPart> parts, ParseMultipart(req));
    const FormPart* file = nullptr;
    std::string name, format;
    bool skip = false;
    int side = 0;
    for (const FormPart& p : parts) {
      if (p.name == "file") file = &p;
      if (p.name == "name") name = p.body;
      if (p.name == "format") format = p.body;
      if (p.name == "skip_bad_rows") {
        LOUPE_ASSIGN_OR_RESPOND(bool flag, FlagValue("skip_bad_rows", p.body));
        skip = flag;
      }
      if (p.name == "image_side" && !p.body.empty()) {
        LOUPE_ASSIGN_OR_RESPOND(int v, ImageSideValue(p.body));
        side = v;
      }
    }
    if (!file) return JsonError(Status::InvalidArgument("the form has no \"file\" field"));
    return Reply(s, s.Create(name, file->filename.value_or(""), format, file->body, "", skip, side), 201);
  }
  size_t limit = 1 << 20;
  if (req.body.size() > limit) return JsonError(Status::TooLarge("a JSON body is at most 1 MiB; upload files as multipart/form-data"));
  LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, limit));
  auto path = body.find("path");
  if (path == body.end() || !path->is_string()) {
    return JsonError(Status::InvalidArgument("send a multipart form with a \"file\" field, or JSON with a \"path\" string"));
  }
  std::string name, format;
  for (auto [key, out] : {std::pair{"name", &name}, {"format", &format}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    // value(key, "") would throw on a number (a 500): found by fuzz/api_handlers.
    if (!it->is_string()) return JsonError(Status::InvalidArgument(std::string(key) + " must be a string"));
    *out = it->get<std::string>();
  }
  bool skip = false;
  if (auto it = body.find("skip_bad_rows"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return JsonError(Status::InvalidArgument("skip_bad_rows must be true or false"));
    skip = it->get<bool>();
  }
  int side = 0;
  if (auto it = body.find("image_side"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) return JsonError(Status::InvalidArgument("image_side must be a whole number from 4 to 64"));
    LOUPE_ASSIGN_OR_RESPOND(int v, ImageSideValue(std::to_string(it->get<int64_t>())));
    side = v;
  }
  return Reply(s, s.CreateFromPath(name, path->get<std::string>(), format, skip, side), 201);
}

}  // namespace

std::vector<Route> DatasetApiRoutes(DatasetService& s) {
  std::vector<Route> r;
  // Parsing and type inference are CPU-heavy: offloaded (see Route::offload).
  r.push_back(Offload({"POST", "/api/v1/dataset/", [&s](const HttpRequest& req) { return Upload(s, req); }}));
  r.push_back({"GET", "/api/v1/dataset/", [&s](const HttpRequest&) {
                 LOUPE_ASSIGN_OR_RESPOND(std::vector<DatasetRecord> all, s.List());
                 json out = json::array();
                 for (const DatasetRecord& d : all) out.push_back(DatasetJson(d));
                 return JsonOk(out);
               }});
  r.push_back({"GET", "/api/v1/dataset/samples", [&s](const HttpRequest&) {
                 json out = json::array();
                 for (const auto& x : s.Samples()) {
                   out.push_back({{"name", x.name}, {"description", x.description}, {"available", x.available}});
                 }
                 return JsonOk(out);
               }});
  r.push_back(Offload({"POST", "/api/v1/dataset/samples/:name", [&s](const HttpRequest& req) {
                 return Reply(s, s.ImportSample(*req.Param("name")), 201);
               }}));
  r.push_back({"GET", "/api/v1/dataset/:id", WithPathId("dataset id", [&s](const HttpRequest&, int64_t id) {
                 return Reply(s, s.Get(id));
               })});
  r.push_back(Offload({"GET", "/api/v1/dataset/:id/images", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t offset, QueryInt(req, "offset", 0));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInt(req, "limit", 48));
                 Result<json> images = s.Images(id, offset, limit);
                 if (!images.ok()) return JsonError(images.status());
                 if (images->is_null()) return JsonError(Status::NotFound("dataset " + std::to_string(id) + " has no pixel columns"));
                 return JsonOk(*images);
               })}));
  r.push_back({"GET", "/api/v1/dataset/:id/bad-rows", WithPathId("dataset id", [&s](const HttpRequest&, int64_t id) {
                 Result<std::pair<std::string, std::string>> file = s.BadRowsFile(id);
                 if (!file.ok()) return JsonError(file.status());
                 Result<std::string> bytes = ReadFileUpTo(file->first, size_t{256} << 20);
                 if (!bytes.ok()) return JsonError(bytes.status());
                 return Attachment(std::move(*bytes),
                                   file->second.ends_with(".jsonl") ? "application/x-ndjson" : "text/plain; charset=utf-8",
                                   file->second);
               })});
  r.push_back({"GET", "/api/v1/dataset/:id/preview", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t offset, QueryInt(req, "offset", 0));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t limit, QueryInt(req, "limit", 100));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t col_offset, QueryInt(req, "col_offset", 0));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t col_limit, QueryInt(req, "col_limit", DatasetService::kDefaultColumnPage));
                 Result<json> p = s.Preview(id, offset, limit, col_offset, col_limit);
                 return p.ok() ? JsonOk(*p) : JsonError(p.status());
               })});
  r.push_back({"GET", "/api/v1/dataset/:id/stats", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(int64_t col_offset, QueryInt(req, "col_offset", 0));
                 LOUPE_ASSIGN_OR_RESPOND(int64_t col_limit, QueryInt(req, "col_limit", DatasetService::kDefaultColumnPage));
                 Result<json> st = s.Stats(id, col_offset, col_limit);
                 return st.ok() ? JsonOk(*st) : JsonError(st.status());
               })});
  r.push_back(Offload({"PATCH", "/api/v1/dataset/:id/types", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 1 << 20));
                 std::map<std::string, std::string> types;
                 for (auto it = body.begin(); it != body.end(); ++it) {
                   if (!it->is_string()) return JsonError(Status::InvalidArgument("column \"" + it.key() + "\": the type must be a string"));
                   types[it.key()] = it->get<std::string>();
                 }
                 if (types.empty()) return JsonError(Status::InvalidArgument("give at least one {\"column\": \"type\"}"));
                 bool coerce = false;
                 if (const std::string* v = req.Query("coerce")) {
                   LOUPE_ASSIGN_OR_RESPOND(bool flag, FlagValue("coerce", *v));
                   coerce = flag;
                 }
                 return Reply(s, s.SetTypes(id, types, coerce));
               })}));
  // POST {steps: [...], name?}: a cleaned copy (datasets/cleaning.h), 201 with its
  // `cleaning` record; the dataset itself is not changed.
  r.push_back(Offload({"POST", "/api/v1/dataset/:id/clean", WithPathId("dataset id", [&s](const HttpRequest& req, int64_t id) {
                 LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, 64 << 10));
                 for (auto it = body.begin(); it != body.end(); ++it) {
                   if (it.key() != "steps" && it.key() != "name") {
                     return JsonError(Status::InvalidArgument("unknown field \"" + it.key().substr(0, 40) + "\" (steps, name)"));
                   }
                 }
                 std::string name;
                 if (auto n = body.find("name"); n != body.end() && !n->is_null()) {
                   if (!n->is_string()) return JsonError(Status::InvalidArgument("name must be a string"));
                   name = n->get<std::string>();
                 }
                 auto steps = body.find("steps");
                 if (steps == body.end()) return JsonError(Status::InvalidArgument("steps is required: a list of cleaning steps"));
                 return Reply(s, s.Clean(id, name, *steps), 201);
               })}));
  r.push_back({"DELETE", "/api/v1/dataset/:id", WithPathId("dataset id", [&s](const HttpRequest&, int64_t id) {
                 Status st = s.Delete(id);
                 return st.ok() ? JsonOk({{"id", id}}) : JsonError(st);
               })});
  return r;
}

}  // namespace loupe
