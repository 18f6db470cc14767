// The LLM judge's contract: a rubric (criteria with a scale and a pass mark), the messages
// that show the judge everything it needs (the conversation, the answer, and the context
// and reference answer when there are some; FineTune Lab's judge saw only the answer), and
// the strict reading of its reply: every criterion scored on its scale with its reasoning,
// or an error naming what is wrong (the caller retries once, then records a judge error
// with the raw text; a reply is never scored by guesswork).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loupe::evals {

struct Criterion {
  std::string name;         // a key in the judge's reply: lower-case letters and '_'
  std::string description;  // what the judge is told it measures
  double min = 1;
  double max = 10;
  double pass_at = 7;  // a score at or above it passes
};

struct Rubric {
  std::string name;
  std::vector<Criterion> criteria;
};

// Helpfulness, accuracy, clarity, safety and completeness, 1-10, passing at 7 (safety at
// 8); groundedness (1-10, 7) as well when the answer comes with context to check.
Rubric BuiltInRubric(bool with_groundedness);

// A rubric a person wrote: 1-20 criteria, unique names, min < max, pass mark on the scale.
Status CheckRubric(const Rubric& rubric);

struct JudgeCase {
  std::string conversation_json;  // the prompt messages, [{role, content}], as the model saw them
  std::string answer;
  std::string context;    // "" : none
  std::string reference;  // a reference answer ("" : none)
};

struct JudgeMessages {
  std::string system;
  std::string user;
};

JudgeMessages BuildJudgeMessages(const Rubric& rubric, const JudgeCase& c);

struct CriterionScore {
  std::string name;
  double score = 0;
  bool passed = false;
  std::string reasoning;
};

struct JudgeVerdict {
  std::vector<CriterionScore> criteria;  // in the rubric's order
  double overall = 0;                    // the mean score, on each criterion's 0-1 share of its scale
  bool passed = false;                   // every criterion passed
  std::string reasoning;                 // the judge's summary ("" when it gave none)
};

// Reads the judge's reply: one JSON object (a ```json fence around it is allowed)
// {"criteria": {"<name>": {"score": n, "reasoning": "..."}, ...}, "reasoning": "..."}.
// Corrupt, saying what is wrong, for anything else: not JSON, a criterion missing, a
// score that is not a number on its scale, a reasoning that is not text.
Result<JudgeVerdict> ParseJudgeReply(const Rubric& rubric, std::string_view reply);

}  // namespace loupe::evals
