#include "ui/tracking_pages.h"

#include <regex>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "common/bounded_json.h"
#include "auth/roles.h"
#include "common/number_text.h"
#include "common/time_util.h"
#include "tracking/experiment_table.h"
#include "tracking/run_filter.h"
#include "tracking/saved_views.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/http_status.h"
#include "web/json_util.h"
#include "web/table_query.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxCompare = 20;
const char* const kPalette[] = {"#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#f08c00",
                                "#5c940d", "#862e9c", "#1864ab", "#d9480f", "#087f5b", "#a61e4d", "#364fc7",
                                "#e67700", "#2f9e44", "#9c36b5", "#0b7285", "#c92a2a", "#495057"};

// JSON embedded in a <script> element must not close it.
std::string ScriptJson(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      out += "\\u003c";
    } else {
      out += s[i];
    }
  }
  return out;
}

// Nested objects become dotted keys: {"opt": {"lr": 1}} -> opt.lr = 1.
void Flatten(const json& v, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object() && !v.empty()) {
    for (auto it = v.begin(); it != v.end(); ++it) Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (!prefix.empty()) {
    out.emplace_back(prefix, JsonValueText(v, false));
  }
}

json KeyValueRows(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> flat;
  Flatten(StoredJson(text), "", flat);
  json rows = json::array();
  for (auto& [k, v] : flat) rows.push_back({{"k", k}, {"v", v}});
  return rows;
}

// A traceback's last non-empty line (the exception), at most 200 bytes.
std::string LastLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  size_t nl = text.find_last_of('\n');
  std::string last(nl == std::string_view::npos ? text : text.substr(nl + 1));
  if (last.size() <= 200) return last;
  size_t cut = 200;
  while (cut > 0 && (static_cast<unsigned char>(last[cut]) & 0xC0) == 0x80) --cut;
  return last.substr(0, cut) + "…";
}

// What the runs table says under a crashed run's name: the exception, or that the run
// went silent.
std::string CrashLine(const Experiment& e) {
  if (e.error.empty()) return "no traceback; last sign of life " + FormatMicrosUtc(e.last_seen) + " UTC";
  return LastLine(e.error);
}

std::string DurationOf(const Experiment& e, int64_t now) {
  int64_t end = (e.status == RunStatus::kRunning || e.finish_time == 0) ? now : e.finish_time;
  return FormatDuration(std::max<int64_t>(0, end - e.create_time));
}

HttpResponse Home(TrackingService& t, const HttpRequest& req) {
  PageFrame frame{"Home", {}, "", false, {"copy.js"}};
  Result<std::vector<Project>> projects = t.ListProjects();
  if (!projects.ok()) return HtmlErrorPage(projects.status(), frame);
  int64_t now = NowMicros();
  std::vector<std::pair<Experiment, std::string>> recent;
  json pviews = json::array();
  for (const Project& p : *projects) {
    Result<std::vector<Experiment>> exps = t.ListExperimentsBrief(p.id);
    if (!exps.ok()) return HtmlErrorPage(exps.status(), frame);
    pviews.push_back({{"id", p.id}, {"name", p.name}, {"count", exps->size()}});
    for (Experiment& e : *exps) recent.emplace_back(std::move(e), p.name);
  }
  constexpr size_t kRecent = 20;
  auto newest = recent.begin() + static_cast<std::ptrdiff_t>(std::min(kRecent, recent.size()));
  // Newest started first, as the "Started" column reads.
  std::partial_sort(recent.begin(), newest, recent.end(), [](const auto& a, const auto& b) {
    return a.first.create_time != b.first.create_time ? a.first.create_time > b.first.create_time : a.first.id > b.first.id;
  });
  recent.erase(newest, recent.end());
  json rows = json::array();
  for (const auto& [e, project] : recent) {
    rows.push_back({{"id", e.id}, {"name", e.name}, {"project", project}, {"project_id", e.project_id},
                    {"status", RunStatusName(e.status)}, {"start", FormatMicrosUtc(e.create_time)},
                    {"duration", DurationOf(e, now)}});
  }
  const std::string scheme = req.forwarded_proto == "https" ? "https" : "http";
  json view = {{"has_recent", !rows.empty()}, {"recent", rows}, {"projects", pviews},
               {"origin", scheme + "://" + (req.host.empty() ? "127.0.0.1:8080" : req.host)}};
  return HtmlPage(frame, RenderTemplate("home", view));
}

HttpResponse Projects(TrackingService& t) {
  PageFrame frame{"Projects", {{"Home", "/"}, {"Projects", ""}}, "projects", false, {}};
  Result<std::vector<Project>> projects = t.ListProjects();
  if (!projects.ok()) return HtmlErrorPage(projects.status(), frame);
  json rows = json::array();
  for (const Project& p : *projects) {
    Result<std::vector<Experiment>> exps = t.ListExperimentsBrief(p.id);
    if (!exps.ok()) return HtmlErrorPage(exps.status(), frame);
    int64_t running = std::count_if(exps->begin(), exps->end(),
                                    [](const Experiment& e) { return e.status == RunStatus::kRunning; });
    // A project was last updated when anything in it was: a run's last write, heartbeat,
    // end or edit, not only when a run was added.
    int64_t updated = p.update_time;
    for (const Experiment& e : *exps) updated = std::max({updated, e.update_time, e.last_seen, e.finish_time});
    rows.push_back({{"id", p.id}, {"name", p.name}, {"count", exps->size()}, {"running", running},
                    {"updated", FormatMicrosUtc(updated)}, {"description", p.description}});
  }
  return HtmlPage(frame, RenderTemplate("projects", {{"has_projects", !rows.empty()}, {"projects", rows}}));
}


std::string JoinCommas(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}


HttpResponse ExperimentsPage(TrackingService& t, const HttpRequest& req) {
  PageFrame frame{"Experiments", {{"Home", "/"}, {"Projects", "/projects"}}, "projects", false,
                  {"axes.js", "experiments.js", "api.js", "run_actions.js", "sweep.js"}};
  Result<int64_t> id = PagePathId(req, "project");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<TableQuery> q = ReadTableQuery(req);
  if (!q.ok()) return HtmlErrorPage(q.status(), frame);
  // A search that does not parse keeps the page (and its search box) with the reason
  // in place of the rows, so the user can correct it.
  Status filter_error = ParseRunFilter(q->search).status();
  std::string search = q->search;
  if (!filter_error.ok()) q->search.clear();
  Result<ExperimentTable> table = BuildExperimentTable(t, *id, *q, NowMicros());
  if (!table.ok()) return HtmlErrorPage(table.status(), frame);
  q->search = search;
  if (!filter_error.ok()) {
    table->rows.clear();
    table->page.total = 0;
  }
  frame.title = table->project.name;
  frame.crumbs.push_back({table->project.name, ""});

  std::map<std::string, std::string> base = req.query;
  base.erase("page");
  auto sort_href = [&](const std::string& key) {
    auto qq = base;
    bool same = q->sort == key;
    qq["sort"] = key;
    // A first click sorts a loss- or error-like metric lowest first (the best runs on top).
    const size_t colon = key.find(':');
    const std::string kind = key.substr(0, colon == std::string::npos ? 0 : colon);
    const bool lower_better =
        (kind == "metric" || kind == "min" || kind == "max") && MetricLowerIsBetter(key.substr(colon + 1));
    qq["dir"] = same ? (q->descending ? "asc" : "desc") : (lower_better ? "asc" : "desc");
    return "/projects/" + std::to_string(*id) + QueryString(qq);
  };
  json columns = json::array();
  auto add_col = [&](const std::string& label, const std::string& key, bool num) {
    std::string arrow = q->sort == key ? (q->descending ? "▼" : "▲") : "";
    json c = {{"label", label}, {"href", sort_href(key)}, {"cls", num ? "num" : ""}};
    if (!arrow.empty()) c["arrow"] = arrow;
    columns.push_back(std::move(c));
  };
  add_col("Name", "name", false);
  add_col("Status", "status", false);
  add_col("Started (UTC)", "start", false);
  add_col("Duration", "duration", true);
  for (const std::string& k : table->config_columns) add_col(k, "config:" + k, false);
  for (const std::string& k : table->metric_columns) {
    add_col(k, "metric:" + k, true);
    // Each run's minimum and maximum sort too (the best loss or accuracy of a sweep).
    json subs = json::array();
    for (const char* kind : {"min", "max"}) {
      const std::string sort = std::string(kind) + ":" + k;
      json sub = {{"label", kind}, {"href", sort_href(sort)}, {"arrow", false}};
      if (q->sort == sort) sub["arrow"] = q->descending ? " ▼" : " ▲";
      subs.push_back(std::move(sub));
    }
    columns.back()["subs"] = std::move(subs);
  }
  // Config columns are told apart from metric columns by their header's class.
  for (size_t c = 0; c < table->config_columns.size(); ++c) columns[4 + c]["cls"] = "cfg";

  int64_t now = NowMicros();
  json rows = json::array();
  // Groups by (has the key, value): a run whose value is the text "—" is not one without it.
  std::map<std::pair<bool, std::string>, const TableGroup*> group_of;
  for (const TableGroup& g : table->groups) group_of[{g.present, g.value}] = &g;
  std::pair<bool, std::string> last_group;
  bool first_row = true;
  for (const TableRow& r : table->rows) {
    const std::pair<bool, std::string> this_group{r.group_present, r.group};
    if (!table->group_by.empty() && (first_row || this_group != last_group)) {
      // A group's header: its value, how many runs, and each metric's mean ± sd over them.
      const TableGroup* g = group_of.count(this_group) ? group_of[this_group] : nullptr;
      json stats = json::array();
      for (size_t c = 0; c < table->metric_columns.size(); ++c) {
        const MetricSummary* m = g ? &g->metrics[c] : nullptr;
        if (!m || m->n == 0) {
          stats.push_back({{"text", "—"}, {"title", "no values"}});
          continue;
        }
        std::string text = FormatNumber(m->mean, 4) + (m->n > 1 ? " ± " + FormatNumber(m->stddev, 2) : "");
        stats.push_back({{"text", text},
                         {"title", "mean of " + std::to_string(m->n) + (m->n > 1 ? " runs; sd " + FormatNumber(m->stddev, 4)
                                                                                  : " run (no spread for one run)") +
                                       ", min " + FormatNumber(m->min, 4) + ", max " + FormatNumber(m->max, 4)}});
      }
      rows.push_back({{"is_group", true}, {"group_key", table->group_by},
                      {"group_value", r.group_present ? r.group : "(not set)"},
                      {"group_count", g ? g->count : 0}, {"group_noun", g && g->count == 1 ? "run" : "runs"}, {"lead_span", 4 + table->config_columns.size()},
                      {"stats", stats}});
      last_group = this_group;
    }
    first_row = false;
    json config = json::array();
    for (const ConfigCell& c : r.config) config.push_back(c.present ? c.text : "—");
    json metrics = json::array();
    for (size_t c = 0; c < r.metrics.size(); ++c) {
      json cell = {{"last", FormatNumber(r.metrics[c], 5)}, {"range", false}};
      if (const std::optional<MetricRange>& m = r.ranges[c]) {
        // The precision of the last value: rounding keeps order, so it stays inside.
        cell["range"] = true;
        cell["min"] = FormatNumber(m->min, 5);
        cell["max"] = FormatNumber(m->max, 5);
        cell["min_cls"] = q->sort == "min:" + table->metric_columns[c] ? "sorted" : "";
        cell["max_cls"] = q->sort == "max:" + table->metric_columns[c] ? "sorted" : "";
        cell["range_title"] = "min " + FormatNumber(m->min, 6) + " at step " + std::to_string(m->min_step) + ", max " +
                              FormatNumber(m->max, 6) + " at step " + std::to_string(m->max_step) +
                              " (finite values over all steps)";
      }
      metrics.push_back(std::move(cell));
    }
    json tags = json::array();
    for (const std::string& tag : r.experiment.tags) {
      tags.push_back({{"tag", tag}, {"url", UrlEncode("tag:\"" + tag + "\"")}});
    }
    json row = {{"id", r.experiment.id}, {"name", r.experiment.name}, {"status", RunStatusName(r.experiment.status)},
                {"start", FormatMicrosUtc(r.experiment.create_time)}, {"duration", DurationOf(r.experiment, now)},
                {"metrics", metrics}, {"config", config}, {"tags", tags}};
    if (r.experiment.status == RunStatus::kCrashed) row["crash"] = CrashLine(r.experiment);
    rows.push_back(std::move(row));
  }
  json statuses = json::array();
  for (const char* s : {"", "running", "finished", "crashed", "stopped"}) {
    statuses.push_back({{"value", s}, {"label", *s ? s : "any status"}, {"selected", q->status == s}});
  }
  json keys = json::array();
  std::set<std::string> chosen(table->metric_columns.begin(), table->metric_columns.end());
  for (const std::string& k : table->available_keys) keys.push_back({{"key", k}, {"selected", chosen.count(k) > 0}});
  json config_keys = json::array();
  json group_keys = json::array({{{"key", ""}, {"label", "no grouping"}, {"selected", table->group_by.empty()}}});
  std::set<std::string> chosen_config(table->config_columns.begin(), table->config_columns.end());
  for (const std::string& k : table->available_config_keys) {
    config_keys.push_back({{"key", k}, {"selected", chosen_config.count(k) > 0}});
    group_keys.push_back({{"key", k}, {"label", "group by " + k}, {"selected", table->group_by == k}});
  }
  json per_pages = json::array();
  // The page size in use is always one of the choices (per_page=5 reads "5 / page").
  std::set<int64_t> sizes = {20, 50, 100, 200, table->page.per_page};
  for (int64_t n : sizes) per_pages.push_back({{"n", n}, {"selected", table->page.per_page == n}});
  auto csv_query = base;
  csv_query.erase("per_page");
  json view = {{"project", table->project.name}, {"project_id", *id}, {"q", q->search}, {"sort", q->sort},
               {"dir", q->descending ? "desc" : "asc"}, {"statuses", statuses}, {"keys", keys},
               {"config_keys", config_keys}, {"group_keys", group_keys},
               {"cols_value", JoinCommas(table->metric_columns)}, {"ccols_value", JoinCommas(table->config_columns)},
               {"col_count", table->metric_columns.size() + table->config_columns.size()},
               {"config_span", table->config_columns.size()}, {"metric_span", table->metric_columns.size()},
               {"any_running", std::any_of(table->rows.begin(), table->rows.end(), [](const TableRow& r) {
                  return r.experiment.status == RunStatus::kRunning;
                })},
               {"per_pages", per_pages}, {"columns", columns}, {"rows", rows}, {"has_rows", !rows.empty()},
               {"shown", table->page.total}, {"total_experiments", table->total_experiments},
               {"csv_href", "/projects/" + std::to_string(*id) + "/experiments.csv" + QueryString(csv_query)}};
  if (!table->project.description.empty()) view["description"] = table->project.description;
  view["description_text"] = table->project.description;
  view["can_edit"] = CanEdit(req);
  view["project_json"] = ScriptJson({{"id", *id}, {"name", table->project.name}, {"count", table->total_experiments}});
  Result<std::vector<SavedView>> saved = ListSavedViews(t, *id, SavedKind::kViews);
  json views = json::array();
  if (saved.ok()) {
    for (const SavedView& v : *saved) {
      views.push_back({{"name", v.name}, {"href", "/projects/" + std::to_string(*id) + "?" + v.value},
                       {"current", v.value == req.raw_query}});
    }
  }
  view["views"] = views;
  view["has_views"] = !views.empty();
  view["pagination"] = PaginationNav(table->page, "/projects/" + std::to_string(*id), req.query);
  if (!filter_error.ok()) {
    view["filter_error"] = filter_error.message();
    view["pagination"] = "";
    return HtmlPage(frame, RenderTemplate("experiments", view), HttpStatus(filter_error));
  }
  return HtmlPage(frame, RenderTemplate("experiments", view));
}

HttpResponse ExperimentsCsv(TrackingService& t, const HttpRequest& req) {
  Result<int64_t> id = PagePathId(req, "project");
  Result<TableQuery> q = ReadTableQuery(req);
  HttpResponse resp;
  resp.content_type = "text/plain; charset=utf-8";
  for (const Status* st : {&id.status(), &q.status()}) {
    if (!st->ok()) {
      resp.status = HttpStatus(*st);
      resp.body = st->message();
      return resp;
    }
  }
  q->all_rows = true;
  Result<ExperimentTable> table = BuildExperimentTable(t, *id, *q, NowMicros());
  if (!table.ok()) {
    resp.status = HttpStatus(table.status());
    resp.body = table.status().message();
    return resp;
  }
  resp.content_type = "text/csv; charset=utf-8";
  resp.body = ExperimentTableCsv(*table);
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"experiments-" + std::to_string(*id) + ".csv\"");
  return resp;
}

Result<std::pair<Experiment, Project>> LoadExperiment(TrackingService& t, const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(int64_t id, PagePathId(req, "experiment"));
  LOUPE_ASSIGN_OR_RETURN(Experiment e, t.GetExperiment(id));
  LOUPE_ASSIGN_OR_RETURN(Project p, t.GetProject(e.project_id));
  return std::make_pair(e, p);
}

HttpResponse ExperimentPage(TrackingService& t, const ExperimentLinks& links, const HttpRequest& req) {
  PageFrame frame{"Experiment", {{"Home", "/"}, {"Projects", "/projects"}}, "projects", true,
                  {"axes.js", "charts.js", "media.js", "view_state.js", "experiment.js", "api.js", "run_actions.js", "run_artifacts.js"}};
  Result<std::pair<Experiment, Project>> loaded = LoadExperiment(t, req);
  if (!loaded.ok()) return HtmlErrorPage(loaded.status(), frame);
  const auto& [e, p] = *loaded;
  frame.title = e.name;
  frame.crumbs.push_back({p.name, "/projects/" + std::to_string(p.id)});
  frame.crumbs.push_back({e.name, ""});
  Result<std::vector<Series>> series = t.ListSeries(e.id);
  Result<std::vector<Chart>> charts = t.ListCharts(e.id);
  Result<std::vector<Namespace>> namespaces = t.ListNamespaces(e.id);
  for (const Status* st : {&series.status(), &charts.status(), &namespaces.status()}) {
    if (!st->ok()) return HtmlErrorPage(*st, frame);
  }
  std::map<int64_t, std::string> ns_names;
  json ns = json::array();
  for (const Namespace& n : *namespaces) {
    ns_names[n.id] = n.name;
    ns.push_back({{"id", n.id}, {"name", n.name}, {"opened", n.opened != 0}});
  }
  std::map<int64_t, const Chart*> chart_by_id;
  for (const Chart& c : *charts) chart_by_id[c.id] = &c;
  json keys = json::array();
  for (const Series& s : *series) {
    auto it = chart_by_id.find(s.chart_id);
    const Chart* c = it == chart_by_id.end() ? nullptr : it->second;
    json k = {{"key", s.key}, {"type", s.type}, {"chart_id", s.chart_id}, {"status", c ? c->status : 0},
              {"namespace", c ? ns_names[c->namespace_id] : "default"}, {"first_step", s.first_step},
              {"last_step", s.last_step}, {"version", s.version}};
    if (s.type == "line") k["last_value"] = JsonNumber(s.last_value);
    keys.push_back(std::move(k));
  }
  // The first draw of every chart comes from a few batch requests the page preloads.
  constexpr size_t kKeysPerBatch = 100;
  constexpr int kFirstDrawPoints = 480;  // about a chart's plot width in pixels
  json batches = json::array();
  std::string keys_param;
  size_t in_batch = 0;
  auto flush = [&] {
    if (in_batch == 0) return;
    std::string url = "/api/v1/experiments/" + std::to_string(e.id) + "/series/batch?max_points=" +
                      std::to_string(kFirstDrawPoints) + "&keys=" + keys_param;
    frame.preload_fetches.push_back(url);
    batches.push_back(url);
    keys_param.clear();
    in_batch = 0;
  };
  for (const Series& s : *series) {
    if (s.type != "line") continue;
    keys_param += (in_batch ? "," : "") + UrlEncode(s.key);
    if (++in_batch == kKeysPerBatch) flush();
  }
  flush();
  // Relative time counts from the run's start, or from its first point when a client's
  // clock put that earlier: never negative, zoomed or not.
  int64_t origin = e.create_time;
  for (const Series& s : *series) {
    if (s.type == "line" && s.first_ts > 0) origin = std::min(origin, s.first_ts);
  }
  json data = {{"id", e.id}, {"status", RunStatusName(e.status)}, {"keys", keys}, {"namespaces", ns},
               {"start_ts", e.create_time / 1e6}, {"origin_ts", origin / 1e6}, {"now_ts", NowMicros() / 1e6}, {"batches", batches},
               {"project_id", p.id}, {"can_edit", CanEdit(req)}};
  // The project's custom panels (several keys on one chart), drawn on each of its runs.
  json panels = json::array();
  if (Result<std::vector<SavedView>> saved = ListSavedViews(t, p.id, SavedKind::kPanels); saved.ok()) {
    for (const SavedView& v : *saved) panels.push_back({{"name", v.name}, {"keys", SplitCommas(v.value)}});
  }
  data["panels"] = panels;
  json config = KeyValueRows(e.config_json);
  json system = KeyValueRows(e.system_json);
  json view = {{"id", e.id}, {"name", e.name}, {"run_id", e.run_id}, {"status", RunStatusName(e.status)},
               {"running", e.status == RunStatus::kRunning}, {"start", FormatMicrosUtc(e.create_time) + " UTC"},
               {"duration", DurationOf(e, NowMicros())}, {"has_charts", !keys.empty()},
               {"config", config}, {"has_config", !config.empty()}, {"system", system}, {"has_system", !system.empty()},
               {"has_requirements", !e.requirements.empty()}, {"requirements", e.requirements},
               {"data_json", ScriptJson(data)}};
  if (!e.description.empty()) view["description"] = e.description;
  view["description_text"] = e.description;
  view["can_edit"] = CanEdit(req);
  view["project_id"] = p.id;
  json tags = json::array();
  std::string tags_text;
  for (const std::string& tag : e.tags) {
    tags.push_back({{"tag", tag}, {"url", UrlEncode("tag:\"" + tag + "\"")}});
    tags_text += (tags_text.empty() ? "" : ", ") + tag;
  }
  view["tags"] = tags;
  view["tags_text"] = tags_text;
  view["run_json"] = ScriptJson({{"id", e.id}, {"name", e.name}, {"project_id", p.id}, {"project", p.name}});
  json actions = json::array();
  if (links) {
    for (const ExperimentLink& l : links(e.id)) actions.push_back({{"label", l.label}, {"href", l.href}, {"title", l.title}});
  }
  view["links"] = actions;
  // A GPU whose memory is over 90% full by the latest sample (the SDK's system metrics):
  // the next allocation may fail with an out-of-memory error.
  json full_gpus = json::array();
  for (const Series& s : *series) {
    static const std::regex kGpuMemory(R"(^system/gpu\.(\d+)\.memory\.percent$)");
    std::smatch m;
    if (s.last_step >= 0 && std::regex_match(s.key, m, kGpuMemory) && s.last_value > 90) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%.1f", s.last_value);
      full_gpus.push_back({{"gpu", m[1].str()}, {"percent", pct}});
    }
  }
  view["full_gpus"] = full_gpus;
  view["has_full_gpus"] = !full_gpus.empty() && e.status == RunStatus::kRunning;
  if (e.status == RunStatus::kCrashed) {
    view["crashed"] = true;
    // The last step the run logged (system metrics count their own samples, not steps).
    int64_t last_step = -1;
    for (const Series& s : *series) {
      if (s.key.rfind("system/", 0) != 0) last_step = std::max(last_step, s.last_step);
    }
    if (last_step >= 0) view["crash_step"] = last_step;
    // No traceback: the heartbeat monitor ended it, so its last sign of life is the news.
    if (e.error.empty()) {
      view["no_heartbeat"] = true;
      view["last_seen"] = FormatMicrosUtc(e.last_seen);
    }
  }
  if (!e.error.empty()) {
    view["error"] = e.error;
    view["error_last"] = LastLine(e.error);
  }
  return HtmlPage(frame, RenderTemplate("experiment", view));
}

HttpResponse ConsolePage(TrackingService& t, const HttpRequest& req) {
  PageFrame frame{"Console", {{"Home", "/"}, {"Projects", "/projects"}}, "projects", false, {"console.js"}};
  Result<std::pair<Experiment, Project>> loaded = LoadExperiment(t, req);
  if (!loaded.ok()) return HtmlErrorPage(loaded.status(), frame);
  const auto& [e, p] = *loaded;
  frame.title = "Console · " + e.name;
  frame.crumbs.push_back({p.name, "/projects/" + std::to_string(p.id)});
  frame.crumbs.push_back({e.name, "/experiments/" + std::to_string(e.id)});
  frame.crumbs.push_back({"Console", ""});
  json data = {{"id", e.id}, {"status", RunStatusName(e.status)}};
  json view = {{"id", e.id}, {"name", e.name}, {"status", RunStatusName(e.status)}, {"data_json", ScriptJson(data)}};
  return HtmlPage(frame, RenderTemplate("console", view));
}

HttpResponse ComparePage(TrackingService& t, const HttpRequest& req) {
  PageFrame frame{"Compare", {{"Home", "/"}, {"Projects", "/projects"}, {"Compare", ""}}, "projects", true,
                  {"axes.js", "charts.js", "media.js", "view_state.js", "compare.js"}};
  const std::string* ids_text = req.Query("ids");
  std::vector<int64_t> ids;
  for (const std::string& part : SplitCommas(ids_text ? *ids_text : "")) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (ec != std::errc() || end != part.data() + part.size() || id <= 0) {
      return HtmlErrorPage(Status::BadRequest("ids must be experiment ids separated by commas, got \"" +
                                              part.substr(0, 40) + "\""), frame);
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  if (ids.size() > kMaxCompare) {
    return HtmlErrorPage(Status::BadRequest("compare at most 20 experiments at a time (got " +
                                            std::to_string(ids.size()) + ")"), frame);
  }
  std::vector<Experiment> exps;
  std::map<int64_t, std::string> project_names;
  for (int64_t id : ids) {
    Result<Experiment> e = t.GetExperiment(id);
    if (!e.ok()) return HtmlErrorPage(e.status(), frame);
    if (!project_names.count(e->project_id)) {
      Result<Project> p = t.GetProject(e->project_id);
      project_names[e->project_id] = p.ok() ? p->name : "?";
    }
    exps.push_back(*e);
  }
  // Union of keys in first-seen order, and the flattened configs for the diff.
  std::vector<std::string> keys;
  std::set<std::string> seen;
  json has = json::object();  // key -> the experiments that log it (no request for the others)
  json media = json::array();  // media keys [{key, type}] in order of first appearance
  json media_has = json::object();
  std::vector<std::map<std::string, std::string>> configs;
  std::set<std::string> config_keys;
  json experiments = json::array();
  for (size_t i = 0; i < exps.size(); ++i) {
    const Experiment& e = exps[i];
    Result<std::vector<Series>> series = t.ListSeries(e.id);
    if (!series.ok()) return HtmlErrorPage(series.status(), frame);
    for (const Series& s : *series) {
      if (s.type != "line") {
        if (!media_has.contains(s.key)) media.push_back({{"key", s.key}, {"type", s.type}});
        media_has[s.key].push_back(e.id);
        continue;
      }
      if (seen.insert(s.key).second) keys.push_back(s.key);
      has[s.key].push_back(e.id);
    }
    std::vector<std::pair<std::string, std::string>> flat;
    Flatten(StoredJson(e.config_json), "", flat);
    configs.emplace_back(flat.begin(), flat.end());
    for (auto& [k, v] : flat) config_keys.insert(k);
    experiments.push_back({{"id", e.id}, {"name", e.name}, {"project", project_names[e.project_id]},
                           {"status", RunStatusName(e.status)}, {"color", kPalette[i % 20]}});
  }
  json config_rows = json::array();
  for (const std::string& k : config_keys) {
    json values = json::array();
    std::set<std::string> distinct;
    for (const auto& c : configs) {
      auto it = c.find(k);
      std::string v = it == c.end() ? "—" : it->second;
      distinct.insert(it == c.end() ? v : ConfigValueIdentity(it->second));  // 1 and 1.0 are one value
      values.push_back(v);
    }
    config_rows.push_back({{"key", k}, {"values", values}, {"differs", distinct.size() > 1}});
  }
  // Runs to pick from: those of the compared runs' projects, or with none picked yet the
  // newest runs of every project; at most kMaxCandidates, newest first.
  constexpr size_t kMaxCandidates = 500;
  std::vector<std::pair<Experiment, std::string>> pool;
  Result<std::vector<Project>> all_projects = t.ListProjects();
  if (!all_projects.ok()) return HtmlErrorPage(all_projects.status(), frame);
  for (const Project& p : *all_projects) {
    if (!project_names.empty() && !project_names.count(p.id)) continue;
    Result<std::vector<Experiment>> es = t.ListExperimentsBrief(p.id);
    if (!es.ok()) return HtmlErrorPage(es.status(), frame);
    for (Experiment& e : *es) pool.emplace_back(std::move(e), p.name);
  }
  std::sort(pool.begin(), pool.end(), [](const auto& a, const auto& b) {
    return a.first.create_time != b.first.create_time ? a.first.create_time > b.first.create_time : a.first.id > b.first.id;
  });
  if (pool.size() > kMaxCandidates) pool.resize(kMaxCandidates);
  json candidates = json::array();
  for (const auto& [e, project] : pool) {
    candidates.push_back({{"id", e.id}, {"name", e.name}, {"project", project}, {"status", RunStatusName(e.status)},
                          {"tags", e.tags},
                          {"picked", std::find(ids.begin(), ids.end(), e.id) != ids.end()}});
  }
  if (project_names.size() == 1) {
    frame.crumbs = {{"Home", "/"}, {"Projects", "/projects"},
                    {project_names.begin()->second, "/projects/" + std::to_string(project_names.begin()->first)},
                    {"Compare", ""}};
  }
  json data = {{"experiments", experiments}, {"keys", keys}, {"has", has}, {"media", media}, {"media_has", media_has},
               {"candidates", candidates}};
  std::string id_list;
  for (int64_t id : ids) id_list += (id_list.empty() ? "" : ",") + std::to_string(id);
  json view = {{"count", exps.size()}, {"count_noun", exps.size() == 1 ? "experiment" : "experiments"},
               {"none_picked", exps.empty()}, {"ids", id_list}, {"experiments", experiments}, {"config_rows", config_rows},
               {"data_json", ScriptJson(data)}};
  return HtmlPage(frame, RenderTemplate("compare", view));
}

}  // namespace

std::vector<Route> TrackingPageRoutes(TrackingService& t, ExperimentLinks links) {
  std::vector<Route> r;
  r.push_back({"GET", "/", [&t](const HttpRequest& req) { return Home(t, req); }});
  r.push_back({"GET", "/projects", [&t](const HttpRequest&) { return Projects(t); }});
  r.push_back({"GET", "/projects/:id", [&t](const HttpRequest& req) { return ExperimentsPage(t, req); }});
  r.push_back({"GET", "/projects/:id/experiments.csv", [&t](const HttpRequest& req) { return ExperimentsCsv(t, req); }});
  r.push_back({"GET", "/experiments/:id",
               [&t, links](const HttpRequest& req) { return ExperimentPage(t, links, req); }});
  r.push_back({"GET", "/experiments/:id/console", [&t](const HttpRequest& req) { return ConsolePage(t, req); }});
  r.push_back({"GET", "/compare", [&t](const HttpRequest& req) { return ComparePage(t, req); }});
  return r;
}

}  // namespace loupe
