#include "ui/dataset_pages.h"

#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "ui/page.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using nlohmann::json;
using datasets::DatasetService;

constexpr int64_t kPreviewRows = 50;

std::string Summary(const json& s) {
  auto num = [&](const char* k) {
    if (!s.contains(k) || s[k].is_null()) return std::string("—");
    return s[k].is_number() ? FormatNumber(s[k].get<double>(), 5) : s[k].get<std::string>();
  };
  const std::string type = s.value("type", "");
  if (type == "numeric") {
    if (!s.contains("mean")) return "";
    return "min " + num("min") + " · median " + num("median") + " · mean " + num("mean") + " · std " + num("std") +
           " · max " + num("max");
  }
  if (type == "categorical" || type == "boolean") {
    std::string out = std::to_string(s.value("distinct", 0)) + " distinct:";
    int shown = 0;
    for (const auto& t : s.value("top", json::array())) {
      if (shown++ == 5) break;
      out += " " + t["value"].get<std::string>() + " (" + std::to_string(t["count"].get<int64_t>()) + ")";
    }
    return out;
  }
  if (type == "text") {
    if (!s.contains("distinct")) return "";
    return std::to_string(s["distinct"].get<int64_t>()) + " distinct · length " + num("min_length") + "–" +
           num("max_length") + " (mean " + num("mean_length") + ")";
  }
  if (type == "datetime") return s.contains("min") ? num("min") + " → " + num("max") : "";
  return "";
}

HttpResponse ListPage(DatasetService& ds) {
  PageFrame frame{"Datasets", {{"Home", "/"}, {"Datasets", ""}}, "datasets", false, {"datasets.js"}};
  Result<std::vector<DatasetRecord>> all = ds.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json rows = json::array();
  for (const DatasetRecord& d : *all) {
    json cols = ParseBoundedJson(d.columns_json);
    rows.push_back({{"id", d.id}, {"name", d.name}, {"rows", d.rows}, {"columns", cols.is_array() ? cols.size() : 0},
                    {"format", d.format}, {"source", d.source}, {"created", FormatMicrosUtc(d.create_time)}});
  }
  json samples = json::array();
  for (const auto& s : ds.Samples()) samples.push_back({{"name", s.name}, {"description", s.description}, {"available", s.available}});
  json view = {{"datasets", rows}, {"has_datasets", !rows.empty()}, {"samples", samples},
               {"max_mb", ds.options().max_upload_bytes >> 20}};
  return HtmlPage(frame, RenderTemplate("datasets", view));
}

HttpResponse DetailPage(DatasetService& ds, const HttpRequest& req) {
  PageFrame frame{"Dataset", {{"Home", "/"}, {"Datasets", "/datasets"}}, "datasets", false,
                  {"datasets.js", "plotly-cartesian.min.js", "forms.js", "explore.js"}};
  Result<int64_t> parsed = PagePathId(req, "dataset");
  if (!parsed.ok()) return HtmlErrorPage(parsed.status(), frame);
  const int64_t id = *parsed;
  Result<DatasetRecord> rec = ds.Get(id);
  if (!rec.ok()) return HtmlErrorPage(rec.status(), frame);
  frame.title = rec->name;
  frame.crumbs.push_back({rec->name, ""});
  Result<datasets::Table> table = ds.Load(id);
  if (!table.ok()) return HtmlErrorPage(table.status(), frame);
  Result<json> stats = DatasetService::Stats(*table);
  Page page = Paginate(static_cast<int64_t>(table->rows()), ParsePageNumber(req.Query("page"), 1), kPreviewRows,
                       kPreviewRows);
  Result<json> preview = DatasetService::Preview(*table, page.offset, kPreviewRows);
  if (!preview.ok()) return HtmlErrorPage(preview.status(), frame);

  json columns = json::array();
  for (const json& s : (*stats)["columns"]) {
    json types = json::array();
    for (const char* t : {"numeric", "categorical", "text", "boolean", "datetime"}) {
      types.push_back({{"value", t}, {"label", t}, {"selected", s["type"] == t}});
    }
    if (s.value("overridden", false)) types.push_back({{"value", "auto"}, {"label", "auto (infer again)"}, {"selected", false}});
    columns.push_back({{"name", s["name"]}, {"types", types}, {"overridden", s.value("overridden", false)},
                       {"count", s["count"]}, {"missing", s["missing"]}, {"summary", Summary(s)}});
  }
  json rows = json::array();
  int64_t n = page.offset;
  for (const json& r : (*preview)["rows"]) {
    json cells = json::array();
    for (const json& c : r) {
      if (c.is_null()) {
        cells.push_back({{"missing", true}});
      } else {
        std::string t = c.get<std::string>();
        if (t.size() > 300) t = t.substr(0, 300) + "…";
        cells.push_back({{"missing", false}, {"text", t}});
      }
    }
    rows.push_back({{"n", ++n}, {"cells", cells}});
  }
  json column_types = json::array();
  for (const json& s : (*stats)["columns"]) column_types.push_back({{"name", s["name"]}, {"type", s["type"]}});
  json view = {{"id", id}, {"name", rec->name}, {"rows", rec->rows}, {"column_count", columns.size()},
               {"columns_json", column_types.dump()},
               {"format", rec->format}, {"source", rec->source}, {"columns", columns}, {"preview", rows}};
  std::map<std::string, std::string> query = req.query;
  query.erase("per_page");
  view["pagination"] = PaginationNav(page, "/datasets/" + std::to_string(id), query);
  return HtmlPage(frame, RenderTemplate("dataset", view));
}

}  // namespace

std::vector<Route> DatasetPageRoutes(DatasetService& ds) {
  std::vector<Route> r;
  r.push_back({"GET", "/datasets", [&ds](const HttpRequest&) { return ListPage(ds); }});
  r.push_back({"GET", "/datasets/:id", [&ds](const HttpRequest& req) { return DetailPage(ds, req); }});
  return r;
}

}  // namespace loupe
