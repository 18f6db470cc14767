// The chat API under /api/v1/llm: conversations, their messages, answers streamed as
// server-sent events while the model writes them, and the predictions they leave.
#include <nlohmann/json.hpp>

#include "web/llm_api.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxChatBody = 512 << 10;

json ConversationJson(const Conversation& c) {
  json params = json::parse(c.params_json, nullptr, false);
  return {{"id", c.id},
          {"title", c.title},
          {"model_id", c.model_id ? json(*c.model_id) : json(nullptr)},
          {"system", c.system},
          {"params", params.is_discarded() ? json::object() : params},
          {"create_time", c.create_time / 1e6},
          {"update_time", c.update_time / 1e6},
          {"created_by", c.created_by},
          {"message_count", c.message_count}};
}

std::string SseFrame(const std::string& event, const json& data) {
  return "event: " + event + "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

// Opens the event stream of an answer: `start` refuses (JSON error) or hands over a call.
StreamStart StreamAnswer(Result<std::shared_ptr<llm::ChatCall>> call) {
  StreamStart st;
  if (!call.ok()) {
    st.error = JsonError(call.status());
    return st;
  }
  st.on_open = [call = *call](std::shared_ptr<EventStream> stream) {
    call->Start([stream](const std::string& event, const json& data) {
      if (event.empty()) return stream->Send(": keep-alive\n\n");
      const bool open = stream->Send(SseFrame(event, data));
      if (event == "done" || event == "error") stream->Close();
      return open;
    });
  };
  return st;
}

Result<std::optional<int64_t>> OptionalModelId(const json& body) {
  auto it = body.find("model_id");
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX) ||
      it->get<int64_t>() < 1) {
    return Status::InvalidArgument("'model_id' must be a model's id");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace

std::vector<Route> ChatApiRoutes(llm::ChatService& chat) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/llm/conversations", [&](const HttpRequest& req) {
    int64_t limit = 50, offset = 0;
    for (auto [name, target, max] : {std::tuple{"limit", &limit, int64_t{500}}, std::tuple{"offset", &offset, int64_t{1} << 40}}) {
      if (const std::string* v = req.Query(name)) {
        LOUPE_ASSIGN_OR_RESPOND(int64_t n, ParseId(v, name));
        if (n > max) return JsonError(Status::InvalidArgument(std::string(name) + " is at most " + std::to_string(max)));
        if (target == &limit && n < 1) return JsonError(Status::InvalidArgument("limit is 1 to 500"));
        *target = n;
      }
    }
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Conversation> all, chat.chats().ListConversations(limit, offset));
    json out = json::array();
    for (const Conversation& c : all) out.push_back(ConversationJson(c));
    return JsonOk({{"conversations", out}});
  }});
  r.push_back({"POST", "/api/v1/llm/conversations", [&](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxChatBody));
    LOUPE_ASSIGN_OR_RESPOND(Conversation c, chat.CreateConversation(body, req.caller.user));
    HttpResponse resp = JsonOk(ConversationJson(c));
    resp.status = 201;
    return resp;
  }});
  r.push_back({"GET", "/api/v1/llm/conversations/:id", WithPathId("conversation id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(Conversation c, chat.chats().GetConversation(id));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<ChatMessageRecord> messages, chat.chats().ListMessages(id));
    json out = json::array();
    for (const ChatMessageRecord& m : messages) out.push_back(llm::ChatMessageJson(m));
    c.message_count = static_cast<int64_t>(messages.size());
    return JsonOk({{"conversation", ConversationJson(c)}, {"messages", out}});
  })});
  r.push_back({"PATCH", "/api/v1/llm/conversations/:id", WithPathId("conversation id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxChatBody));
    LOUPE_ASSIGN_OR_RESPOND(Conversation c, chat.UpdateConversation(id, body));
    return JsonOk(ConversationJson(c));
  })});
  r.push_back({"DELETE", "/api/v1/llm/conversations/:id", WithPathId("conversation id", [&](const HttpRequest&, int64_t id) {
    if (Status s = chat.chats().DeleteConversation(id); !s.ok()) return JsonError(s);
    return JsonOk(nullptr);
  })});

  // POST {content, model_id?}: the user's next message and the model's answer, streamed.
  Route send{"POST", "/api/v1/llm/conversations/:id/messages", nullptr};
  send.stream = [&](const HttpRequest& req) {
    Result<int64_t> id = ParseId(req.Param("id"), "conversation id");
    if (!id.ok()) return StreamStart{JsonError(id.status()), nullptr};
    Result<json> body = ParseJsonObject(req, kMaxChatBody);
    if (!body.ok()) return StreamStart{JsonError(body.status()), nullptr};
    for (auto it = body->begin(); it != body->end(); ++it) {
      if (it.key() != "content" && it.key() != "model_id") {
        return StreamStart{JsonError(Status::InvalidArgument("unknown field '" + it.key() + "'")), nullptr};
      }
    }
    auto content = body->find("content");
    if (content == body->end() || !content->is_string()) {
      return StreamStart{JsonError(Status::InvalidArgument("'content' must be a string")), nullptr};
    }
    Result<std::optional<int64_t>> model = OptionalModelId(*body);
    if (!model.ok()) return StreamStart{JsonError(model.status()), nullptr};
    return StreamAnswer(chat.Send(*id, content->get<std::string>(), *model, req.caller.user));
  };
  r.push_back(std::move(send));

  // POST {model_id}: another answer to an earlier prompt, from another model, streamed.
  Route resend{"POST", "/api/v1/llm/conversations/:id/messages/:message/answers", nullptr};
  resend.stream = [&](const HttpRequest& req) {
    Result<int64_t> id = ParseId(req.Param("id"), "conversation id");
    if (!id.ok()) return StreamStart{JsonError(id.status()), nullptr};
    Result<int64_t> message = ParseId(req.Param("message"), "message id");
    if (!message.ok()) return StreamStart{JsonError(message.status()), nullptr};
    Result<json> body = ParseJsonObject(req, kMaxChatBody);
    if (!body.ok()) return StreamStart{JsonError(body.status()), nullptr};
    for (auto it = body->begin(); it != body->end(); ++it) {
      if (it.key() != "model_id") {
        return StreamStart{JsonError(Status::InvalidArgument("unknown field '" + it.key() + "'")), nullptr};
      }
    }
    Result<std::optional<int64_t>> model = OptionalModelId(*body);
    if (!model.ok()) return StreamStart{JsonError(model.status()), nullptr};
    if (!*model) return StreamStart{JsonError(Status::InvalidArgument("'model_id' is required")), nullptr};
    return StreamAnswer(chat.Resend(*id, *message, **model, req.caller.user));
  };
  r.push_back(std::move(resend));

  r.push_back({"POST", "/api/v1/llm/conversations/:id/stop", WithPathId("conversation id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(Conversation c, chat.chats().GetConversation(id));
    return JsonOk({{"stopped", chat.StopAnswers(c.id)}});
  })});
  return r;
}

}  // namespace loupe
