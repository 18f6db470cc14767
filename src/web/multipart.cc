#include "web/multipart.h"

#include <restinio/all.hpp>
#include <restinio/helpers/http_field_parsers/content-disposition.hpp>
#include <restinio/helpers/multipart_body.hpp>

namespace loupe {

bool IsMultipart(const HttpRequest& req) {
  return req.content_type.size() >= 19 &&
         restinio::impl::is_equal_caseless(restinio::string_view_t(req.content_type.data(), 19), "multipart/form-data");
}

Result<std::vector<FormPart>> ParseMultipart(const HttpRequest& req) {
  namespace hfp = restinio::http_field_parsers;
  const auto ct = hfp::content_type_value_t::try_parse(req.content_type);
  if (!ct) return Status::BadRequest("malformed Content-Type");
  const auto boundary = hfp::find_first(ct->media_type.parameters, "boundary");
  if (!boundary || boundary->empty()) return Status::BadRequest("multipart/form-data without a boundary");
  const std::string mark = "--" + std::string(boundary->data(), boundary->size());
  std::vector<FormPart> parts;
  for (restinio::string_view_t raw : restinio::multipart_body::split_multipart_body(req.body, mark)) {
    auto parsed = restinio::multipart_body::try_parse_part(raw);
    if (!parsed) return Status::BadRequest("malformed multipart part");
    const auto disposition = parsed->fields.opt_value_of(restinio::http_field::content_disposition);
    if (!disposition) return Status::BadRequest("a multipart part has no Content-Disposition");
    const auto value = hfp::content_disposition_value_t::try_parse(*disposition);
    if (!value) return Status::BadRequest("a multipart part has a malformed Content-Disposition");
    const auto name = hfp::find_first(value->parameters, "name");
    if (!name) return Status::BadRequest("a multipart part has no field name");
    FormPart p;
    p.name.assign(name->data(), name->size());
    if (const auto filename = hfp::find_first(value->parameters, "filename")) p.filename.emplace(filename->data(), filename->size());
    p.body.assign(parsed->body.data(), parsed->body.size());
    parts.push_back(std::move(p));
  }
  if (parts.empty()) return Status::BadRequest("the multipart body has no parts");
  return parts;
}

}  // namespace loupe
