#include "llm/feedback_service.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/time_util.h"
#include "llm/model_registry.h"

namespace loupe::llm {

namespace {

using nlohmann::json;

constexpr size_t kMaxText = 16 << 10;
constexpr size_t kMaxCitations = 100;
constexpr size_t kMaxEvidence = 64 << 10;

json OrNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

Status TextField(const json& v, const std::string& name, size_t max, std::string& out) {
  if (!v.is_string()) return Status::InvalidArgument("'" + name + "' must be a string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > max) return Status::InvalidArgument("'" + name + "' is at most " + std::to_string(max) + " bytes");
  if (HasControlCharacters(s, /*allow_whitespace=*/true)) {
    return Status::InvalidArgument("'" + name + "' must not contain control characters");
  }
  out = s;
  return Status::Ok();
}

}  // namespace

std::optional<Interval> WilsonInterval(int64_t successes, int64_t n, double z) {
  if (n <= 0) return std::nullopt;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  // At 0 or n successes the bound is exactly 0 or 1; the formula leaves rounding dust there.
  return Interval{successes == 0 ? 0.0 : std::max(0.0, center - half), successes == n ? 1.0 : std::min(1.0, center + half)};
}

json JudgmentJson(const Judgment& j) {
  json evidence = json::parse(j.evidence_json, nullptr, false);
  return {{"id", j.id},
          {"prediction_id", j.prediction_id},
          {"model_id", j.model_id ? json(*j.model_id) : json(nullptr)},
          {"model_name", j.model_name},
          {"source", j.source},
          {"criterion", j.criterion},
          {"score", OrNull(j.score)},
          {"passed", j.passed ? json(*j.passed) : json(nullptr)},
          {"tags", j.tags},
          {"evidence", evidence.is_discarded() ? json::object() : evidence},
          {"created_by", j.created_by},
          {"create_time", j.create_time / 1e6},
          {"update_time", j.update_time / 1e6}};
}

Result<Judgment> FeedbackService::Thumbs(int64_t prediction_id, const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "up") return Status::InvalidArgument("unknown field '" + it.key() + "'");
  }
  if (!body.contains("up") || !body["up"].is_boolean()) return Status::InvalidArgument("'up' must be true or false");
  Judgment j;
  j.prediction_id = prediction_id;
  j.source = "human";
  j.criterion = "thumbs";
  j.passed = body["up"].get<bool>();
  j.score = *j.passed ? 1.0 : 0.0;
  j.created_by = by;
  j.update_time = NowMicros();
  return store_.PutJudgment(j);
}

Result<Judgment> FeedbackService::Evaluate(int64_t prediction_id, const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  Judgment j;
  j.prediction_id = prediction_id;
  j.source = "human";
  j.criterion = "evaluation";
  j.created_by = by;
  json evidence = json::object();
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_null()) continue;
    if (k == "stars") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 5) {
        return Status::InvalidArgument("'stars' must be a whole number from 1 to 5");
      }
      j.score = static_cast<double>(v.get<int64_t>());
      evidence["stars"] = v;
    } else if (k == "success") {
      if (!v.is_boolean()) return Status::InvalidArgument("'success' must be true or false");
      j.passed = v.get<bool>();
      evidence["success"] = v;
    } else if (k == "failure_tags") {
      if (!v.is_array()) return Status::InvalidArgument("'failure_tags' must be a list");
      std::set<std::string> seen;
      for (const json& t : v) {
        const auto& all = FailureTags();
        if (!t.is_string() || std::find(all.begin(), all.end(), t.get<std::string>()) == all.end()) {
          std::string names;
          for (const std::string& n : all) names += (names.empty() ? "" : ", ") + n;
          return Status::InvalidArgument("a failure tag is one of " + names);
        }
        if (seen.insert(t.get<std::string>()).second) j.tags.push_back(t.get<std::string>());
      }
      std::sort(j.tags.begin(), j.tags.end());
      evidence["failure_tags"] = j.tags;
    } else if (k == "strengths" || k == "notes" || k == "expected") {
      std::string text;
      LOUPE_RETURN_IF_ERROR(TextField(v, k, kMaxText, text));
      if (!text.empty()) evidence[k] = text;
    } else if (k == "groundedness") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 100) {
        return Status::InvalidArgument("'groundedness' must be a number from 0 to 100");
      }
      evidence["groundedness"] = v;
    } else if (k == "citations") {
      if (!v.is_array() || v.size() > kMaxCitations) {
        return Status::InvalidArgument("'citations' must be a list of at most " + std::to_string(kMaxCitations));
      }
      json list = json::array();
      for (const json& c : v) {
        if (!c.is_object() || !c.contains("correct") || !c["correct"].is_boolean()) {
          return Status::InvalidArgument("a citation is {\"source\": text, \"correct\": true|false}");
        }
        std::string source;
        if (c.contains("source")) LOUPE_RETURN_IF_ERROR(TextField(c["source"], "source", 2048, source));
        for (auto ci = c.begin(); ci != c.end(); ++ci) {
          if (ci.key() != "source" && ci.key() != "correct") {
            return Status::InvalidArgument("unknown citation field '" + ci.key() + "'");
          }
        }
        list.push_back({{"source", source}, {"correct", c["correct"]}});
      }
      evidence["citations"] = list;
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  if (evidence.empty()) return Status::InvalidArgument("an evaluation needs at least one of its fields");
  j.evidence_json = evidence.dump(-1, ' ', false, json::error_handler_t::replace);
  j.update_time = NowMicros();
  return store_.PutJudgment(j);
}

Result<Judgment> FeedbackService::Judge(int64_t prediction_id, const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  Judgment j;
  j.prediction_id = prediction_id;
  j.created_by = by;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "source") {
      if (v != "rule" && v != "llm") return Status::InvalidArgument("'source' must be rule or llm (people use thumbs and evaluations)");
      j.source = v.get<std::string>();
    } else if (k == "criterion") {
      LOUPE_RETURN_IF_ERROR(TextField(v, k, 200, j.criterion));
      if (j.criterion == "thumbs" || j.criterion == "evaluation") {
        return Status::InvalidArgument("'" + j.criterion + "' is a person's criterion");
      }
    } else if (k == "score") {
      if (!v.is_number() || !std::isfinite(v.get<double>())) return Status::InvalidArgument("'score' must be a finite number");
      j.score = v.get<double>();
    } else if (k == "passed") {
      if (!v.is_boolean()) return Status::InvalidArgument("'passed' must be true or false");
      j.passed = v.get<bool>();
    } else if (k == "evidence") {
      if (!v.is_object()) return Status::InvalidArgument("'evidence' must be an object");
      j.evidence_json = v.dump(-1, ' ', false, json::error_handler_t::replace);
      if (j.evidence_json.size() > kMaxEvidence) return Status::InvalidArgument("'evidence' is at most 64 KiB");
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  if (j.source == "human") return Status::InvalidArgument("'source' (rule or llm) is required");
  if (j.criterion.empty()) return Status::InvalidArgument("'criterion' is required");
  j.update_time = NowMicros();
  return store_.PutJudgment(j);
}

Result<json> FeedbackService::Summary(const FeedbackFilter& f) {
  LOUPE_ASSIGN_OR_RETURN(FeedbackSummary s, store_.SummarizeFeedback(f));
  json models = json::array();
  for (const ModelFeedback& m : s.models) {
    const int64_t thumbs = m.thumbs_up + m.thumbs_down;
    std::optional<Interval> ci = WilsonInterval(m.thumbs_up, thumbs);
    json tags = json::array();
    for (const std::string& name : FailureTags()) {
      int64_t n = 0;
      for (const auto& [t, c] : m.tags) {
        if (t == name) n = c;
      }
      tags.push_back({{"tag", name},
                      {"count", n},
                      {"share", m.evaluations ? json(static_cast<double>(n) / m.evaluations) : json(nullptr)}});
    }
    models.push_back({{"model_id", m.model_id ? json(*m.model_id) : json(nullptr)},
                      {"model_name", m.model_name},
                      {"predictions", m.predictions},
                      {"thumbs_up", m.thumbs_up},
                      {"thumbs_down", m.thumbs_down},
                      {"up_rate", thumbs ? json(static_cast<double>(m.thumbs_up) / thumbs) : json(nullptr)},
                      {"up_rate_ci95", ci ? json::array({ci->low, ci->high}) : json(nullptr)},
                      {"evaluations", m.evaluations},
                      {"average_stars", m.stars_count ? json(m.stars_sum / m.stars_count) : json(nullptr)},
                      {"rated_stars", m.stars_count},
                      {"success_rate", m.success_answers ? json(static_cast<double>(m.successes) / m.success_answers)
                                                         : json(nullptr)},
                      {"failure_tags", tags}});
  }
  json trend = json::array();
  for (const FeedbackBucket& b : s.trend) {
    const int64_t thumbs = b.thumbs_up + b.thumbs_down;
    trend.push_back({{"start", b.start / 1e6},
                     {"model_id", b.model_id ? json(*b.model_id) : json(nullptr)},
                     {"model_name", b.model_name},
                     {"thumbs_up", b.thumbs_up},
                     {"thumbs_down", b.thumbs_down},
                     {"up_rate", thumbs ? json(static_cast<double>(b.thumbs_up) / thumbs) : json(nullptr)},
                     {"average_stars", b.stars_count ? json(b.stars_sum / b.stars_count) : json(nullptr)},
                     {"rated_stars", b.stars_count}});
  }
  return json{{"models", models}, {"trend", trend}};
}

}  // namespace loupe::llm
