#include "llm/http_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "llm/provider_protocol.h"
#include "standin.h"

namespace loupe::llm {
namespace {

using nlohmann::json;

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { standin_ = new Standin(); }
  static void TearDownTestSuite() { delete standin_; }

  OutboundRequest Chat(const std::string& prompt, bool stream = true, ApiKind kind = ApiKind::kOpenAi,
                       const std::string& key = "sk-test") {
    ChatRequest r;
    r.model = kind == ApiKind::kOpenAi ? "gpt-standin" : "claude-standin";
    r.messages = {{"user", prompt}};
    r.stream = stream;
    HttpCall c = BuildChatCall(kind, standin_->url(kind == ApiKind::kOpenAi ? "/v1" : ""), key, r);
    OutboundRequest o;
    o.url = c.url;
    o.headers = c.headers;
    o.body = c.body;
    return o;
  }

  // Streams a call to the end: the text decoded, the pieces received, and the outcome.
  struct Streamed {
    Status status = Status::Ok();
    long http = 0;
    std::string text;
    int pieces = 0;
    bool done = false;
  };
  Streamed Stream(OutboundRequest o, ApiKind kind = ApiKind::kOpenAi) {
    auto out = std::make_shared<Streamed>();
    auto parser = std::make_shared<SseParser>();
    auto decoder = std::make_shared<StreamDecoder>(kind);
    std::promise<void> finished;
    OutboundCallbacks cb;
    cb.on_body = [=](std::string_view piece) {
      ++out->pieces;
      Status s = parser->Feed(piece, [&](SseEvent& e) {
        std::string delta;
        return decoder->OnEvent(e, delta);
      });
      if (!s.ok()) out->status = s;
      return s.ok();
    };
    cb.on_done = [&, out](const Status& s, long http) {
      if (out->status.ok()) out->status = s;
      out->http = http;
      out->text = decoder->result().text;
      out->done = decoder->done();
      finished.set_value();
    };
    client_.Submit(std::move(o), std::move(cb));
    finished.get_future().wait();
    return *out;
  }

  static Standin* standin_;
  HttpClient client_;
};
Standin* HttpClientTest::standin_ = nullptr;

TEST_F(HttpClientTest, StreamsAnOpenAiAnswer) {
  ASSERT_GT(standin_->port(), 0);
  Streamed s = Stream(Chat("hello stream"));
  EXPECT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.http, 200);
  EXPECT_EQ(s.text, "gpt-standin heard: hello stream");
  EXPECT_TRUE(s.done);
}

TEST_F(HttpClientTest, StreamsAnAnthropicAnswer) {
  Streamed s = Stream(Chat("hello claude", true, ApiKind::kAnthropic), ApiKind::kAnthropic);
  EXPECT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.text, "claude-standin heard: hello claude");
  EXPECT_TRUE(s.done);
}

TEST_F(HttpClientTest, FetchReturnsAnHttpErrorAsAResult) {
  Result<FetchResult> r = client_.Fetch(Chat("hi", false, ApiKind::kOpenAi, "sk-wrong"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->head.status, 401);
  EXPECT_EQ(r->head.headers["content-type"], "application/json");
  EXPECT_NE(ProviderErrorText(r->body).find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(r->body.find("sk-wrong"), std::string::npos);  // the stand-in masks it, as OpenAI does
}

TEST_F(HttpClientTest, RateLimitsCarryRetryAfter) {
  Result<FetchResult> r = client_.Fetch(Chat("limited #fail:429x1", false));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->head.status, 429);
  EXPECT_EQ(r->head.headers["retry-after"], "1");
}

TEST_F(HttpClientTest, AConnectionDroppedMidStreamIsAnErrorNamingTheHost) {
  Streamed s = Stream(Chat("one two three four five #drop"));
  EXPECT_EQ(s.status.code(), Code::kUnavailable) << s.status.message();
  EXPECT_FALSE(s.done);
  EXPECT_EQ(s.text, "gpt-standin heard: ");  // what arrived before the drop
}

TEST_F(HttpClientTest, AMalformedChunkStopsTheCall) {
  Streamed s = Stream(Chat("one two three #malformed"));
  EXPECT_EQ(s.status.code(), Code::kCorrupt) << s.status.message();
}

TEST_F(HttpClientTest, NobodyListeningIsCannotConnect) {
  OutboundRequest o = Chat("hi");
  o.url = "http://127.0.0.1:1/v1/chat/completions";
  Result<FetchResult> r = client_.Fetch(o);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot connect to 127.0.0.1:1"), std::string::npos) << r.status().message();
  o.url = "http://no-such-host.invalid/v1";
  r = client_.Fetch(o);
  EXPECT_NE(r.status().message().find("cannot resolve the host no-such-host.invalid"), std::string::npos)
      << r.status().message();
  o.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(client_.Fetch(o).status().code(), Code::kInvalidArgument);
}

TEST_F(HttpClientTest, ANeverEndingAnswerTimesOut) {
  OutboundRequest o = Chat("a b c #hang");
  o.timeout_ms = 1500;
  auto start = std::chrono::steady_clock::now();
  Streamed s = Stream(o);
  EXPECT_EQ(s.status.code(), Code::kUnavailable);
  EXPECT_NE(s.status.message().find("timed out"), std::string::npos) << s.status.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpClientTest, AnIdleConnectionTimesOutWithAPlainMessage) {
  OutboundRequest o = Chat("a b c #hang");
  o.idle_timeout_s = 1;
  Streamed s = Stream(o);
  EXPECT_EQ(s.status.code(), Code::kUnavailable);
  // Not libcurl's "Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds".
  EXPECT_NE(s.status.message().find("timed out: nothing arrived for 1 s"), std::string::npos) << s.status.message();
}

TEST_F(HttpClientTest, CancelStopsACallInFlight) {
  std::promise<Status> done;
  OutboundCallbacks cb;
  std::atomic<int> pieces{0};
  cb.on_body = [&](std::string_view) {
    ++pieces;
    return true;
  };
  cb.on_done = [&](const Status& s, long) { done.set_value(s); };
  auto call = client_.Submit(Chat("a b c d e f g h #slow:200"), std::move(cb));
  while (pieces.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  call->Cancel();
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kCancelled);
}

TEST_F(HttpClientTest, SixtyFourStreamsAtOnceOnOneThread) {
  std::vector<std::future<Streamed>> all;
  for (int i = 0; i < 64; ++i) {
    all.push_back(std::async(std::launch::async, [this, i] { return Stream(Chat("call " + std::to_string(i) + " #slow:20")); }));
  }
  for (int i = 0; i < 64; ++i) {
    Streamed s = all[i].get();
    EXPECT_TRUE(s.status.ok()) << s.status.message();
    EXPECT_EQ(s.text, "gpt-standin heard: call " + std::to_string(i));
  }
  EXPECT_EQ(client_.in_flight(), 0u);
}

TEST_F(HttpClientTest, ADelayedCallStartsNoSooner) {
  OutboundRequest o = Chat("later", false);
  o.delay_ms = 300;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client_.Fetch(o).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(HttpClientTest, ABodyOverTheLimitIsRefused) {
  Result<FetchResult> r = client_.Fetch(Chat("hello", false), 10);
  EXPECT_EQ(r.status().code(), Code::kTooLarge);
}

}  // namespace
}  // namespace loupe::llm
