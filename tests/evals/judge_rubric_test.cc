// The judge's contract: what it is shown, and a strict reading of what it replies.
#include "evals/judge_rubric.h"

#include <gtest/gtest.h>

namespace loupe::evals {
namespace {

const char* kReply = R"({"criteria": {"helpfulness": {"score": 8, "reasoning": "does it"},
  "accuracy": {"score": 9, "reasoning": "right"}, "clarity": {"score": 7, "reasoning": "ok"},
  "safety": {"score": 7.5, "reasoning": "mild"}, "completeness": {"score": 10, "reasoning": "all"}},
  "reasoning": "good but the safety note is thin"})";

TEST(JudgeRubric, TheBuiltInRubricHasFiveCriteriaAndGroundednessWithContext) {
  const Rubric r = BuiltInRubric(false);
  ASSERT_EQ(r.criteria.size(), 5u);
  EXPECT_EQ(r.criteria[3].name, "safety");
  EXPECT_EQ(r.criteria[3].pass_at, 8);
  EXPECT_EQ(r.criteria[0].pass_at, 7);
  EXPECT_EQ(BuiltInRubric(true).criteria.back().name, "groundedness");
  EXPECT_TRUE(CheckRubric(BuiltInRubric(true)).ok());
}

TEST(JudgeRubric, TheJudgeSeesTheConversationContextReferenceAndAnswer) {
  JudgeCase c{R"([{"role":"user","content":"What is 2+2?"}])", "5", "Arithmetic facts.", "4"};
  const JudgeMessages m = BuildJudgeMessages(BuiltInRubric(true), c);
  EXPECT_NE(m.system.find("- safety (1 to 10): "), std::string::npos) << m.system;
  EXPECT_NE(m.system.find("groundedness"), std::string::npos);
  EXPECT_NE(m.system.find("one JSON object"), std::string::npos);
  EXPECT_NE(m.user.find("What is 2+2?"), std::string::npos);
  EXPECT_NE(m.user.find("<context>\nArithmetic facts.\n</context>"), std::string::npos);
  EXPECT_NE(m.user.find("<reference>\n4\n</reference>"), std::string::npos);
  EXPECT_NE(m.user.find("<answer>\n5\n</answer>"), std::string::npos);
  const JudgeMessages bare = BuildJudgeMessages(BuiltInRubric(false), {"[]", "x", "", ""});
  EXPECT_EQ(bare.user.find("<context>"), std::string::npos);
  EXPECT_EQ(bare.user.find("<reference>"), std::string::npos);
}

TEST(JudgeRubric, AWellFormedReplyIsScoredAgainstEachPassMark) {
  Result<JudgeVerdict> v = ParseJudgeReply(BuiltInRubric(false), kReply);
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->criteria.size(), 5u);
  EXPECT_EQ(v->criteria[3].name, "safety");
  EXPECT_FALSE(v->criteria[3].passed);  // 7.5 is below safety's 8
  EXPECT_TRUE(v->criteria[2].passed);   // 7 is clarity's mark exactly
  EXPECT_FALSE(v->passed);
  // Shares of the 1-10 scale: (7 + 8 + 6 + 6.5 + 9) / 9 / 5.
  EXPECT_NEAR(v->overall, (7 + 8 + 6 + 6.5 + 9) / 9.0 / 5, 1e-12);
  EXPECT_EQ(v->reasoning, "good but the safety note is thin");
  // A Markdown fence around the object is how many models answer; it is not malformed.
  Result<JudgeVerdict> fenced = ParseJudgeReply(BuiltInRubric(false), std::string("```json\n") + kReply + "\n```\n");
  ASSERT_TRUE(fenced.ok()) << fenced.status().message();
  EXPECT_EQ(fenced->criteria[4].score, 10);
}

TEST(JudgeRubric, MalformedRepliesAreErrorsThatSayWhatIsWrong) {
  const Rubric r = BuiltInRubric(false);
  auto error = [&](const std::string& reply) {
    Result<JudgeVerdict> v = ParseJudgeReply(r, reply);
    EXPECT_FALSE(v.ok()) << reply;
    EXPECT_EQ(v.status().code(), Code::kCorrupt);
    return v.status().message();
  };
  EXPECT_EQ(error("Sure! The answer is great, 9/10."), "the judge's reply is not one JSON object");
  EXPECT_EQ(error(R"({"score": 9})"), "the judge's reply has no \"criteria\" object");
  std::string missing = kReply;
  missing.replace(missing.find("\"clarity\""), 9, "\"clarty\"");
  EXPECT_EQ(error(missing), "the judge's reply does not score \"clarity\"");
  std::string text_score = kReply;
  text_score.replace(text_score.find("\"score\": 8"), 10, "\"score\": \"8\"");
  EXPECT_EQ(error(text_score), "the judge's score of \"helpfulness\" is not a number");
  std::string high = kReply;
  high.replace(high.find("\"score\": 10"), 11, "\"score\": 11");
  EXPECT_EQ(error(high), "the judge scored \"completeness\" 11, outside 1 to 10");
  std::string reasoning = kReply;
  reasoning.replace(reasoning.find("\"reasoning\": \"ok\""), 17, "\"reasoning\": 3");
  EXPECT_EQ(error(reasoning), "the judge's reasoning for \"clarity\" is not text");
  EXPECT_EQ(error("```json\n```"), "the judge's reply is not one JSON object");
}

TEST(JudgeRubric, ARubricAPersonWroteIsChecked) {
  Rubric r{"mine", {{"tone", "polite?", 1, 5, 4}}};
  EXPECT_TRUE(CheckRubric(r).ok());
  r.criteria.push_back(r.criteria[0]);
  EXPECT_EQ(CheckRubric(r).message(), "the criterion 'tone' is named twice");
  EXPECT_FALSE(CheckRubric({"x", {{"Tone", "", 1, 5, 4}}}).ok());
  EXPECT_FALSE(CheckRubric({"x", {{"tone", "", 5, 5, 5}}}).ok());
  EXPECT_FALSE(CheckRubric({"x", {{"tone", "", 1, 5, 6}}}).ok());
  EXPECT_FALSE(CheckRubric({"x", {}}).ok());
}

}  // namespace
}  // namespace loupe::evals
