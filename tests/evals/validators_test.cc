// Rule validators: each passes and fails where it should, with the spans that decided it.
#include "evals/validators.h"

#include <gtest/gtest.h>

namespace loupe::evals {
namespace {

using json = nlohmann::json;

ValidatorResult Validate(const json& spec, const std::string& answer, const std::string& context = "") {
  Result<std::unique_ptr<Validator>> v = MakeValidator(spec);
  EXPECT_TRUE(v.ok()) << spec.dump() << ": " << v.status().message();
  return (*v)->Check(answer, context);
}

TEST(Validators, ContainsFindsEveryOccurrenceWithItsSpan) {
  ValidatorResult r = Validate({{"type", "contains"}, {"value", "paris"}}, "Paris is big. I like PARIS.");
  EXPECT_TRUE(r.passed);
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_EQ(r.spans[0].end, 5u);
  EXPECT_EQ(r.spans[0].begin, 0u);
  EXPECT_EQ(r.spans[1].begin, 21u);
  EXPECT_EQ(r.spans[1].text, "PARIS");
  EXPECT_FALSE(Validate({{"type", "contains"}, {"value", "paris"}, {"case_sensitive", true}}, "Paris").passed);
  // Evidence is kept for the first 100; the count goes on.
  ValidatorResult many = Validate({{"type", "contains"}, {"value", "a"}}, std::string(1000, 'a'));
  EXPECT_EQ(many.spans.size(), 100u);
  EXPECT_EQ(many.message, "\"a\" is in the answer 1000 time(s)");
  EXPECT_EQ(Validate({{"type", "regex"}, {"pattern", "a"}}, std::string(1000, 'a')).message, "100 or more match(es) of /a/");
  ValidatorResult numbers = Validate({{"type", "grounded_numbers"}}, std::string(300, ' ') + "1 2 3 " + std::string(500, '9'), "");
  EXPECT_EQ(numbers.message, "4 of 4 numbers in the answer appear nowhere in the context");
  ValidatorResult no = Validate({{"type", "not_contains"}, {"value", "as an AI"}}, "Well, as an AI, I think");
  EXPECT_FALSE(no.passed);
  ASSERT_EQ(no.spans.size(), 1u);
  EXPECT_EQ(no.spans[0].text, "as an AI");
}

TEST(Validators, PatternsMatchInLinearTimeWithTheirSpans) {
  const std::string answer = "Light moves at 299792 km/s; sound at 0.343 km/s.";
  ValidatorResult r = Validate({{"type", "regex"}, {"pattern", R"([\d.]+ km/s)"}}, answer);
  EXPECT_TRUE(r.passed);
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_EQ(r.spans[0].text, "299792 km/s");
  EXPECT_EQ(r.spans[0].begin, answer.find("299792"));
  EXPECT_EQ(r.spans[1].text, "0.343 km/s");
  EXPECT_FALSE(Validate({{"type", "regex"}, {"pattern", "KM/S"}}, answer).passed);
  EXPECT_TRUE(Validate({{"type", "regex"}, {"pattern", "KM/S"}, {"case_sensitive", false}}, answer).passed);
  EXPECT_FALSE(Validate({{"type", "not_regex"}, {"pattern", "km/s"}}, answer).passed);
  // A pattern that makes backtracking engines take exponential time answers at once.
  const std::string as = std::string(5000, 'a') + "!";
  EXPECT_FALSE(Validate({{"type", "regex"}, {"pattern", "(a+)+b"}}, as).passed);
  // Empty matches do not loop.
  EXPECT_EQ(Validate({{"type", "regex"}, {"pattern", "x*"}}, "ab").spans.size(), 3u);
  EXPECT_FALSE(MakeValidator({{"type", "regex"}, {"pattern", "a)|(b"}}).ok());
  EXPECT_FALSE(MakeValidator({{"type", "regex"}, {"pattern", "(?<=a)b"}}).ok());  // no look-behind in RE2
}

TEST(Validators, MarkdownSectionsAreHeadingsOutsideCodeBlocks) {
  const std::string answer = "# Summary\nShort.\n\n```\n## Steps\n```\n### Risks ###\n- none\n";
  ValidatorResult r = Validate({{"type", "markdown_sections"}, {"required", {"summary", "Risks", "Steps"}}}, answer);
  EXPECT_FALSE(r.passed);  // "## Steps" is inside a code block
  EXPECT_EQ(r.message, "missing section(s): \"Steps\"");
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_EQ(r.spans[0].text, "# Summary");
  EXPECT_EQ(r.spans[1].text, "### Risks ###");
  EXPECT_EQ(answer.substr(r.spans[1].begin, r.spans[1].end - r.spans[1].begin), "### Risks ###");
  EXPECT_NEAR(*r.score, 2.0 / 3, 1e-12);
  EXPECT_TRUE(Validate({{"type", "markdown_sections"}, {"required", {"Summary"}}}, "#Summary\n# Summary").passed);
  EXPECT_FALSE(Validate({{"type", "markdown_sections"}, {"required", {"Summary"}}}, "#Summary").passed);  // not a heading
  EXPECT_FALSE(MakeValidator({{"type", "markdown_sections"}, {"required", json::array()}}).ok());
}

TEST(Validators, JsonAndJsonSchemaSayWhereAndWhy) {
  EXPECT_TRUE(Validate({{"type", "json"}}, R"({"a": 1})").passed);
  ValidatorResult bad = Validate({{"type", "json"}}, R"({"a": 1,})");
  EXPECT_FALSE(bad.passed);
  ASSERT_EQ(bad.spans.size(), 1u);
  EXPECT_EQ(bad.spans[0].text, "}");  // where the parser stopped
  const json schema = {{"type", "object"},
                       {"required", {"name", "age"}},
                       {"properties", {{"age", {{"type", "integer"}, {"minimum", 0}}}}}};
  EXPECT_TRUE(Validate({{"type", "json_schema"}, {"schema", schema}}, R"({"name": "x", "age": 3})").passed);
  ValidatorResult wrong = Validate({{"type", "json_schema"}, {"schema", schema}}, R"({"name": "x", "age": -1})");
  EXPECT_FALSE(wrong.passed);
  EXPECT_NE(wrong.message.find("age"), std::string::npos) << wrong.message;
  EXPECT_FALSE(Validate({{"type", "json_schema"}, {"schema", schema}}, R"({"name": "x"})").passed);
  EXPECT_FALSE(Validate({{"type", "json_schema"}, {"schema", schema}}, "not json").passed);
  ValidatorResult deep = Validate({{"type", "json"}}, std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_FALSE(deep.passed);
  EXPECT_EQ(deep.message, "the answer nests JSON deeper than 64 levels");
}

TEST(Validators, LengthCountsCharactersNotBytes) {
  ValidatorResult r = Validate({{"type", "length"}, {"max", 5}}, "héllo");  // 6 bytes, 5 characters
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.score, 5);
  ValidatorResult shorter = Validate({{"type", "length"}, {"min", 10}}, "short");
  EXPECT_FALSE(shorter.passed);
  EXPECT_EQ(shorter.message, "5 characters, fewer than 10");
}

TEST(Validators, RefusalsAreFoundWhereTheyAreExpectedOrNot) {
  ValidatorResult r = Validate({{"type", "refusal"}}, "I'm sorry, but I can't help with that.");
  EXPECT_FALSE(r.passed);  // a refusal where none was expected
  ASSERT_FALSE(r.spans.empty());
  EXPECT_EQ(r.spans[0].begin, 0u);
  EXPECT_TRUE(Validate({{"type", "refusal"}, {"expect", true}}, "I cannot provide that.").passed);
  EXPECT_TRUE(Validate({{"type", "refusal"}}, "Here is how: first, ...").passed);
}

TEST(Validators, NumbersNotInTheContextAreFlaggedWithSpans) {
  const std::string context = "Revenue was 1,200 million in 2023, up 4.5% on 2022.";
  ValidatorResult ok = Validate({{"type", "grounded_numbers"}}, "In 2023 revenue reached 1200 million (+4.5%).", context);
  EXPECT_TRUE(ok.passed) << ok.message;
  EXPECT_EQ(ok.score, 1.0);
  const std::string answer = "Revenue was 1,300 million in 2023, up 4.5%.";
  ValidatorResult made_up = Validate({{"type", "grounded_numbers"}}, answer, context);
  EXPECT_FALSE(made_up.passed);
  ASSERT_EQ(made_up.spans.size(), 1u);
  EXPECT_EQ(made_up.spans[0].text, "1,300");
  EXPECT_EQ(answer.substr(made_up.spans[0].begin, made_up.spans[0].end - made_up.spans[0].begin), "1,300");
  EXPECT_NEAR(*made_up.score, 2.0 / 3, 1e-12);
  EXPECT_EQ(made_up.message, "1 of 3 numbers in the answer appear nowhere in the context");
}

TEST(Validators, XmlIsWellFormedOrTheErrorIsPlaced) {
  EXPECT_TRUE(Validate({{"type", "xml"}}, "<order id=\"1\"><item>tea</item></order>").passed);
  // A fenced answer is read inside its fence; the root can be required.
  ValidatorResult fenced = Validate({{"type", "xml"}, {"root", "order"}}, "```xml\n<order><item/></order>\n```");
  EXPECT_TRUE(fenced.passed) << fenced.message;
  const std::string answer = "<order><item>tea</order>";
  ValidatorResult bad = Validate({{"type", "xml"}}, answer);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message, "not well-formed XML at line 1, column 19: mismatched tag");
  ASSERT_EQ(bad.spans.size(), 1u);
  EXPECT_EQ(bad.spans[0].begin, 18u);  // the "</order>" that would close <item>
  EXPECT_EQ(bad.spans[0].text, "order");
  ValidatorResult root = Validate({{"type", "xml"}, {"root", "order"}}, "  <invoice/>");
  EXPECT_FALSE(root.passed);
  EXPECT_EQ(root.message, "the root element is <invoice>, not <order>");
  ASSERT_EQ(root.spans.size(), 1u);
  EXPECT_EQ(root.spans[0].begin, 2u);
  EXPECT_FALSE(Validate({{"type", "xml"}}, "just text").passed);
  EXPECT_FALSE(Validate({{"type", "xml"}}, "   ").passed);
  // An entity that grows without bound is refused, not expanded.
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a0 \"lollollollol\">";
  for (int i = 1; i <= 12; ++i) {
    laughs += "<!ENTITY a" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&a" + std::to_string(i - 1) + ";";
    laughs += "\">";
  }
  laughs += "]><l>&a12;</l>";
  EXPECT_FALSE(Validate({{"type", "xml"}}, laughs).passed);
}

TEST(Validators, GroundedFlagsNamesQuotesAndNumbersNotInTheContext) {
  const std::string context = "Marie Curie won the Nobel Prize in 1903 and 1911. She said \"nothing in life is to be feared\".";
  const std::string answer =
      "Marie Curie won the Nobel Prize in 1903. Albert Einstein said \"nothing in life is to be feared\" "
      "and \"science is magic\". She won in 1921.";
  ValidatorResult r = Validate({{"type", "grounded"}}, answer, context);
  EXPECT_FALSE(r.passed);
  std::vector<std::string> flagged;
  for (const Span& s : r.spans) {
    flagged.push_back(s.text);
    EXPECT_EQ(answer.substr(s.begin, s.end - s.begin), s.text);
  }
  EXPECT_EQ(flagged, (std::vector<std::string>{"Albert Einstein", "science is magic", "1921"}));
  // Checked: 2 numbers, 3 names (Marie Curie, Nobel Prize, Albert Einstein), 2 quotes.
  EXPECT_NEAR(*r.score, 1.0 - 3.0 / 7.0, 1e-12);
  EXPECT_EQ(r.message, "1 of 2 numbers, 1 of 3 names, 1 of 2 quoted strings in the answer appear nowhere in the context");
  ValidatorResult names_only = Validate({{"type", "grounded"}, {"check", {"names"}}}, answer, context);
  ASSERT_EQ(names_only.spans.size(), 1u);
  EXPECT_EQ(names_only.spans[0].text, "Albert Einstein");
  // Sentence-initial everyday words are not names.
  EXPECT_TRUE(Validate({{"type", "grounded"}}, "The answer is yes. However, it depends.", "").passed);
  ValidatorResult curly = Validate({{"type", "grounded"}, {"check", {"quotes"}}},
                                   "She said \xE2\x80\x9Cnothing in  life is to be feared\xE2\x80\x9D.", context);
  EXPECT_TRUE(curly.passed) << curly.message;  // whitespace runs match as one space
}

TEST(Validators, CitationsMustExistAndSupportTheirSentence) {
  const std::string context =
      "[1] The Eiffel Tower is 330 metres tall and stands in Paris.\n"
      "[2] Gustave Eiffel's company built the tower for the 1889 World's Fair.\n";
  ValidatorResult ok = Validate({{"type", "citations"}},
                                "The Eiffel Tower stands in Paris and is 330 metres tall [1]. It was built for "
                                "the 1889 World's Fair by Eiffel's company. [2]",
                                context);
  EXPECT_TRUE(ok.passed) << ok.message;
  EXPECT_EQ(ok.score, 1.0);
  EXPECT_EQ(ok.message, "every citation exists and supports its sentence (2 sentences)");
  const std::string answer =
      "The Eiffel Tower is 330 metres tall [1]. It is painted bright green every spring [2]. See also [7].";
  ValidatorResult bad = Validate({{"type", "citations"}}, answer, context);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message,
            "cited sources that do not exist: [7]; 2 of 3 citing sentences are not supported by what they cite");
  std::vector<std::string> spans;
  for (const Span& s : bad.spans) spans.push_back(s.text);
  EXPECT_EQ(spans, (std::vector<std::string>{"It is painted bright green every spring [2].", "See also [7].", "[7]"}));
  EXPECT_NEAR(*bad.score, 1.0 / 3.0, 1e-12);
  EXPECT_EQ(Validate({{"type", "citations"}}, "No sources here.", context).message, "the answer cites no source");
  // With `require`, a sentence of substance that cites nothing fails; a markdown link is no citation.
  ValidatorResult required = Validate({{"type", "citations"}, {"require", true}},
                                      "The tower is 330 metres tall [1]. Gustave designed many bridges in "
                                      "[Europe](https://example.org) too.",
                                      context);
  EXPECT_FALSE(required.passed);
  EXPECT_EQ(required.message, "1 sentences cite nothing");
  // Lower support passes a paraphrase.
  EXPECT_TRUE(Validate({{"type", "citations"}, {"min_support", 0.2}}, "The tower in Paris is very tall indeed [1].",
                       context).passed);
}

TEST(Validators, DescriptionsAreCheckedBeforeUse) {
  for (const json& bad : {json::array(), json{{"type", "regexp"}}, json{{"type", "contains"}},
                          json{{"type", "contains"}, {"value", "x"}, {"colour", 1}},
                          json{{"type", "contains"}, {"value", "x"}, {"case_sensitive", "yes"}},
                          json{{"type", "length"}}, json{{"type", "length"}, {"min", 5}, {"max", 2}},
                          json{{"type", "length"}, {"min", -1}}, json{{"type", "json_schema"}},
                          json{{"type", "json_schema"}, {"schema", {{"type", 5}}}},
                          json{{"type", "refusal"}, {"expect", "no"}}, json{{"type", "xml"}, {"root", ""}},
                          json{{"type", "xml"}, {"strict", true}}, json{{"type", "grounded"}, {"check", {"dates"}}},
                          json{{"type", "grounded"}, {"check", json::array()}},
                          json{{"type", "citations"}, {"min_support", 2}},
                          json{{"type", "citations"}, {"require", "yes"}}}) {
    Result<std::unique_ptr<Validator>> v = MakeValidator(bad);
    EXPECT_FALSE(v.ok()) << bad.dump();
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), Code::kInvalidArgument) << bad.dump();
    }
  }
}

}  // namespace
}  // namespace loupe::evals
