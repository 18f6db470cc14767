#include "ui/dataset_pages.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/bounded_json.h"
#include "datasets/image_columns.h"
#include "ui/cleaning_words.h"
#include "ui/page.h"
#include "ui/template_renderer.h"

namespace loupe {

namespace {

using nlohmann::json;
using datasets::DatasetService;

constexpr int64_t kPreviewRows = 50;
// Columns shown at a time (?col_limit= up to kMaxPageColumns).
constexpr int64_t kPageColumns = 50;
constexpr int64_t kMaxPageColumns = 200;

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

// ?col_offset= and ?col_limit= read leniently, as page numbers are: anything unparsable
// or out of range falls back or is clamped.
struct ColumnWindow {
  int64_t offset = 0;
  int64_t limit = kPageColumns;
};

ColumnWindow ParseColumnWindow(const HttpRequest& req, int64_t total_columns) {
  ColumnWindow w;
  w.limit = std::clamp<int64_t>(ParsePageNumber(req.Query("col_limit"), kPageColumns), 1, kMaxPageColumns);
  w.offset = std::max<int64_t>(0, ParsePageNumber(req.Query("col_offset"), 0));
  if (total_columns > 0 && w.offset >= total_columns) w.offset = (total_columns - 1) / w.limit * w.limit;
  return w;
}

// "Columns 51–100 of 10,000" with links to the previous and next pages of columns;
// empty when every column is shown.
json ColumnNav(const ColumnWindow& w, int64_t total, const std::string& path, std::map<std::string, std::string> query) {
  if (w.offset == 0 && total <= w.limit) return json{{"show", false}};
  auto href = [&](int64_t offset) {
    query["col_offset"] = std::to_string(offset);
    query["col_limit"] = std::to_string(w.limit);
    return path + QueryString(query);
  };
  const int64_t last = std::min(total, w.offset + w.limit);
  return json{{"show", true},
              {"first", w.offset + 1},
              {"last", last},
              {"total", total},
              {"has_prev", w.offset > 0},
              {"has_next", last < total},
              {"prev_href", href(std::max<int64_t>(0, w.offset - w.limit))},
              {"next_href", href(last)},
              {"page_size", w.limit}};
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
  // The catalogue lists every column (names and types, for the explorer form); only
  // the page's columns are read from the data file, so a 10,000-column dataset's page
  // reads and renders 50 of them.
  json all_columns = ParseBoundedJson(rec->columns_json);
  if (!all_columns.is_array()) all_columns = json::array();
  const ColumnWindow window = ParseColumnWindow(req, static_cast<int64_t>(all_columns.size()));
  Result<datasets::ColumnSlice> slice = ds.LoadColumns(id, window.offset, window.limit);
  if (!slice.ok()) return HtmlErrorPage(slice.status(), frame);
  json stats = DatasetService::Stats(*slice);
  Page page = Paginate(static_cast<int64_t>(slice->rows), ParsePageNumber(req.Query("page"), 1), kPreviewRows,
                       kPreviewRows);
  Result<json> preview = DatasetService::Preview(*slice, page.offset, kPreviewRows);
  if (!preview.ok()) return HtmlErrorPage(preview.status(), frame);

  json columns = json::array();
  for (const json& s : stats["columns"]) {
    json types = json::array();
    for (const char* t : {"numeric", "categorical", "text", "boolean", "datetime"}) {
      types.push_back({{"value", t}, {"label", t}, {"selected", s["type"] == t}});
    }
    if (s.value("overridden", false)) types.push_back({{"value", "auto"}, {"label", "auto (infer again)"}, {"selected", false}});
    const size_t coerced = s.value("coerced", size_t{0});
    columns.push_back({{"name", s["name"]}, {"types", types}, {"overridden", s.value("overridden", false)},
                       {"count", s["count"]}, {"missing", s["missing"]}, {"summary", Summary(s)},
                       {"coerced", coerced > 0 ? json(std::to_string(coerced)) : json(false)}});
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
  for (const json& c : all_columns) column_types.push_back({{"name", c.value("name", "")}, {"type", c.value("type", "")}});
  const std::string path = "/datasets/" + std::to_string(id);
  // Pixel columns: the page's rows drawn as images (datasets.js asks for them).
  const int pixel_side = datasets::PixelSide(all_columns);
  const bool images = pixel_side > 0;
  // Rows an upload with skip_bad_rows left out: how many, the first 100, and the file.
  json bad_rows = false;
  if (Result<json> bad = ds.BadRows(id); bad.ok() && bad->is_object()) {
    json listed = json::array();
    for (const json& b : bad->value("first", json::array())) {
      const int64_t line = b.value("line", int64_t{0});
      listed.push_back({{"line", line > 0 ? json(line) : json("—")}, {"reason", b.value("reason", "")}});
    }
    const size_t count = bad->value("count", size_t{0});
    // Pictures left out of an image dataset are named by file (line 0), not by line.
    const bool pictures = images && !listed.empty() && listed[0]["line"].is_string();
    bad_rows = {{"count", count}, {"rows", listed}, {"file", bad->value("file", "")},
                {"unit", pictures ? "picture(s)" : "row(s)"},
                {"more", count > listed.size() ? json(std::to_string(count - listed.size())) : json(false)}};
  }
  // A cleaned copy: where it came from and each step in words with what it did.
  json cleaning = false;
  if (Result<json> made = ds.Cleaning(id); made.ok() && made->is_object()) {
    json steps = json::array();
    for (const json& st : made->value("steps", json::array())) steps.push_back(CleaningStepView(st));
    const json from = made->value("from", json::object());
    json retyped = json::array();
    for (const json& t : made->value("source_types_set_by_hand", json::array())) {
      const int64_t coerced = t.value("coerced", int64_t{0});
      retyped.push_back({{"text", t.value("column", "") + " set to " + t.value("type", "") + " by hand" +
                                      (coerced > 0 ? " (" + std::to_string(coerced) + " value" + (coerced == 1 ? "" : "s") +
                                                         " that did not convert became missing)"
                                                   : "")}});
    }
    cleaning = {{"from_id", from.value("id", int64_t{0})}, {"from_name", from.value("name", "")},
                {"rows_before", made->value("rows_before", int64_t{0})}, {"rows_after", made->value("rows_after", int64_t{0})},
                {"steps", steps}, {"json", made->value("steps", json::array()).dump(2)},
                {"retyped", retyped}, {"has_retyped", !retyped.empty()}};
  }
  const std::string pictures_note =
      images ? std::to_string(pixel_side) + "×" + std::to_string(pixel_side) + " grey pictures" : "";
  json view = {{"id", id}, {"name", rec->name}, {"rows", rec->rows}, {"column_count", slice->total_columns},
               {"pictures_note", pictures_note.empty() ? json(false) : json(pictures_note)},
               {"columns_json", column_types.dump()}, {"bad_rows", bad_rows}, {"cleaning", cleaning},
               {"images", images ? json{{"offset", page.offset}, {"limit", kPreviewRows}} : json(false)},
               {"format", rec->format}, {"source", rec->source}, {"columns", columns}, {"preview", rows}};
  std::map<std::string, std::string> query = req.query;
  query.erase("per_page");
  view["column_nav"] = ColumnNav(window, static_cast<int64_t>(slice->total_columns), path, query);
  query["col_offset"] = std::to_string(window.offset);
  query["col_limit"] = std::to_string(window.limit);
  if (window.offset == 0 && window.limit == kPageColumns) {
    query.erase("col_offset");
    query.erase("col_limit");
  }
  view["pagination"] = PaginationNav(page, path, query);
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
