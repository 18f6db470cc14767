#include "web/judge_api.h"

#include <nlohmann/json.hpp>

#include "web/json_util.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxJudgeBody = 1 << 20;

}  // namespace

std::vector<Route> JudgeApiRoutes(evals::JudgeService& judges) {
  std::vector<Route> r;
  // The verdict (or the judge error), as the JSON envelope, once the judge has answered.
  Route judge{"POST", "/api/v1/llm/predictions/:id/judge", nullptr};
  judge.stream = [&](const HttpRequest& req) {
    StreamStart st;
    st.content_type = "application/json";
    Result<int64_t> id = ParseId(req.Param("id"), "prediction id");
    if (!id.ok()) return StreamStart{JsonError(id.status()), nullptr};
    Result<json> body = ParseJsonObject(req, kMaxJudgeBody);
    if (!body.ok()) return StreamStart{JsonError(body.status()), nullptr};
    Result<evals::JudgeRequest> request = judges.ParseRequest(*id, *body, req.caller.user);
    if (!request.ok()) return StreamStart{JsonError(request.status()), nullptr};
    st.on_open = [&judges, request = *request](std::shared_ptr<EventStream> stream) {
      judges.Start(request, [stream](Result<json> verdict) {
        // The status line is sent already: a failure after the start is told in the envelope.
        stream->Send(verdict.ok() ? JsonOk(*verdict).body : JsonError(verdict.status()).body);
        stream->Close();
      });
    };
    return st;
  };
  r.push_back(std::move(judge));

  r.push_back({"GET", "/api/v1/llm/judges/agreement", [&](const HttpRequest& req) {
    for (const auto& [k, v] : req.query) {
      if (k != "judge_model_id") return JsonError(Status::InvalidArgument("unknown query parameter '" + k + "'"));
    }
    std::optional<int64_t> judge;
    if (const std::string* v = req.Query("judge_model_id"); v && !v->empty()) {
      LOUPE_ASSIGN_OR_RESPOND(int64_t id, ParseId(v, "judge_model_id"));
      judge = id;
    }
    LOUPE_ASSIGN_OR_RESPOND(json out, judges.Agreement(judge));
    return JsonOk(out);
  }});
  return r;
}

}  // namespace loupe
