// The chat portal: conversations with the registered models, answers side by side per
// prompt with their numbers and feedback, and the composer (static/chat.js streams).
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "ui/llm_format.h"
#include "ui/llm_pages.h"
#include "ui/page.h"
#include "ui/template_renderer.h"
#include "web/json_util.h"
#include "web/llm_api.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kIdsPerQuery = 500;

// The models as selects and headers show them, by id.
struct ModelView {
  json options = json::array();  // [{id, name}]
  std::map<int64_t, json> badges;
};

Result<ModelView> Models(llm::ModelRegistry& models) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<LlmModel> all, models.List());
  LOUPE_ASSIGN_OR_RETURN(std::vector<SealedSecret> secrets, models.Secrets());
  ModelView v;
  for (const LlmModel& m : all) {
    json j = LlmModelJson(models, m, &all, &secrets);
    v.options.push_back({{"id", m.id}, {"name", m.name}});
    v.badges[m.id] = ModelBadges(j);
  }
  return v;
}

json Selected(const json& options, std::optional<int64_t> id) {
  json out = json::array();
  for (const json& o : options) {
    json x = o;
    x["selected"] = id && o["id"] == *id;
    out.push_back(x);
  }
  return out;
}

// An answer's card: the model, its text (markdown rendered by the page), its numbers and
// the feedback controls.
json AnswerView(const ChatMessageRecord& a, const PredictionRow* row, const ModelView& models) {
  json v = {{"id", a.id}, {"model_id", a.model_id ? json(*a.model_id) : json(false)}, {"model_name", a.model_name.empty() ? "a removed model" : a.model_name},
            {"content", a.content.empty() ? json(false) : json(a.content)},
            {"error", a.error.empty() ? json(false) : json(a.error)},
            {"badges", a.model_id && models.badges.count(*a.model_id) ? models.badges.at(*a.model_id) : json::array()}};
  if (!row) {
    v["prediction"] = false;
    return v;
  }
  const Prediction& p = row->p;
  json tags = json::array();
  for (const std::string& t : row->failure_tags) tags.push_back(t);
  v["prediction"] = {{"id", p.id},
                     {"outcome", p.outcome},
                     {"outcome_ok", p.outcome == "ok"},
                     {"ttft", p.ttft_ms ? FormatMillis(*p.ttft_ms) : "—"},
                     {"latency", FormatMillis(p.latency_ms)},
                     {"tokens", FormatTokens(p.prompt_tokens, p.completion_tokens)},
                     {"cost", FormatUsd(p.cost_usd)},
                     {"finish", p.finish_reason.empty() ? json(false) : json(p.finish_reason)},
                     {"up", row->thumbs && *row->thumbs > 0},
                     {"down", row->thumbs && *row->thumbs < 0},
                     {"stars", row->stars ? json(FormatNumber(*row->stars, 2)) : json(false)},
                     {"tags", tags}};
  return v;
}

// The conversation's prompts, each with its answers side by side.
Result<std::string> ThreadHtml(const Conversation& c, ChatStore& chats, FeedbackStore& feedback, const ModelView& models,
                               bool can_edit) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<ChatMessageRecord> messages, chats.ListMessages(c.id));
  std::vector<int64_t> ids;
  for (const ChatMessageRecord& m : messages) {
    if (m.prediction_id) ids.push_back(*m.prediction_id);
  }
  std::map<int64_t, PredictionRow> rows;
  for (size_t i = 0; i < ids.size(); i += kIdsPerQuery) {
    PredictionFilter f;
    f.ids.assign(ids.begin() + i, ids.begin() + std::min(ids.size(), i + kIdsPerQuery));
    f.limit = static_cast<int64_t>(f.ids.size());
    LOUPE_ASSIGN_OR_RETURN(std::vector<PredictionRow> page, feedback.ListPredictions(f));
    for (PredictionRow& r : page) rows[r.p.id] = std::move(r);
  }
  json turns = json::array();
  std::map<int64_t, size_t> turn_of;
  for (const ChatMessageRecord& m : messages) {
    if (m.role == "user") {
      turn_of[m.id] = turns.size();
      turns.push_back({{"id", m.id}, {"content", m.content}, {"when", FormatMicrosUtc(m.create_time)},
                       {"answers", json::array()}, {"models", models.options}, {"can_edit", can_edit}});
      continue;
    }
    auto t = m.reply_to ? turn_of.find(*m.reply_to) : turn_of.end();
    if (t == turn_of.end()) continue;
    const PredictionRow* row = m.prediction_id && rows.count(*m.prediction_id) ? &rows[*m.prediction_id] : nullptr;
    json a = AnswerView(m, row, models);
    a["can_edit"] = can_edit;
    turns[t->second]["answers"].push_back(a);
  }
  // "Send this prompt to" starts at the first model that has not answered it yet.
  for (json& turn : turns) {
    std::set<int64_t> answered;
    for (const json& a : turn["answers"]) {
      if (a["model_id"].is_number_integer()) answered.insert(a["model_id"].get<int64_t>());
    }
    std::optional<int64_t> pick;
    for (const json& o : models.options) {
      if (!answered.count(o["id"].get<int64_t>())) {
        pick = o["id"].get<int64_t>();
        break;
      }
    }
    turn["models"] = Selected(models.options, pick);
  }
  return RenderTemplate("chat_thread", json{{"turns", turns}, {"has_turns", !turns.empty()}});
}

HttpResponse ConversationsPage(llm::ChatService& chat, llm::ModelRegistry& models, const HttpRequest& req) {
  PageFrame frame{"Chat", {{"Home", "/"}, {"Chat", ""}}, "llm", false, {"api.js", "chat.js"}};
  Result<std::vector<Conversation>> all = chat.chats().ListConversations(200, 0);
  if (!all.ok()) return HtmlErrorPage(all.status(), frame);
  Result<ModelView> mv = Models(models);
  if (!mv.ok()) return HtmlErrorPage(mv.status(), frame);
  std::map<int64_t, std::string> names;
  for (const json& o : mv->options) names[o["id"].get<int64_t>()] = o["name"];
  // ?model=ID (the experiment page's "Test in chat") preselects a model for a new
  // conversation; an id that is not a model's selects nothing.
  std::optional<int64_t> preselect;
  if (const std::string* q = req.Query("model")) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(q->data(), q->data() + q->size(), id);
    if (ec == std::errc() && end == q->data() + q->size() && names.count(id)) preselect = id;
  }
  json rows = json::array();
  for (const Conversation& c : *all) {
    rows.push_back({{"id", c.id}, {"title", c.title}, {"messages", c.message_count},
                    {"model", c.model_id && names.count(*c.model_id) ? json(names[*c.model_id]) : json(false)},
                    {"updated", FormatMicrosUtc(c.update_time)}});
  }
  return HtmlPage(frame, LlmTabs("chat") + RenderTemplate("chat_list", json{{"conversations", rows},
                                                                             {"has_conversations", !rows.empty()},
                                                                             {"models", Selected(mv->options, preselect)},
                                                                             {"title", preselect ? json("Testing " + names[*preselect]) : json("")},
                                                                             {"has_models", !mv->options.empty()},
                                                                             {"can_edit", CanEdit(req)}}));
}

HttpResponse ConversationPage(llm::ChatService& chat, llm::ModelRegistry& models, FeedbackStore& feedback,
                              const HttpRequest& req) {
  PageFrame frame{"Chat", {{"Home", "/"}, {"Chat", "/llm/chat"}}, "llm", true,
                  {"api.js", "markdown-it.umd.min.js", "purify.min.js", "highlight.min.js", "markdown.js", "chat.js"}};
  Result<int64_t> id = PagePathId(req, "conversation");
  if (!id.ok()) return HtmlErrorPage(id.status(), frame);
  Result<Conversation> c = chat.chats().GetConversation(*id);
  if (!c.ok()) return HtmlErrorPage(c.status(), frame);
  frame.title = c->title + " · Chat";
  frame.crumbs.push_back({c->title, ""});
  Result<ModelView> mv = Models(models);
  if (!mv.ok()) return HtmlErrorPage(mv.status(), frame);
  const bool can_edit = CanEdit(req);
  Result<std::string> thread = ThreadHtml(*c, chat.chats(), feedback, *mv, can_edit);
  if (!thread.ok()) return HtmlErrorPage(thread.status(), frame);
  json params = json::parse(c->params_json, nullptr, false);
  if (!params.is_object()) params = json::object();
  auto param = [&](const char* k) { return params.contains(k) ? json(params[k].dump()) : json(""); };
  json header_badges = c->model_id && mv->badges.count(*c->model_id) ? mv->badges[*c->model_id] : json::array();
  json view = {{"id", c->id}, {"title", c->title}, {"system", c->system},
               {"temperature", param("temperature")}, {"top_p", param("top_p")}, {"max_tokens", param("max_tokens")},
               {"seed", param("seed")}, {"thread", *thread}, {"models", Selected(mv->options, c->model_id)},
               {"has_models", !mv->options.empty()}, {"badges", header_badges}, {"can_edit", can_edit},
               {"user", req.caller.user}, {"failure_tags", FailureTags()}};
  return HtmlPage(frame, LlmTabs("chat") + RenderTemplate("chat", view));
}

}  // namespace

std::vector<Route> ChatPageRoutes(llm::ChatService& chat, llm::ModelRegistry& models, FeedbackStore& feedback) {
  std::vector<Route> r;
  r.push_back({"GET", "/llm/chat", [&](const HttpRequest& req) { return ConversationsPage(chat, models, req); }});
  r.push_back({"GET", "/llm/chat/:id", [&](const HttpRequest& req) { return ConversationPage(chat, models, feedback, req); }});
  // The thread alone, for the page to refresh after an answer ends.
  r.push_back({"GET", "/llm/chat/:id/thread", [&](const HttpRequest& req) {
    Result<int64_t> id = PagePathId(req, "conversation");
    if (!id.ok()) return JsonError(id.status());
    Result<Conversation> c = chat.chats().GetConversation(*id);
    if (!c.ok()) return JsonError(c.status());
    Result<ModelView> mv = Models(models);
    if (!mv.ok()) return JsonError(mv.status());
    Result<std::string> thread = ThreadHtml(*c, chat.chats(), feedback, *mv, CanEdit(req));
    if (!thread.ok()) return JsonError(thread.status());
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = *thread;
    AddPageSecurityHeaders(resp);
    return resp;
  }});
  return r;
}

}  // namespace loupe
