#include "ui/page.h"

#include <charconv>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "auth/roles.h"
#include "common/url_encode.h"
#include "ui/template_renderer.h"
#include "web/http_status.h"

namespace loupe {

HttpResponse HtmlPage(const PageFrame& frame, const std::string& body, int status) {
  nlohmann::json view = {{"title", frame.title}, {"body", body}, {"version", LOUPE_VERSION},
                         {"uplot", frame.uplot}, {"scripts", frame.scripts},
                         {"has_crumbs", !frame.crumbs.empty()}, {"crumbs", nlohmann::json::array()},
                         {"preloads", frame.preload_fetches}};
  if (!frame.nav.empty()) view["nav_" + frame.nav] = true;
  for (const Crumb& c : frame.crumbs) {
    nlohmann::json crumb = {{"label", c.label}};
    if (!c.href.empty()) crumb["href"] = c.href;  // absent: the current page, not a link
    view["crumbs"].push_back(std::move(crumb));
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = RenderTemplate("layout", view);
  r.headers.emplace_back("Cache-Control", "no-store");
  AddPageSecurityHeaders(r);
  return r;
}

void AddPageSecurityHeaders(HttpResponse& r) {
  // Scripts only from Loupe itself (the pages carry data in JSON script blocks, never
  // code), and no framing by other origins (clickjacking the stop and delete buttons).
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
                         "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'");
  r.headers.emplace_back("X-Frame-Options", "SAMEORIGIN");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
}

HttpResponse HtmlErrorPage(const Status& status, const PageFrame& frame) {
  std::string body = "<h1>" + HtmlEscape(frame.title) + "</h1><div class=\"error-box\" role=\"alert\">" +
                     HtmlEscape(status.message()) + "</div>";
  // The page's own scripts expect its content; an error page has none.
  PageFrame bare = frame;
  bare.scripts.clear();
  bare.preload_fetches.clear();
  return HtmlPage(bare, body, HttpStatus(status));
}

Result<int64_t> PagePathId(const HttpRequest& req, const std::string& what) {
  const std::string* text = req.Param("id");
  int64_t id = 0;
  if (!text || text->empty()) return Status::BadRequest(what + " id is missing");
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc() || end != text->data() + text->size() || id <= 0) {
    return Status::BadRequest(what + " id must be a positive integer");
  }
  return id;
}

HttpResponse NotFoundPage(const HttpRequest& req) {
  PageFrame frame{"Not found", {{"Home", "/"}, {"Not found", ""}}, "", false, {}};
  return HtmlErrorPage(Status::NotFound("There is no page at " + req.path.substr(0, 200) + "."), frame);
}

std::string UrlEncode(const std::string& s) { return PercentEncode(s, true); }

std::string QueryString(const std::map<std::string, std::string>& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    out += out.empty() ? "?" : "&";
    out += UrlEncode(k) + "=" + UrlEncode(v);
  }
  return out;
}

std::string PaginationNav(const Page& page, const std::string& path, const std::map<std::string, std::string>& query) {
  auto href = [&](int64_t n) {
    auto q = query;
    q["page"] = std::to_string(n);
    q["per_page"] = std::to_string(page.per_page);
    return path + QueryString(q);
  };
  nlohmann::json view = {{"show", page.total > 0}, {"page", page.page}, {"total_pages", page.total_pages},
                         {"total", page.total}, {"has_prev", page.has_prev}, {"has_next", page.has_next},
                         {"prev_href", href(page.page - 1)}, {"next_href", href(page.page + 1)}};
  return RenderTemplate("pagination", view);
}

std::string FormatNumber(std::optional<double> v, int precision) {
  if (!v) return "—";
  if (std::isnan(*v)) return "NaN";
  if (std::isinf(*v)) return *v > 0 ? "+Inf" : "-Inf";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*g", precision, *v);
  // A score of 0.99999 must not read as a perfect 1, nor 99.99996 % as a perfect 100:
  // where rounding lands on 0, 1 or 100 (either sign) and the value is not exactly that,
  // digits are added until it no longer does.
  for (int p = precision + 1; p <= 17; ++p) {
    const double shown = std::strtod(buf, nullptr);
    if (shown == *v || (shown != 0 && std::fabs(shown) != 1 && std::fabs(shown) != 100)) break;
    std::snprintf(buf, sizeof(buf), "%.*g", p, *v);
  }
  return buf;
}

std::string JsonValueText(const nlohmann::json& v, bool round_floats) {
  if (v.is_string()) return v.get<std::string>();
  if (round_floats && v.is_number_float()) return FormatNumber(v.get<double>(), 6);
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatMicrosUtc(int64_t micros) {
  if (micros <= 0) return "—";
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

bool CanEdit(const HttpRequest& req) {
  return !req.caller.known || auth::RoleRank(req.caller.role) >= auth::RoleRank(auth::kEditor);
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 0) return "—";
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  // Rounded as printed: 1023.6 KiB reads "1.0 MiB", not "1024 KiB".
  while (u + 1 < std::size(units) && std::round(v) >= 1024) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v < 9.95) {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f %s", v, units[u]);
  }
  return buf;
}

std::string FormatDuration(int64_t micros) {
  if (micros < 0) return "—";
  double s = micros / 1e6;
  char buf[32];
  // Truncated, like the minutes and hours below, so 59.96 s reads 59.9s, not 60.0s.
  if (s < 60) {
    const int64_t tenths = micros / 100000;
    std::snprintf(buf, sizeof(buf), "%lld.%llds", static_cast<long long>(tenths / 10), static_cast<long long>(tenths % 10));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%dm %02ds", int(s / 60), int(s) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dh %02dm", int(s / 3600), int(s / 60) % 60);
  }
  return buf;
}

}  // namespace loupe
