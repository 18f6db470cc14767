#include "web/run_chat_api.h"

#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "common/time_util.h"
#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxBody = 1 << 20;

// The shapes are openai-python's models (types/chat/chat_completion.py, chat_completion_chunk.py):
// every field they require, and refusal and logprobs null as OpenAI sends them.
// Errors as OpenAI's API writes them, which OpenAI clients read: {error: {message, type}}.
HttpResponse OpenAiError(const Status& s) {
  HttpResponse r = JsonError(s);  // the status code
  const char* type = s.code() == Code::kNotFound ? "not_found_error"
                     : s.code() == Code::kUnauthenticated ? "authentication_error"
                     : (s.code() == Code::kInvalidArgument || s.code() == Code::kBadRequest || s.code() == Code::kConflict)
                         ? "invalid_request_error"
                         : "api_error";
  r.body = json{{"error", {{"message", s.message()}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  return r;
}

// The text of the last message, which must be the user's: a string, or text parts.
Result<std::string> LastUserText(const json& body) {
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) {
    return Status::InvalidArgument("'messages' must be a non-empty list");
  }
  const json& last = messages->back();
  if (!last.is_object() || !last.contains("role") || last["role"] != "user") {
    return Status::InvalidArgument("the last message must be the user's");
  }
  auto content = last.find("content");
  std::string text;
  if (content != last.end() && content->is_string()) {
    text = content->get<std::string>();
  } else if (content != last.end() && content->is_array()) {
    for (const json& part : *content) {
      if (part.is_object() && part.contains("type") && part["type"] == "text" && part.contains("text") &&
          part["text"].is_string()) {
        text += part["text"].get<std::string>();
      }
    }
  } else {
    return Status::InvalidArgument("the last message's content must be text");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument("the last message holds no text to predict from");
  }
  return text;
}

Result<std::string> Answer(runs::RunService& runs, int64_t id, const std::string& text) {
  LOUPE_ASSIGN_OR_RETURN(RunRecord run, runs.GetRun(id));
  if (run.status != WorkStatus::kFinished) {
    return Status::Conflict("run " + std::to_string(id) + " has no trained model yet (status " +
                            std::string(WorkStatusName(run.status)) + ")");
  }
  LOUPE_ASSIGN_OR_RETURN(ModelSessionRecord session, runs.GetSession(run.session_id));
  const json spec = json::parse(session.spec_json, nullptr, false);
  const json inputs = spec.is_object() ? spec.value("input_columns", json::array()) : json::array();
  json row = json::object();
  if (inputs.size() == 1 && inputs[0].is_string()) {
    row[inputs[0].get<std::string>()] = text;
  } else {
    Result<json> parsed = ParseBoundedJson<json>(text);
    if (!parsed.ok() || !parsed->is_object()) {
      std::string names;
      for (const json& c : inputs) names += (names.empty() ? "" : ", ") + c.get<std::string>();
      return Status::InvalidArgument("this run's model reads the columns " + names +
                                     ": send them as a JSON object in the message");
    }
    row = *parsed;
  }
  LOUPE_ASSIGN_OR_RETURN(json out, runs.Predict(id, json::array({row})));
  const json& p = out["predictions"][0];
  if (p.contains("label")) return p["label"].is_string() ? p["label"].get<std::string>() : p["label"].dump();
  return p.value("value", json()).dump();
}

}  // namespace

std::vector<Route> RunChatApiRoutes(runs::RunService& runs) {
  std::vector<Route> r;
  r.push_back({"GET", "/api/v1/run/:id/v1/models", WithPathId("run id", [&runs](const HttpRequest&, int64_t id) {
    Result<RunRecord> run = runs.GetRun(id);
    if (!run.ok()) return OpenAiError(run.status());
    if (run->status != WorkStatus::kFinished) {
      return OpenAiError(Status::Conflict("run " + std::to_string(id) + " has no trained model yet (status " +
                                          std::string(WorkStatusName(run->status)) + ")"));
    }
    HttpResponse resp;
    resp.content_type = "application/json";
    resp.body = json{{"object", "list"},
                     {"data", json::array({{{"id", "run-" + std::to_string(id)},
                                            {"object", "model"},
                                            {"created", run->create_time / 1000000},
                                            {"owned_by", "loupe"}}})}}
                    .dump();
    return resp;
  })});
  r.push_back(ReadingPost(Offload({"POST", "/api/v1/run/:id/v1/chat/completions", WithPathId("run id", [&runs](const HttpRequest& req, int64_t id) {
    Result<json> body = ParseJsonObject(req, kMaxBody);
    if (!body.ok()) return OpenAiError(body.status());
    if (body->contains("stream") && !(*body)["stream"].is_boolean()) {
      return OpenAiError(Status::InvalidArgument("'stream' must be true or false"));
    }
    Result<std::string> text = LastUserText(*body);
    if (!text.ok()) return OpenAiError(text.status());
    Result<std::string> answer = Answer(runs, id, *text);
    if (!answer.ok()) return OpenAiError(answer.status());
    const std::string model = "run-" + std::to_string(id);
    const std::string cid = "chatcmpl-run" + std::to_string(id) + "-" + std::to_string(NowMicros());
    const int64_t created = NowMicros() / 1000000;
    HttpResponse resp;
    if (body->contains("stream") && (*body)["stream"] == true) {
      // The whole answer is known at once: one chunk, the finish, [DONE].
      json chunk = {{"id", cid}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                    {"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", *answer}}},
                                              {"logprobs", nullptr}, {"finish_reason", nullptr}}})}};
      json end = {{"id", cid}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                  {"choices", json::array({{{"index", 0}, {"delta", json::object()}, {"logprobs", nullptr},
                                            {"finish_reason", "stop"}}})}};
      resp.content_type = "text/event-stream";
      resp.body = "data: " + chunk.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\ndata: " + end.dump() +
                  "\n\ndata: [DONE]\n\n";
      return resp;
    }
    resp.content_type = "application/json";
    resp.body = json{{"id", cid},
                     {"object", "chat.completion"},
                     {"created", created},
                     {"model", model},
                     {"choices", json::array({{{"index", 0},
                                               {"message", {{"role", "assistant"}, {"content", *answer}, {"refusal", nullptr}}},
                                               {"logprobs", nullptr},
                                               {"finish_reason", "stop"}}})}}
                    .dump(-1, ' ', false, json::error_handler_t::replace);
    return resp;
  })})));
  return r;
}

}  // namespace loupe
