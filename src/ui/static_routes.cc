#include "ui/static_routes.h"

#include <string_view>

#include "common/embedded_files.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

std::string ContentTypeOf(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace

std::vector<Route> StaticRoutes() {
  std::vector<Route> r;
  r.push_back(WithAccess(Access::kPublic, {"GET", "/static/:name", [](const HttpRequest& req) {
    const std::string* name = req.Param("name");
    for (size_t i = 0; name && i < kStaticFileCount; ++i) {
      if (*name == kStaticFiles[i].name) {
        HttpResponse resp;
        resp.content_type = ContentTypeOf(*name);
        resp.body = std::string(kStaticFiles[i].bytes);
        resp.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
        resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
        return resp;
      }
    }
    HttpResponse resp;
    resp.status = 404;
    resp.content_type = "text/plain; charset=utf-8";
    resp.body = "no static file " + (name ? HtmlEscape(name->substr(0, 200)) : std::string());
    return resp;
  }}));
  return r;
}

}  // namespace loupe
