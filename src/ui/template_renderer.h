// Renders the embedded mustache templates (kainjow mustache). Views are JSON values so
// that page code needs no template-library types; `{{x}}` is HTML-escaped, `{{{x}}}`
// is only used for HTML Loupe itself produced.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace loupe {

// Renders templates/<name>.mustache with `view`. An unknown template or a template
// error renders as an escaped error message, never as an exception.
std::string RenderTemplate(std::string_view name, const nlohmann::json& view);

// Escapes text for HTML element content and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace loupe
