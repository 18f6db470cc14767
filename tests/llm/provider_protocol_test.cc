#include "llm/provider_protocol.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "llm/cost.h"
#include "llm/model_registry.h"
#include "llm/retry_policy.h"

namespace loupe::llm {
namespace {

using nlohmann::json;

std::string HeaderOf(const HttpCall& c, const std::string& name) {
  for (const auto& [k, v] : c.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

ChatRequest Sample() {
  ChatRequest r;
  r.model = "m";
  r.system = "be brief";
  r.messages = {{"user", "hi"}, {"assistant", "hello"}, {"user", "again"}};
  r.params.temperature = 0.2;
  r.params.max_tokens = 50;
  r.params.seed = 7;
  r.params.stop = {"\n\n"};
  return r;
}

TEST(BuildChatCall, OpenAiPutsTheSystemPromptFirstAndAsksForUsageInTheStream) {
  HttpCall c = BuildChatCall(ApiKind::kOpenAi, "http://h:8000/v1/", "sk-1", Sample());
  EXPECT_EQ(c.url, "http://h:8000/v1/chat/completions");
  EXPECT_EQ(HeaderOf(c, "Authorization"), "Bearer sk-1");
  json b = json::parse(c.body);
  EXPECT_EQ(b["messages"][0], (json{{"role", "system"}, {"content", "be brief"}}));
  EXPECT_EQ(b["messages"].size(), 4u);
  EXPECT_EQ(b["temperature"], 0.2);
  EXPECT_EQ(b["max_tokens"], 50);
  EXPECT_EQ(b["seed"], 7);
  EXPECT_EQ(b["stop"], json::array({"\n\n"}));
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"], (json{{"include_usage", true}}));
  EXPECT_FALSE(b.contains("top_p"));  // unset: the provider's default
}

TEST(BuildChatCall, AnthropicHasATopLevelSystemARequiredMaxTokensAndNoSeed) {
  ChatRequest r = Sample();
  r.params.max_tokens.reset();
  HttpCall c = BuildChatCall(ApiKind::kAnthropic, "https://api.anthropic.com", "k", r);
  EXPECT_EQ(c.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(BuildChatCall(ApiKind::kAnthropic, "http://x/v1", "k", r).url, "http://x/v1/messages");
  EXPECT_EQ(HeaderOf(c, "x-api-key"), "k");
  EXPECT_EQ(HeaderOf(c, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(HeaderOf(c, "Authorization"), "<absent>");
  json b = json::parse(c.body);
  EXPECT_EQ(b["system"], "be brief");
  EXPECT_EQ(b["messages"].size(), 3u);
  EXPECT_EQ(b["max_tokens"], 1024);
  EXPECT_FALSE(b.contains("seed"));
  EXPECT_EQ(b["stop_sequences"], json::array({"\n\n"}));
  EXPECT_FALSE(b.contains("stream_options"));
}

TEST(ParseChatResponse, ReadsTextFinishReasonAndUsage) {
  auto o = ParseChatResponse(ApiKind::kOpenAi,
                             R"({"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},)"
                             R"("finish_reason":"length"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->text, "Hi!");
  EXPECT_EQ(o->finish_reason, "length");
  EXPECT_EQ(o->usage.prompt_tokens, 9);
  EXPECT_EQ(o->usage.completion_tokens, 3);
  auto a = ParseChatResponse(ApiKind::kAnthropic,
                             R"({"id":"msg","content":[{"type":"text","text":"A"},{"type":"tool_use"},{"type":"text","text":"B"}],)"
                             R"("stop_reason":"end_turn","usage":{"input_tokens":5,"cache_read_input_tokens":2,"output_tokens":4}})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, "AB");
  EXPECT_EQ(a->usage.prompt_tokens, 7);  // cache reads are billed as input
  EXPECT_EQ(a->usage.completion_tokens, 4);
  // No usage: unknown, not zero.
  auto none = ParseChatResponse(ApiKind::kOpenAi, R"({"choices":[{"message":{"content":"x"}}]})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->usage.prompt_tokens.has_value());
}

TEST(ParseChatResponse, TokenCountsThatCannotBeTrueAreUnknown) {
  // Negative counts, counts past int64 (2^64-1 once wrapped to -1) and absurd ones would
  // make negative totals and costs, or overflow when added: unknown instead.
  for (const char* usage : {R"({"prompt_tokens":-100,"completion_tokens":-5})",
                            R"({"prompt_tokens":18446744073709551615,"completion_tokens":9223372036854775808})",
                            R"({"prompt_tokens":9223372036854775807,"completion_tokens":1000000000000})",
                            R"({"prompt_tokens":1.5,"completion_tokens":"7"})"}) {
    auto o = ParseChatResponse(ApiKind::kOpenAi,
                               std::string(R"({"choices":[{"message":{"content":"x"}}],"usage":)") + usage + "}");
    ASSERT_TRUE(o.ok()) << usage;
    EXPECT_FALSE(o->usage.prompt_tokens.has_value()) << usage;
    EXPECT_FALSE(o->usage.completion_tokens.has_value()) << usage;
  }
  auto big = ParseChatResponse(ApiKind::kOpenAi, R"({"choices":[{"message":{"content":"x"}}],)"
                                                 R"("usage":{"prompt_tokens":999999999999,"completion_tokens":0}})");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->usage.prompt_tokens, 999999999999);
  EXPECT_EQ(big->usage.completion_tokens, 0);
  auto a = ParseChatResponse(ApiKind::kAnthropic, R"({"content":[{"type":"text","text":"A"}],)"
                                                  R"("usage":{"input_tokens":-1,"output_tokens":4}})");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->usage.prompt_tokens.has_value());
  EXPECT_EQ(a->usage.completion_tokens, 4);
}

TEST(ParseChatResponse, RefusesWhatIsNotTheProtocolsShape) {
  EXPECT_EQ(ParseChatResponse(ApiKind::kOpenAi, R"({"choices":[{"message":)").status().code(), Code::kCorrupt);
  EXPECT_EQ(ParseChatResponse(ApiKind::kOpenAi, R"({"choices":[]})").status().code(), Code::kCorrupt);
  EXPECT_EQ(ParseChatResponse(ApiKind::kAnthropic, R"([1,2])").status().code(), Code::kCorrupt);
  std::string long_body(5000, 'x');
  Status s = ParseChatResponse(ApiKind::kOpenAi, long_body).status();
  EXPECT_LT(s.message().size(), 400u);  // an excerpt, not the whole body
}

TEST(StreamDecoder, OpenAiChunksThenUsageThenDone) {
  StreamDecoder d(ApiKind::kOpenAi);
  std::string delta;
  for (const char* data :
       {R"({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})",
        R"({"id":"c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null})",
        R"({"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null})",
        R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})",
        R"({"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})"}) {
    ASSERT_TRUE(d.OnEvent({"", data, ""}, delta).ok()) << data;
  }
  EXPECT_FALSE(d.done());
  ASSERT_TRUE(d.OnEvent({"", "[DONE]", ""}, delta).ok());
  EXPECT_TRUE(d.done());
  EXPECT_EQ(delta, "Hello");
  EXPECT_EQ(d.result().text, "Hello");
  EXPECT_EQ(d.result().finish_reason, "stop");
  EXPECT_EQ(d.result().usage.completion_tokens, 2);
  EXPECT_EQ(d.result().response_id, "c");
}

TEST(StreamDecoder, AnthropicEventsAccumulateTextAndUsage) {
  StreamDecoder d(ApiKind::kAnthropic);
  std::string delta;
  const std::vector<std::pair<std::string, std::string>> events = {
      {"message_start", R"({"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":12,"output_tokens":1}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type":"ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":2}})"},
      {"message_stop", R"({"type":"message_stop"})"}};
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(d.OnEvent({events[i].first, events[i].second, ""}, delta).ok()) << events[i].first;
    // message_start's output_tokens is a placeholder: a stream cut before message_delta
    // has no output count, not 1.
    if (i == 0) {
      EXPECT_FALSE(d.result().usage.completion_tokens.has_value());
    }
  }
  EXPECT_TRUE(d.done());
  EXPECT_EQ(delta, "Hi there");
  EXPECT_EQ(d.result().finish_reason, "max_tokens");
  EXPECT_EQ(d.result().usage.prompt_tokens, 12);
  EXPECT_EQ(d.result().usage.completion_tokens, 2);
  EXPECT_EQ(d.result().response_id, "msg_1");
}

TEST(StreamDecoder, AnOpenAiRefusalIsTheTextAndMarksTheAnswerRefused) {
  StreamDecoder d(ApiKind::kOpenAi);
  std::string delta;
  ASSERT_TRUE(d.OnEvent({"", R"({"choices":[{"delta":{"refusal":"I can't help"},"finish_reason":null}]})", ""}, delta).ok());
  ASSERT_TRUE(d.OnEvent({"", R"({"choices":[{"delta":{},"finish_reason":"stop"}]})", ""}, delta).ok());
  EXPECT_EQ(delta, "I can't help");
  EXPECT_TRUE(d.result().refused);
  auto whole = ParseChatResponse(ApiKind::kOpenAi, R"({"choices":[{"message":{"content":null,"refusal":"No."},"finish_reason":"stop"}]})");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->text, "No.");
  EXPECT_TRUE(whole->refused);
}

TEST(StreamDecoder, ProviderErrorsAndMalformedChunksAreErrors) {
  std::string delta;
  StreamDecoder a(ApiKind::kAnthropic);
  Status s = a.OnEvent({"error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", ""}, delta);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("overloaded_error: Overloaded"), std::string::npos) << s.message();
  StreamDecoder o(ApiKind::kOpenAi);
  EXPECT_EQ(o.OnEvent({"", R"({"id": "c", "choices": [)", ""}, delta).code(), Code::kCorrupt);
  EXPECT_EQ(o.OnEvent({"", R"({"error":{"message":"boom"}})", ""}, delta).code(), Code::kUnavailable);
  EXPECT_EQ(o.OnEvent({"", R"({"id":"c"})", ""}, delta).code(), Code::kCorrupt);  // no choices
}

TEST(ProviderErrorText, ReadsEachProvidersErrorShape) {
  EXPECT_EQ(ProviderErrorText(R"({"error":{"message":"Incorrect API key","type":"invalid_request_error"}})"),
            "invalid_request_error: Incorrect API key");
  EXPECT_EQ(ProviderErrorText(R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})"),
            "authentication_error: invalid x-api-key");
  EXPECT_EQ(ProviderErrorText(R"({"error":"model 'x' not found"})"), "model 'x' not found");
  EXPECT_EQ(ProviderErrorText(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(ProviderErrorText("Bad Gateway"), "Bad Gateway");
}

TEST(RetryPolicy, RetriesRateLimitsAndServerErrorsWithBackoff) {
  RetryPolicy p;  // 3 attempts, 500 ms doubling, 20 s cap
  EXPECT_EQ(RetryDelayMs(p, 2, 500, "", 0), 500);
  EXPECT_EQ(RetryDelayMs(p, 3, 503, "", 0), 1000);
  EXPECT_FALSE(RetryDelayMs(p, 4, 503, "", 0));  // attempts used up
  EXPECT_FALSE(RetryDelayMs(p, 2, 400, "", 0));
  EXPECT_FALSE(RetryDelayMs(p, 2, 401, "", 0));
  EXPECT_EQ(RetryDelayMs(p, 2, 529, "", 0), 500);
  EXPECT_EQ(RetryDelayMs(p, 2, 429, "3", 0), 3000);        // Retry-After in seconds
  EXPECT_EQ(RetryDelayMs(p, 2, 429, "3600", 0), 20000);    // capped
  EXPECT_EQ(RetryDelayMs(p, 2, 429, "soon", 0), 500);      // unreadable: backoff
  // An HTTP date 7 s after "now" (Sun, 06 Nov 1994 08:49:37 GMT is 784111777).
  EXPECT_EQ(RetryDelayMs(p, 2, 503, "Sun, 06 Nov 1994 08:49:44 GMT", 784111777), 7000);
  EXPECT_EQ(ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:30 GMT", 784111777), 0);  // in the past
  EXPECT_FALSE(ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:44 PST", 0));
}

TEST(Cost, EstimatesFromPricesPerMillionAndNeverFromMissingCounts) {
  Prices p{2.5, 10.0};
  EXPECT_DOUBLE_EQ(*EstimateCostUsd(p, {1000, 500}), 1000 * 2.5 / 1e6 + 500 * 10.0 / 1e6);  // 0.0075
  EXPECT_DOUBLE_EQ(*EstimateCostUsd(p, {1000, 500}), 0.0075);
  EXPECT_FALSE(EstimateCostUsd(p, {1000, std::nullopt}));
  EXPECT_FALSE(EstimateCostUsd({}, {1000, 500}));
  EXPECT_DOUBLE_EQ(*EstimateCostUsd({std::nullopt, 4.0}, {std::nullopt, 250000}), 1.0);  // input free
}

}  // namespace
}  // namespace loupe::llm

namespace loupe::llm {
namespace {

TEST(RedactKey, HidesTheKeyAndAnyCutPieceOfItsStart) {
  const std::string key = "sk-EVILKEY-0123456789abcdefXYZ";
  EXPECT_EQ(RedactKey("bad key " + key + ", again " + key, key), "bad key [the API key], again [the API key]");
  // An excerpt cut inside an echoed key: its first 19 characters, then the cut mark.
  const std::string cut = ProviderErrorText(R"({"error":{"message":")" + std::string(280, 'x') + key + R"("}})");
  ASSERT_NE(cut.find("sk-EVILKEY-0"), std::string::npos);
  const std::string redacted = RedactKey(cut, key);
  EXPECT_EQ(redacted.find("sk-EVILKEY-0"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("[the API key]"), std::string::npos);
  // Short pieces (a public prefix such as "sk-EVILKEY-") are kept; a key that looks like
  // the replacement does not loop.
  EXPECT_EQ(RedactKey("use sk-EVILKEY- keys", key), "use sk-EVILKEY- keys");
  EXPECT_EQ(RedactKey("[the API key] [the API key]", "[the API key]"), "[the API key] [the API key]");
  // A short key cut at an excerpt's end: 4 characters or more of its start before the mark.
  EXPECT_EQ(RedactKey("failed: xxxsk-tes…", "sk-test"), "failed: xxx[the API key]…");
  EXPECT_EQ(RedactKey("failed: xxxsk…", "sk-test"), "failed: xxxsk…");
  EXPECT_EQ(RedactKey("…sk-t…", "sk-test"), "…[the API key]…");
}

}  // namespace
}  // namespace loupe::llm
