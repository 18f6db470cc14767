#include "ui/template_renderer.h"

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>

#include "common/embedded_files.h"

namespace loupe {

namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

data ToData(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      data d{data::type::object};
      for (auto it = v.begin(); it != v.end(); ++it) d.set(it.key(), ToData(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      data d{data::type::list};
      for (const auto& item : v) d.push_back(ToData(item));
      return d;
    }
    case nlohmann::json::value_t::string:
      return data{v.get_ref<const std::string&>()};
    case nlohmann::json::value_t::boolean:
      return data{v.get<bool>()};
    case nlohmann::json::value_t::number_integer:
      return data{std::to_string(v.get<int64_t>())};
    case nlohmann::json::value_t::number_unsigned:
      return data{std::to_string(v.get<uint64_t>())};
    case nlohmann::json::value_t::number_float: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.6g", v.get<double>());
      return data{std::string(buf)};
    }
    default:
      return data{false};
  }
}

std::string_view Source(std::string_view name) {
  for (size_t i = 0; i < kTemplateFileCount; ++i) {
    if (name == kTemplateFiles[i].name) return kTemplateFiles[i].bytes;
  }
  return {};
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderTemplate(std::string_view name, const nlohmann::json& view) {
  // Parsed templates are cached per thread: kainjow's render is not const.
  thread_local std::map<std::string, std::unique_ptr<mustache>, std::less<>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::string_view src = Source(std::string(name) + ".mustache");
    if (src.empty()) return "<p class=\"error\">missing template " + HtmlEscape(name) + "</p>";
    it = cache.emplace(std::string(name), std::make_unique<mustache>(std::string(src))).first;
  }
  mustache& m = *it->second;
  if (!m.is_valid()) return "<p class=\"error\">template " + HtmlEscape(name) + ": " + HtmlEscape(m.error_message()) + "</p>";
  return m.render(ToData(view));
}

}  // namespace loupe
