#include "evals/judge_service.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <set>

#include "common/ranks.h"
#include "common/time_util.h"
#include "llm/model_registry.h"

namespace loupe::evals {

namespace {

using nlohmann::json;

constexpr size_t kMaxContext = 256 << 10;
// What the judge is shown (conversation, answer, context, reference) at most: a judged
// conversation may hold far more than a judge should be sent.
constexpr size_t kMaxJudgePrompt = 512 << 10;

Status CheckJudgePrompt(const JudgeMessages& m) {
  if (m.user.size() <= kMaxJudgePrompt) return Status::Ok();
  return Status::TooLarge("what the judge would be shown (conversation, answer, context, reference) is " +
                          std::to_string(m.user.size()) + " bytes; at most " + std::to_string(kMaxJudgePrompt));
}
constexpr size_t kMaxRawKept = 16 << 10;  // of a malformed reply, in the judge error's evidence
constexpr int64_t kJudgmentPage = 1000;
constexpr int64_t kMaxAgreementJudgments = 2000000;

bool IsId(const json& v) { return v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() < 9.2e18; }

Result<std::string> OptionalText(const json& body, const char* key, size_t max) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string() || it->get<std::string>().size() > max ||
      llm::HasControlCharacters(it->get<std::string>(), /*allow_whitespace=*/true)) {
    return Status::InvalidArgument("'" + std::string(key) + "' must be text of at most " + std::to_string(max) +
                                   " bytes without control characters");
  }
  return it->get<std::string>();
}

Result<Rubric> RubricFrom(const json& v) {
  if (!v.is_object()) return Status::InvalidArgument("'rubric' must be an object {name, criteria: [...]}");
  Rubric r;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "name") {
      if (!it->is_string() || it->get<std::string>().size() > 200) {
        return Status::InvalidArgument("the rubric's 'name' must be text of at most 200 bytes");
      }
      r.name = it->get<std::string>();
    } else if (it.key() == "criteria") {
      if (!it->is_array()) return Status::InvalidArgument("the rubric's 'criteria' must be a list");
      for (const json& c : *it) {
        if (!c.is_object()) return Status::InvalidArgument("each criterion must be an object");
        Criterion k;
        for (auto f = c.begin(); f != c.end(); ++f) {
          if (f.key() == "name" || f.key() == "description") {
            if (!f->is_string()) return Status::InvalidArgument("a criterion's '" + f.key() + "' must be text");
            (f.key() == "name" ? k.name : k.description) = f->get<std::string>();
          } else if (f.key() == "min" || f.key() == "max" || f.key() == "pass_at") {
            if (!f->is_number()) return Status::InvalidArgument("a criterion's '" + f.key() + "' must be a number");
            (f.key() == "min" ? k.min : f.key() == "max" ? k.max : k.pass_at) = f->get<double>();
          } else {
            return Status::InvalidArgument("unknown criterion field '" + f.key() + "'");
          }
        }
        if (k.name == "overall" || k.name == "judge_error") {
          return Status::InvalidArgument("'" + k.name + "' is the name Loupe gives the judge's " +
                                         (k.name == "overall" ? "overall score" : "errors") + "; call the criterion otherwise");
        }
        for (double x : {k.min, k.max, k.pass_at}) {
          if (!std::isfinite(x) || std::fabs(x) > 1e6) {
            return Status::InvalidArgument("a criterion's min, max and pass_at are numbers within ±1,000,000");
          }
        }
        r.criteria.push_back(std::move(k));
      }
    } else {
      return Status::InvalidArgument("unknown rubric field '" + it.key() + "'");
    }
  }
  if (r.name.empty()) r.name = "custom";
  LOUPE_RETURN_IF_ERROR(CheckRubric(r));
  return r;
}

}  // namespace

std::optional<double> QuadraticWeightedKappa(const std::vector<int>& a, const std::vector<int>& b, int k) {
  if (a.size() != b.size() || a.empty() || k < 2) return std::nullopt;
  std::vector<std::vector<double>> observed(k, std::vector<double>(k, 0));
  std::vector<double> row(k, 0), col(k, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] < 1 || a[i] > k || b[i] < 1 || b[i] > k) return std::nullopt;
    observed[a[i] - 1][b[i] - 1] += 1;
    row[a[i] - 1] += 1;
    col[b[i] - 1] += 1;
  }
  const double n = static_cast<double>(a.size());
  double seen = 0, chance = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      const double w = static_cast<double>((i - j) * (i - j)) / ((k - 1) * (k - 1));
      seen += w * observed[i][j] / n;
      chance += w * row[i] * col[j] / (n * n);
    }
  }
  if (chance == 0) return std::nullopt;
  return 1 - seen / chance;
}

int ToFivePoint(double score, double min, double max) {
  if (!(max > min)) return 3;
  const double share = std::clamp((score - min) / (max - min), 0.0, 1.0);
  return 1 + static_cast<int>(std::lround(share * 4));
}

Result<JudgeRequest> JudgeService::ParseRequest(int64_t prediction_id, const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    static const std::set<std::string> known = {"judge_model_id", "rubric", "groundedness", "context", "reference"};
    if (!known.count(it.key())) return Status::InvalidArgument("unknown field '" + it.key() + "'");
  }
  JudgeRequest r;
  r.prediction_id = prediction_id;
  r.by = by;
  if (!body.contains("judge_model_id") || !IsId(body["judge_model_id"])) {
    return Status::InvalidArgument("'judge_model_id' must be the id of the model that judges");
  }
  r.judge_model_id = body["judge_model_id"].get<int64_t>();
  LOUPE_ASSIGN_OR_RETURN(r.context, OptionalText(body, "context", kMaxContext));
  LOUPE_ASSIGN_OR_RETURN(r.reference, OptionalText(body, "reference", kMaxContext));
  bool groundedness = !r.context.empty();
  if (body.contains("groundedness")) {
    if (!body["groundedness"].is_boolean()) return Status::InvalidArgument("'groundedness' must be true or false");
    groundedness = body["groundedness"].get<bool>();
    if (groundedness && r.context.empty()) {
      return Status::InvalidArgument("groundedness is judged against a context: give 'context'");
    }
  }
  if (body.contains("rubric")) {
    if (body.contains("groundedness")) {
      return Status::InvalidArgument("'groundedness' belongs to the built-in rubric; add it to your rubric instead");
    }
    LOUPE_ASSIGN_OR_RETURN(r.rubric, RubricFrom(body["rubric"]));
  } else {
    r.rubric = BuiltInRubric(groundedness);
  }
  // The judge must be callable (it exists, its key can be read) before anything streams.
  LOUPE_RETURN_IF_ERROR(chat_.PrepareCall(r.judge_model_id, "", "{}", {}, by, "judge", nullptr).status());
  LOUPE_ASSIGN_OR_RETURN(Prediction p, chats_.GetPrediction(prediction_id));
  if (p.outcome != "ok") {
    return Status::Conflict("prediction " + std::to_string(prediction_id) + " did not answer (" + p.outcome +
                                      "); only answers can be judged");
  }
  LOUPE_RETURN_IF_ERROR(CheckJudgePrompt(
      BuildJudgeMessages(r.rubric, JudgeCase{p.messages_json, p.response, r.context, r.reference})));
  return r;
}

Status JudgeService::CheckBatchJudge(const json& spec, const std::string& by) {
  if (!spec.is_object()) return Status::InvalidArgument("'judge' must be an object {judge_model_id, rubric?}");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    if (it.key() != "judge_model_id" && it.key() != "rubric") {
      return Status::InvalidArgument("the judge's unknown field '" + it.key() + "'");
    }
  }
  if (!spec.contains("judge_model_id") || !IsId(spec["judge_model_id"])) {
    return Status::InvalidArgument("the judge's 'judge_model_id' must be the id of the model that judges");
  }
  LOUPE_RETURN_IF_ERROR(BatchRubric(spec, false).status());
  return chat_.PrepareCall(spec["judge_model_id"].get<int64_t>(), "", "{}", {}, by, "judge", nullptr).status();
}

Result<Rubric> JudgeService::BatchRubric(const json& spec, bool with_context) {
  if (spec.contains("rubric")) return RubricFrom(spec["rubric"]);
  return BuiltInRubric(with_context);
}

struct JudgeService::Run {
  JudgeRequest request;
  JudgeMessages messages;
  Prediction judged;
  std::function<void(Result<json>)> done;
  int attempts = 0;
  // The latest attempt's call, as recorded (the HTTP client's thread only).
  std::string outcome;
  std::string reply;
  std::string error_text;
  std::string error_type;
  int64_t judge_prediction_id = 0;
  std::string judge_model_name;
};

void JudgeService::Start(const JudgeRequest& request, std::function<void(Result<json>)> done) {
  auto run = std::make_shared<Run>();
  run->request = request;
  run->done = std::move(done);
  Result<Prediction> judged = chats_.GetPrediction(request.prediction_id);
  if (!judged.ok()) return run->done(judged.status());
  run->judged = *judged;
  JudgeCase c;
  c.conversation_json = judged->messages_json;
  c.answer = judged->response;
  c.context = request.context;
  c.reference = request.reference;
  run->messages = BuildJudgeMessages(request.rubric, c);
  if (Status s = CheckJudgePrompt(run->messages); !s.ok()) return run->done(s);
  Attempt(run);
}

void JudgeService::Attempt(const std::shared_ptr<Run>& run) {
  ++run->attempts;
  auto record = [this, run](const Prediction& p) -> Result<int64_t> {
    run->outcome = p.outcome;
    run->reply = p.response;
    run->error_text = p.error_text;
    run->error_type = p.error_type;
    run->judge_model_name = p.model_name;
    return chats_.RecordPrediction(p);
  };
  Result<std::shared_ptr<llm::ChatCall>> call =
      chat_.PrepareCall(run->request.judge_model_id, run->messages.system, R"({"temperature":0})",
                        {{"user", run->messages.user}}, run->request.by, "judge", record);
  if (!call.ok()) return run->done(call.status());
  (*call)->Start([this, run](const std::string& event, const json& data) {
    if (event != "done" && event != "error") return true;
    if (data.contains("prediction") && data["prediction"].is_object()) {
      run->judge_prediction_id = data["prediction"].value("id", int64_t{0});
    }
    Ended(run);
    return true;
  });
}

JudgeService::JudgeService(ChatStore& chats, FeedbackStore& feedback, llm::ChatService& chat)
    : chats_(chats), feedback_(feedback), chat_(chat), writer_(std::make_unique<ThreadPool>(1, 1 << 20)) {}

void JudgeService::Stop() {
  std::unique_ptr<ThreadPool> writer;
  {
    std::lock_guard<std::mutex> lock(writer_mu_);
    writer.swap(writer_);
  }
  writer.reset();  // runs what is queued, then joins
}

void JudgeService::Ended(const std::shared_ptr<Run>& run) {
  {
    std::lock_guard<std::mutex> lock(writer_mu_);
    if (writer_ && writer_->Post([this, run] { Judged(run); })) return;
  }
  Judged(run);  // stopped (or a million verdicts queued): written here
}

void JudgeService::Judged(const std::shared_ptr<Run>& run) {
  const JudgeRequest& r = run->request;
  const int64_t now = NowMicros();
  json judge = {{"model_id", r.judge_model_id}, {"model_name", run->judge_model_name},
                {"prediction_id", run->judge_prediction_id}, {"rubric", r.rubric.name}};
  // The server stopping is no verdict on the answer: nothing is recorded against it.
  if (run->error_type == "shutdown") return run->done(Status::Unavailable("the server is stopping; judge again later"));
  Status reason = Status::Ok();
  Result<JudgeVerdict> verdict = Status::Corrupt("no reply");
  if (run->outcome != "ok") {
    reason = Status::Unavailable("the judge's call failed (" + (run->outcome.empty() ? "not recorded" : run->outcome) +
                                 "): " + run->error_text);
  } else {
    verdict = ParseJudgeReply(r.rubric, run->reply);
    if (!verdict.ok()) {
      if (run->attempts < 2) return Attempt(run);  // once more; the reply is kept as a prediction
      reason = verdict.status();
    }
  }
  json judgments = json::array();
  if (!reason.ok()) {
    // Never scored by guesswork: the error, with what the judge said.
    Judgment j;
    j.prediction_id = r.prediction_id;
    j.source = "llm";
    j.criterion = "judge_error";
    j.evidence_json = json{{"error", reason.message()},
                           {"raw", run->reply.substr(0, kMaxRawKept)},
                           {"attempts", run->attempts},
                           {"judge", judge}}
                          .dump(-1, ' ', false, json::error_handler_t::replace);
    j.created_by = r.by;
    j.create_time = j.update_time = now;
    Result<Judgment> stored = feedback_.PutJudgment(j);
    if (!stored.ok()) return run->done(stored.status());
    return run->done(json{{"prediction_id", r.prediction_id}, {"passed", nullptr}, {"overall", nullptr},
                          {"error", reason.message()}, {"raw", run->reply.substr(0, kMaxRawKept)},
                          {"attempts", run->attempts}, {"judge", judge}, {"judgment_ids", json::array({stored->id})}});
  }
  json criteria = json::array();
  json ids = json::array();
  // Every criterion and the overall score, in one transaction.
  std::vector<Judgment> batch;
  auto add = [&](const std::string& name, double score, std::optional<bool> passed, json evidence) {
    Judgment j;
    j.prediction_id = r.prediction_id;
    j.source = "llm";
    j.criterion = name;
    j.score = score;
    j.passed = passed;
    evidence["judge"] = judge;
    j.evidence_json = evidence.dump(-1, ' ', false, json::error_handler_t::replace);
    j.created_by = r.by;
    j.create_time = j.update_time = now;
    batch.push_back(std::move(j));
  };
  for (size_t i = 0; i < verdict->criteria.size(); ++i) {
    const CriterionScore& s = verdict->criteria[i];
    const Criterion& k = r.rubric.criteria[i];
    add(s.name, s.score, s.passed, {{"reasoning", s.reasoning}, {"min", k.min}, {"max", k.max}, {"pass_at", k.pass_at}});
    criteria.push_back({{"name", s.name}, {"score", s.score}, {"passed", s.passed}, {"reasoning", s.reasoning},
                        {"min", k.min}, {"max", k.max}, {"pass_at", k.pass_at}});
  }
  // On 1-10: each score's place on its scale, multiplied before dividing so that a score
  // of 6 on 1-10 stays exactly 6.
  double placed = 0;
  for (size_t i = 0; i < verdict->criteria.size(); ++i) {
    const Criterion& k = r.rubric.criteria[i];
    placed += 9 * (verdict->criteria[i].score - k.min) / (k.max - k.min);
  }
  const double overall = 1 + placed / static_cast<double>(verdict->criteria.size());
  const double share = (overall - 1) / 9;
  add("overall", overall, verdict->passed, {{"reasoning", verdict->reasoning}, {"min", 1}, {"max", 10}, {"share", share}});
  Result<std::vector<Judgment>> stored = feedback_.PutJudgments(batch);
  if (!stored.ok()) return run->done(stored.status());
  for (const Judgment& j : *stored) ids.push_back(j.id);
  run->done(json{{"prediction_id", r.prediction_id}, {"passed", verdict->passed}, {"overall", overall},
                 {"overall_share", share}, {"reasoning", verdict->reasoning}, {"criteria", criteria},
                 {"attempts", run->attempts}, {"judge", judge}, {"judgment_ids", ids}});
}

Result<json> JudgeService::Agreement(std::optional<int64_t> judge_model_id) {
  struct Latest {
    int64_t time = 0;
    double score = 0;
    double min = 1, max = 5;
  };
  // (prediction, criterion) -> the latest person's and judge's score.
  std::map<std::pair<int64_t, std::string>, Latest> human, judged;
  FeedbackFilter f;
  int64_t after = 0, read = 0;
  while (read < kMaxAgreementJudgments) {
    LOUPE_ASSIGN_OR_RETURN(auto page, feedback_.ListJudgments(f, after, kJudgmentPage));
    for (const auto& [j, p] : page) {
      after = std::max(after, j.id);
      if (!j.score) continue;
      if (j.source == "human") {
        // A person's 1-5: comparison ratings, or an evaluation's stars (as "overall").
        const std::string criterion = j.criterion == "evaluation" ? "overall" : j.criterion;
        if (j.criterion == "thumbs") continue;
        Latest& l = human[{j.prediction_id, criterion}];
        if (j.update_time >= l.time) l = {j.update_time, *j.score, 1, 5};
      } else if (j.source == "llm") {
        json e = json::parse(j.evidence_json, nullptr, false);
        if (!e.is_object() || !e.contains("judge") || !e["judge"].is_object()) continue;
        if (judge_model_id && e["judge"].value("model_id", int64_t{0}) != *judge_model_id) continue;
        Latest& l = judged[{j.prediction_id, j.criterion}];
        if (j.update_time >= l.time) l = {j.update_time, *j.score, e.value("min", 1.0), e.value("max", 10.0)};
      }
    }
    read += static_cast<int64_t>(page.size());
    if (static_cast<int64_t>(page.size()) < kJudgmentPage) break;
  }
  struct Pairs {
    std::vector<double> people, judge;  // raw scores, for the rank correlation
    std::vector<int> people5, judge5;   // categories 1-5, for the kappa
  };
  std::map<std::string, Pairs> by_criterion;
  for (const auto& [key, h] : human) {
    auto it = judged.find(key);
    if (it == judged.end()) continue;
    Pairs& p = by_criterion[key.second];
    p.people.push_back(h.score);
    // Shares of each judgment's own scale, so rubrics with other scales compare.
    const double span = it->second.max - it->second.min;
    p.judge.push_back(span > 0 ? (it->second.score - it->second.min) / span : 0.5);
    p.people5.push_back(static_cast<int>(std::lround(std::clamp(h.score, 1.0, 5.0))));
    p.judge5.push_back(ToFivePoint(it->second.score, it->second.min, it->second.max));
  }
  json out = json::array();
  for (const auto& [criterion, p] : by_criterion) {
    std::optional<double> rho = SpearmanRho(p.people, p.judge);
    std::optional<double> kappa = QuadraticWeightedKappa(p.people5, p.judge5, 5);
    double exact = 0;
    for (size_t i = 0; i < p.people5.size(); ++i) exact += p.people5[i] == p.judge5[i] ? 1 : 0;
    out.push_back({{"criterion", criterion},
                   {"n", p.people.size()},
                   {"spearman", rho ? json(*rho) : json(nullptr)},
                   {"weighted_kappa", kappa ? json(*kappa) : json(nullptr)},
                   {"exact_agreement", exact / static_cast<double>(p.people5.size())}});
  }
  return json{{"criteria", out}};
}

}  // namespace loupe::evals
