// Training-data lines (SFT and preference pairs), the Wilson interval and the numbers the
// LLM pages print, each against values worked out by hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm/feedback_service.h"
#include "llm/training_export.h"
#include "ui/llm_format.h"

namespace loupe::llm {
namespace {

using nlohmann::json;

const std::string kPrompt = R"([{"role":"system","content":"be brief"},{"role":"user","content":"2+2?"}])";

Prediction Call(const std::string& messages_json) {
  Prediction p;
  p.id = 7;
  p.model_name = "tuned";
  p.messages_json = messages_json;
  return p;
}

TEST(TrainingExport, SftLinesInOpenAiAndShareGptForm) {
  json openai = json::parse(*SftLine(Call(kPrompt), "4", SftFormat::kOpenAi));
  EXPECT_EQ(openai, json::parse(R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"2+2?"},
                                                {"role":"assistant","content":"4"}]})"));
  json sharegpt = json::parse(*SftLine(Call(kPrompt), "4", SftFormat::kShareGpt));
  EXPECT_EQ(sharegpt, json::parse(R"({"conversations":[{"from":"system","value":"be brief"},{"from":"human","value":"2+2?"},
                                                       {"from":"gpt","value":"4"}]})"));
  // Earlier answers in the history are context, not targets: OpenAI's weight 0 (they are
  // examples of their own, and may have been rated bad); ShareGPT has no such field.
  const char* multi = R"([{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}])";
  EXPECT_EQ(json::parse(*SftLine(Call(multi), "d", SftFormat::kOpenAi)),
            json::parse(R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","weight":0},
                                        {"role":"user","content":"c"},{"role":"assistant","content":"d"}]})"));
  EXPECT_EQ(json::parse(*SftLine(Call(multi), "d", SftFormat::kShareGpt))["conversations"][1],
            json::parse(R"({"from":"gpt","value":"b"})"));
  // One line each, whatever the text holds.
  EXPECT_EQ(SftLine(Call(kPrompt), "a\nb", SftFormat::kOpenAi)->find('\n'), std::string::npos);
  EXPECT_FALSE(SftLine(Call("[]"), "x", SftFormat::kOpenAi));
  EXPECT_FALSE(SftLine(Call(R"([{"role":"system","content":"s"}])"), "x", SftFormat::kOpenAi));  // no user turn
  EXPECT_FALSE(SftLine(Call("not json"), "x", SftFormat::kOpenAi));
}

TEST(TrainingExport, SftTableLinesAreFlatAndKeepEarlierTurns) {
  json row = json::parse(*SftLine(Call(kPrompt), "4", SftFormat::kTable));
  EXPECT_EQ(row, (json{{"prediction_id", 7}, {"model", "tuned"}, {"system", "be brief"}, {"prompt", "2+2?"},
                       {"completion", "4"}, {"messages", json::parse(kPrompt).dump()}}));
  for (const auto& [k, v] : row.items()) EXPECT_TRUE(v.is_primitive()) << k;
  // A second turn: the prompt is the last thing the user said; the first turn is in messages.
  const std::string two = R"([{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"2+2?"}])";
  json second = json::parse(*SftLine(Call(two), "4", SftFormat::kTable));
  EXPECT_EQ(second["system"], "");
  EXPECT_EQ(second["prompt"], "2+2?");
  EXPECT_EQ(json::parse(second["messages"].get<std::string>()).size(), 3u);
}

PredictionRow Row(int64_t id, const std::string& response, std::optional<int64_t> thumbs, std::optional<double> stars,
                  const std::string& evaluation = "") {
  PredictionRow r;
  r.p.id = id;
  r.p.messages_json = kPrompt;
  r.p.response = response;
  r.p.outcome = "ok";
  r.thumbs = thumbs;
  r.stars = stars;
  r.evaluation_json = evaluation;
  return r;
}

TEST(TrainingExport, PairsEveryGoodAnswerWithEveryBadOneAndCorrectionsWithTheirAnswer) {
  std::vector<PredictionRow> rows = {Row(1, "4", 1, std::nullopt), Row(2, "5", -1, std::nullopt, R"({"expected":"Four."})"),
                                     Row(3, "four", std::nullopt, 5.0), Row(4, "22", std::nullopt, 1.0),
                                     Row(5, "meh", std::nullopt, 3.0)};
  std::vector<PreferencePair> pairs = PairsOf(rows, 100);
  // bad: 2 (thumbs down) and 4 (1 star); good: 1 and 3; 2 has a correction.
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0].chosen, "Four.");
  EXPECT_EQ(pairs[0].rejected, "5");
  EXPECT_EQ(pairs[0].chosen_prediction, 0);
  EXPECT_EQ(pairs[1].chosen, "4");
  EXPECT_EQ(pairs[2].chosen, "four");
  EXPECT_EQ(pairs[3].rejected, "22");
  EXPECT_EQ(PairsOf(rows, 2).size(), 2u);
  // Thumbs win over stars; a failed evaluation is bad; errors never pair.
  EXPECT_EQ(VerdictOf(Row(9, "x", 1, 1.0)), Verdict::kGood);
  EXPECT_EQ(VerdictOf(Row(9, "x", std::nullopt, 5.0, R"({"success":false})")), Verdict::kBad);
  std::vector<PredictionRow> failed = {Row(1, "4", 1, std::nullopt), Row(2, "", -1, std::nullopt)};
  failed[1].p.outcome = "error";
  EXPECT_TRUE(PairsOf(failed, 100).empty());
}

TEST(TrainingExport, PreferenceLinesInTrlAndOpenAiDpoForm) {
  PreferencePair pair{kPrompt, "4", "5", 1, 2};
  json trl = json::parse(*PreferenceLine(pair, PreferenceFormat::kTrl));
  EXPECT_EQ(trl["prompt"], json::parse(kPrompt));
  EXPECT_EQ(trl["chosen"], json::parse(R"([{"role":"assistant","content":"4"}])"));
  EXPECT_EQ(trl["rejected"], json::parse(R"([{"role":"assistant","content":"5"}])"));
  json dpo = json::parse(*PreferenceLine(pair, PreferenceFormat::kOpenAi));
  EXPECT_EQ(dpo, json::parse(R"({"input":{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"2+2?"}],
                                          "tools":[],"parallel_tool_calls":true},
                                 "preferred_output":[{"role":"assistant","content":"4"}],
                                 "non_preferred_output":[{"role":"assistant","content":"5"}]})"));
}

TEST(TrainingExport, PreferenceTableLinesAreFlat) {
  json row = json::parse(*PreferenceLine(PreferencePair{kPrompt, "4", "5", 0, 2}, PreferenceFormat::kTable));
  EXPECT_EQ(row, (json{{"prompt", "2+2?"}, {"chosen", "4"}, {"rejected", "5"}, {"system", "be brief"},
                       {"messages", json::parse(kPrompt).dump()}, {"chosen_prediction", 0}, {"rejected_prediction", 2}}));
}

TEST(Feedback, WilsonIntervalMatchesKnownValues) {
  // 8 of 10: (0.4902, 0.9433); 0 of 10: (0, 0.2775); 50 of 100: (0.4038, 0.5962).
  std::optional<Interval> a = WilsonInterval(8, 10);
  EXPECT_NEAR(a->low, 0.49016, 1e-4);
  EXPECT_NEAR(a->high, 0.94331, 1e-4);
  std::optional<Interval> b = WilsonInterval(0, 10);
  EXPECT_EQ(b->low, 0.0);  // exactly: 0 of 200 once gave 1.7e-18
  EXPECT_EQ(WilsonInterval(0, 200)->low, 0.0);
  EXPECT_EQ(WilsonInterval(200, 200)->high, 1.0);
  EXPECT_NEAR(b->high, 0.27753, 1e-4);
  std::optional<Interval> c = WilsonInterval(50, 100);
  EXPECT_NEAR(c->low, 0.40383, 1e-4);
  EXPECT_NEAR(c->high, 0.59617, 1e-4);
  EXPECT_FALSE(WilsonInterval(0, 0));
}

TEST(LlmFormat, NumbersAsThePagesPrintThem) {
  EXPECT_EQ(FormatMillis(0.42), "0.42 ms");
  EXPECT_EQ(FormatMillis(12.34), "12.3 ms");
  EXPECT_EQ(FormatMillis(850), "850 ms");
  EXPECT_EQ(FormatMillis(999.4), "999 ms");
  EXPECT_EQ(FormatMillis(999.6), "1.00 s");
  EXPECT_EQ(FormatMillis(1234), "1.23 s");
  EXPECT_EQ(FormatMillis(61000), "61.0 s");
  EXPECT_EQ(FormatTokens(12, 34), "12 in + 34 out = 46 tokens");
  EXPECT_EQ(FormatTokens(12, std::nullopt), "12 in + unknown out");  // a stopped answer
  EXPECT_EQ(FormatTokens(std::nullopt, std::nullopt), "tokens unknown");
  EXPECT_EQ(FormatUsd(std::nullopt), "cost unknown");
  EXPECT_EQ(FormatUsd(0.0), "$0");
  EXPECT_EQ(FormatUsd(0.0000412), "$0.0000412");
  EXPECT_EQ(FormatUsd(0.0123), "$0.0123");
  EXPECT_EQ(FormatUsd(0.5), "$0.500");
  EXPECT_EQ(FormatUsd(1.234), "$1.23");
  EXPECT_EQ(FormatUsd(1234.567), "$1,234.57");
  EXPECT_EQ(FormatPercent(0.4), "40%");
  EXPECT_EQ(FormatPercent(0.123), "12.3%");
  EXPECT_EQ(FormatPercent(2.0 / 3), "66.7%");
}

}  // namespace
}  // namespace loupe::llm
