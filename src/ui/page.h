// Shared pieces of every HTML page: the layout (header, breadcrumbs), error pages,
// the pagination nav, and the number/time formatting the tables use.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/pagination.h"
#include "common/status.h"
#include "web/http_types.h"

namespace loupe {

struct Crumb {
  std::string label;
  std::string href;  // empty: the current page
};

struct PageFrame {
  std::string title;
  std::vector<Crumb> crumbs;
  std::string nav;                   // "projects", "feedback", "eval": the active header link
  bool uplot = false;                // load the chart library
  std::vector<std::string> scripts;  // /static/<name> scripts to load at the end
  std::vector<std::string> preload_fetches;  // same-origin URLs the page's scripts will fetch()
};

// Wraps `body` (trusted HTML) in the layout.
HttpResponse HtmlPage(const PageFrame& frame, const std::string& body, int status = 200);
// A page that explains an error; the status follows the error code.
HttpResponse HtmlErrorPage(const Status& status, const PageFrame& frame);
// The headers every page carries: a content security policy (scripts only from Loupe,
// framing only by Loupe), nosniff, a same-origin referrer.
void AddPageSecurityHeaders(HttpResponse& r);

// Prev / "Page X of N (T total)" / Next, keeping the request's other query params.
// Empty when there are no items.
std::string PaginationNav(const Page& page, const std::string& path,
                          const std::map<std::string, std::string>& query);

// The positive integer in a page's ":id" path segment; BadRequest "<what> id must be
// a positive integer" otherwise.
Result<int64_t> PagePathId(const HttpRequest& req, const std::string& what);

// The page for a path no route serves (404, with the way back).
HttpResponse NotFoundPage(const HttpRequest& req);

// URL-encodes a query component.
std::string UrlEncode(const std::string& s);
std::string QueryString(const std::map<std::string, std::string>& query);

std::string FormatNumber(std::optional<double> v, int precision = 4);  // "—" when absent
// A JSON value as table text: strings bare, the rest as JSON; with `round_floats`,
// floats to 6 significant digits (metrics), else exact (configs, which are compared).
std::string JsonValueText(const nlohmann::json& v, bool round_floats);
std::string FormatMicrosUtc(int64_t micros);                           // "2026-02-24 19:35:12"
std::string FormatDuration(int64_t micros);                            // "1h 02m", "12.3s"
// Binary units, three significant digits: "512 B", "1.5 KiB", "16 MiB", "2.0 GiB".
std::string FormatBytes(int64_t bytes);
// Whether the caller may change things (an editor or admin, or access control is off).
bool CanEdit(const HttpRequest& req);

}  // namespace loupe
