// The comparison lab's pages: the list with the form that starts a comparison, a
// comparison's grid (a row per prompt, a column per model; static/comparison.js rates,
// decides, reveals and follows answers as they arrive), and the leaderboard.
#include "ui/comparison_pages.h"

#include <cmath>
#include <cstdio>

#include "ui/ab_view.h"
#include "ui/llm_format.h"
#include "ui/llm_pages.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

const std::vector<std::string> kScripts = {"api.js", "markdown-it.umd.min.js", "purify.min.js", "highlight.min.js",
                                           "markdown.js", "comparison.js"};

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "= 0.042", or "< 0.001" where three decimals would print zero.
std::string PValueText(double p) { return p < 0.001 ? "< 0.001" : "= " + Fixed(p, 3); }

// The grid's rows from the API's form of a comparison (ComparisonService::Get).
json GridView(const json& c, bool can_edit) {
  const bool hidden = c["hidden"].get<bool>();
  json rows = json::array();
  for (const json& r : c["items"]) {
    json cells = json::array();
    const std::string decision = r["decision"].get<std::string>();
    for (const json& x : r["cells"]) {
      const std::string state = x["state"].get<std::string>();
      json ratings = json::array();
      for (const char* k : {"clarity", "accuracy", "conciseness", "overall"}) {
        json options = json::array();
        for (int v = 1; v <= 5; ++v) {
          options.push_back({{"value", v}, {"selected", x["ratings"][k].is_number() && x["ratings"][k].get<double>() == v}});
        }
        ratings.push_back({{"criterion", k}, {"options", options}, {"unset", !x["ratings"][k].is_number()}});
      }
      const bool preferred = r["preferred_cell"] == x["id"];
      bool rejected = false;
      for (const json& id : r["rejected_cells"]) rejected = rejected || id == x["id"];
      json numbers = false;
      if (!hidden && state != "pending") {
        auto opt_int = [&](const char* k) {
          return x[k].is_number() ? std::optional<int64_t>(x[k].get<int64_t>()) : std::nullopt;
        };
        numbers = {{"latency", FormatMillis(x["latency_ms"].get<double>())},
                   {"ttft", x["ttft_ms"].is_number() ? FormatMillis(x["ttft_ms"].get<double>()) : "—"},
                   {"tokens", FormatTokens(opt_int("prompt_tokens"), opt_int("completion_tokens"))},
                   {"cost", FormatUsd(x["cost_usd"].is_number() ? std::optional<double>(x["cost_usd"].get<double>())
                                                                : std::nullopt)},
                   {"prediction_id", x["prediction_id"]}};
      }
      cells.push_back({{"id", x["id"]},
                       {"label", x["label"]},
                       {"name", hidden ? json(false) : x["model_name"]},
                       {"pending", state == "pending"},
                       {"ok", state == "ok"},
                       {"state", state},
                       {"failed", state != "pending" && state != "ok"},
                       {"response", x["response"].is_string() && !x["response"].get<std::string>().empty()
                                        ? x["response"]
                                        : json(false)},
                       {"error", x["error_text"].is_string() ? x["error_text"] : json(false)},
                       {"numbers", numbers},
                       {"ratings", ratings},
                       {"preferred", preferred},
                       {"rejected", rejected},
                       {"can_edit", can_edit},
                       {"answered", state != "pending"}});
    }
    std::string decided_text;
    if (decision == "tie") {
      decided_text = "Tied";
    } else if (decision == "prefer") {
      for (const json& x : r["cells"]) {
        if (r["preferred_cell"] == x["id"]) {
          decided_text = "Preferred " + (hidden || !x["model_name"].is_string() ? "answer " + x["label"].get<std::string>()
                                                                                 : x["model_name"].get<std::string>());
        }
      }
    }
    rows.push_back({{"id", r["id"]},
                    {"number", r["position"].get<int64_t>() + 1},
                    {"prompt", r["prompt"]},
                    {"cells", cells},
                    {"decided", !decision.empty()},
                    {"tie", decision == "tie"},
                    {"decided_text", decided_text.empty() ? json(false) : json(decided_text)},
                    {"columns", cells.size()},
                    {"can_edit", can_edit}});
  }
  return rows;
}

json SummaryView(const json& c) {
  const int64_t answers = c["answers"].get<int64_t>();
  const int64_t answered = c["answered"].get<int64_t>();
  const json& bias = c["position_bias"];
  json positions = json::array();
  const int64_t n = bias["decided_blind"].get<int64_t>();
  for (size_t i = 0; i < bias["by_position"].size(); ++i) {
    const int64_t k = bias["by_position"][i].get<int64_t>();
    positions.push_back({{"label", std::string(1, static_cast<char>('A' + i))},
                         {"count", k},
                         {"share", n > 0 ? FormatPercent(static_cast<double>(k) / n) : "—"}});
  }
  json out = {{"answers", answers},
              {"answered", answered},
              {"pending", answers - answered},
              {"running", answered < answers},
              {"rows", c["rows"]},
              {"decided", c["decided"]},
              {"ties", c["ties"]},
              {"ties_text", std::to_string(c["ties"].get<int64_t>()) + (c["ties"].get<int64_t>() == 1 ? " tie" : " ties")},
              {"bias_n", n},
              {"has_bias", n > 0},
              {"positions", positions},
              {"bias_p", bias["p_value"].is_number() ? json(PValueText(bias["p_value"].get<double>())) : json(false)}};
  return out;
}

HttpResponse ListPage(evals::ComparisonService& comparisons, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Comparison lab", {{"Home", "/"}, {"Comparison lab", ""}}, "llm", false, {"api.js", "comparison.js"}};
  Result<json> list = comparisons.List(100, 0);
  if (!list.ok()) return HtmlErrorPage(list.status(), frame);
  Result<std::vector<LlmModel>> all = models.List();
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  json items = json::array();
  for (const json& c : (*list)["comparisons"]) {
    const int64_t answers = c["answers"].get<int64_t>();
    const int64_t answered = c["answered"].get<int64_t>();
    std::string models_text;
    if (c["models"].is_array()) {
      for (const json& m : c["models"]) models_text += (models_text.empty() ? "" : ", ") + m["name"].get<std::string>();
    } else {
      models_text = std::to_string(c["model_count"].get<int64_t>()) + " models (hidden)";
    }
    items.push_back({{"id", c["id"]},
                     {"title", c["title"]},
                     {"models", models_text},
                     {"blind", c["blind"]},
                     {"hidden", c["hidden"]},
                     {"rows", c["rows"]},
                     {"progress", answered == answers ? "done" : std::to_string(answered) + " of " + std::to_string(answers)},
                     {"decided", c["decided"]},
                     {"created", FormatMicrosUtc(static_cast<int64_t>(std::llround(c["create_time"].get<double>() * 1e6)))}});
  }
  json model_options = json::array();
  for (const LlmModel& m : *all) model_options.push_back({{"id", m.id}, {"name", m.name}});
  json view = {{"comparisons", items},
               {"has_comparisons", !items.empty()},
               {"total", (*list)["total"]},
               {"models", model_options},
               {"enough_models", all->size() >= 2},
               {"can_edit", CanEdit(req)}};
  return HtmlPage(frame, LlmTabs("compare") + RenderTemplate("comparisons", view));
}

HttpResponse ComparisonPage(evals::ComparisonService& comparisons, const HttpRequest& req) {
  PageFrame frame{"Comparison", {{"Home", "/"}, {"Comparison lab", "/llm/compare"}}, "llm", false, kScripts};
  Result<int64_t> id = PagePathId(req, "comparison");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<json> c = comparisons.Get(*id, 0, 500);
  if (!c.ok()) return HtmlErrorPage(c.status(), frame);
  const bool can_edit = CanEdit(req);
  frame.title = (*c)["title"].get<std::string>() + " · Comparison lab";
  frame.crumbs.push_back({(*c)["title"].get<std::string>(), ""});
  json models = json::array();
  if ((*c)["models"].is_array()) {
    for (const json& m : (*c)["models"]) models.push_back(m["name"]);
  }
  json view = {{"id", (*c)["id"]},
               {"title", (*c)["title"]},
               {"blind", (*c)["blind"]},
               {"hidden", (*c)["hidden"]},
               {"revealed", (*c)["revealed"]},
               {"models", models},
               {"model_count", (*c)["model_count"]},
               {"system", (*c)["system"].get<std::string>().empty() ? json(false) : (*c)["system"]},
               {"summary", SummaryView(*c)},
               {"grid", RenderTemplate("comparison_grid", json{{"rows", GridView(*c, can_edit)},
                                                               {"summary", SummaryView(*c)}})},
               {"can_edit", can_edit}};
  return HtmlPage(frame, LlmTabs("compare") + RenderTemplate("comparison", view));
}

HttpResponse LeaderboardPage(evals::ComparisonService& comparisons, const HttpRequest& req) {
  PageFrame frame{"Leaderboard", {{"Home", "/"}, {"Comparison lab", "/llm/compare"}, {"Leaderboard", ""}}, "llm", false,
                  {}};
  int64_t comparison_id = 0;
  std::string scope = "every comparison";
  if (const std::string* v = req.Query("comparison_id"); v && !v->empty()) {
    Result<int64_t> id = ParseId(v, "comparison_id");
    if (!id.ok()) return HtmlErrorPage(id.status(), frame);
    comparison_id = *id;
    Result<Comparison> c = comparisons.store().GetComparison(comparison_id);
    if (!c.ok()) return HtmlErrorPage(c.status(), frame);
    scope = c->title;
  }
  Result<json> board = comparisons.Leaderboard(comparison_id);
  if (!board.ok()) return HtmlErrorPage(board.status(), frame);
  json rows = json::array();
  for (const json& m : (*board)["models"]) {
    const bool has_ci = m["ci_low"].is_number();
    rows.push_back({{"rank", m["rank"]},
                    {"name", m["name"]},
                    {"rating", Fixed(m["rating"].get<double>(), 0)},
                    {"ci", has_ci ? Fixed(m["ci_low"].get<double>(), 0) + " – " + Fixed(m["ci_high"].get<double>(), 0)
                                  : "—"},
                    {"battles", m["battles"]},
                    {"wins", m["wins"]},
                    {"ties", m["ties"]},
                    {"losses", m["losses"]}});
  }
  json matrix = json::array();
  const json& names = (*board)["matrix_models"];
  for (size_t i = 0; i < (*board)["win_rate"].size(); ++i) {
    json cells = json::array();
    for (size_t j = 0; j < names.size(); ++j) {
      const json& w = (*board)["win_rate"][i][j];
      const int64_t n = (*board)["battle_counts"][i][j].get<int64_t>();
      // The cell's shade: how far from an even record (a style value, not markup).
      const int alpha = w.is_number() ? static_cast<int>(std::lround(std::fabs(w.get<double>() - 0.5) * 120)) : 0;
      const bool ahead = w.is_number() && w.get<double>() >= 0.5;
      cells.push_back({{"text", i == j ? "—" : w.is_number() ? FormatPercent(w.get<double>()) : "—"},
                       {"battles", n},
                       {"self", i == j},
                       {"style", "background: color-mix(in srgb, " + std::string(ahead ? "var(--ok)" : "var(--bad)") +
                                     " " + std::to_string(alpha) + "%, transparent)"}});
    }
    matrix.push_back({{"name", names[i]}, {"cells", cells}});
  }
  json header = json::array();
  for (const json& n : names) header.push_back(n);
  // One comparison: two of its models against each other on the same prompts.
  json ab = false;
  if (comparison_id > 0) {
    std::optional<int64_t> a, b;
    for (auto [key, target] : {std::pair{"a", &a}, std::pair{"b", &b}}) {
      if (const std::string* v = req.Query(key); v && !v->empty()) {
        Result<int64_t> id = ParseId(v, key);
        if (!id.ok()) return HtmlErrorPage(id.status(), frame);
        *target = *id;
      }
    }
    Result<json> stats = comparisons.Ab(comparison_id, a, b);
    if (!stats.ok()) return HtmlErrorPage(stats.status(), frame);
    ab = AbView(*stats);
    Result<Comparison> c = comparisons.store().GetComparison(comparison_id);
    if (!c.ok()) return HtmlErrorPage(c.status(), frame);
    json choices = json::array();
    for (size_t i = 0; i < c->model_ids.size(); ++i) {
      const int64_t id = c->model_ids[i];
      const std::string name = i < c->model_names.size() ? c->model_names[i] : "";
      choices.push_back({{"id", id}, {"name", name}, {"is_a", id == (*stats)["a"]["model_id"]},
                         {"is_b", id == (*stats)["b"]["model_id"]}});
    }
    ab["choices"] = choices;
    ab["comparison_id"] = comparison_id;
    ab["rows"] = (*stats)["rows"];
  }
  json view = {{"scope", scope},
               {"ab", ab},
               {"comparison_id", comparison_id > 0 ? json(comparison_id) : json(false)},
               {"models", rows},
               {"has_models", !rows.empty()},
               {"header", header},
               {"matrix", matrix},
               {"battles", (*board)["battles"]},
               {"rows", (*board)["rows"]},
               {"bootstrap", (*board)["bootstrap"]}};
  return HtmlPage(frame, LlmTabs("compare") + RenderTemplate("leaderboard", view));
}

}  // namespace

std::vector<Route> ComparisonPageRoutes(evals::ComparisonService& comparisons, llm::ModelRegistry& models) {
  std::vector<Route> r;
  r.push_back({"GET", "/llm/compare", [&](const HttpRequest& req) { return ListPage(comparisons, models, req); }});
  r.push_back({"GET", "/llm/compare/leaderboard", [&](const HttpRequest& req) { return LeaderboardPage(comparisons, req); }});
  r.push_back({"GET", "/llm/compare/:id", [&](const HttpRequest& req) { return ComparisonPage(comparisons, req); }});
  // The grid alone, for the page to refresh while answers arrive and after a change.
  r.push_back({"GET", "/llm/compare/:id/grid", [&](const HttpRequest& req) {
    Result<int64_t> id = PagePathId(req, "comparison");
    if (!id.ok()) return JsonError(id.status());
    Result<json> c = comparisons.Get(*id, 0, 500);
    if (!c.ok()) return JsonError(c.status());
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = RenderTemplate("comparison_grid", json{{"rows", GridView(*c, CanEdit(req))}, {"summary", SummaryView(*c)}});
    AddPageSecurityHeaders(resp);
    return resp;
  }});
  return r;
}

}  // namespace loupe
