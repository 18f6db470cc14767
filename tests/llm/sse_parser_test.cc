#include "llm/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loupe::llm {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& stream, const std::vector<size_t>& cuts) {
  SseParser parser;
  std::vector<SseEvent> out;
  auto on = [&](SseEvent& e) {
    out.push_back(e);
    return Status::Ok();
  };
  size_t from = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(parser.Feed(std::string_view(stream).substr(from, cut - from), on).ok());
    from = cut;
  }
  EXPECT_TRUE(parser.Feed(std::string_view(stream).substr(from), on).ok());
  EXPECT_TRUE(parser.Finish(on).ok());
  return out;
}

// Every line ending the format allows, a comment, a multi-line data field, an event
// name, a field without a space after the colon, and an event without data (dropped).
const std::string kStream =
    "\xEF\xBB\xBF: keep-alive\r\n"
    "data: {\"a\": 1}\r\n\r\n"
    "event: message_start\n"
    "data:first\n"
    "data: second\n\n"
    "id: 7\rdata: cr only\r\r"
    "event: lonely\n\n"
    "data: [DONE]\n\n";

void ExpectAll(const std::vector<SseEvent>& events) {
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].data, "{\"a\": 1}");
  EXPECT_EQ(events[0].event, "");
  EXPECT_EQ(events[1].event, "message_start");
  EXPECT_EQ(events[1].data, "first\nsecond");
  EXPECT_EQ(events[2].id, "7");
  EXPECT_EQ(events[2].data, "cr only");
  EXPECT_EQ(events[3].data, "[DONE]");
  EXPECT_EQ(events[3].event, "");  // the lonely event name did not carry over
}

TEST(SseParser, ParsesEveryLineEndingAndField) { ExpectAll(ParseInPieces(kStream, {})); }

TEST(SseParser, GivesTheSameEventsWhereverTheStreamIsCut) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ExpectAll(ParseInPieces(kStream, {cut}));
  }
  // Two cuts: every pair (a CRLF split across three pieces, a BOM cut is data).
  for (size_t a = 3; a <= kStream.size(); ++a) {
    for (size_t b = a; b <= kStream.size(); b += 7) ExpectAll(ParseInPieces(kStream, {a, b}));
  }
}

TEST(SseParser, ByteAtATime) {
  std::vector<size_t> cuts;
  for (size_t i = 3; i < kStream.size(); ++i) cuts.push_back(i);
  ExpectAll(ParseInPieces(kStream, cuts));
}

TEST(SseParser, AStreamThatEndsWithoutABlankLineStillDispatchesItsLastEvent) {
  std::vector<SseEvent> events = ParseInPieces("data: a\n\ndata: tail", {});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "tail");
}

TEST(SseParser, AnEventOverTheBoundIsRefusedAndStaysRefused) {
  SseParser parser(16);
  auto on = [](SseEvent&) { return Status::Ok(); };
  EXPECT_TRUE(parser.Feed("data: 0123456789", on).ok());
  Status s = parser.Feed("abcdefgh", on);
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(parser.Feed("\n\n", on).code(), Code::kTooLarge);
  // Many data lines add up as one event.
  SseParser lines(16);
  EXPECT_EQ(lines.Feed("data: 12345678\ndata: 12345678\ndata: 1\n", on).code(), Code::kTooLarge);
}

TEST(SseParser, CuttingKeepsTheOversizedEventsIdAndTheEventsAfterIt) {
  SseParser parser(16, true);
  std::vector<SseEvent> out;
  auto on = [&](SseEvent& e) {
    out.push_back(e);
    return Status::Ok();
  };
  const std::string giant = "data: " + std::string(1000, 'x');
  // The giant line arrives in pieces, as the network sends it; memory stays bounded.
  EXPECT_TRUE(parser.Feed("id: 1\ndata: small\n\nid: 2\n", on).ok());
  for (size_t at = 0; at < giant.size(); at += 100) EXPECT_TRUE(parser.Feed(giant.substr(at, 100), on).ok());
  EXPECT_TRUE(parser.Feed("\n\nid: 3\ndata: after\n\n", on).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].data, "small");
  EXPECT_FALSE(out[0].cut);
  EXPECT_EQ(out[1].id, "2");
  EXPECT_TRUE(out[1].cut);
  EXPECT_EQ(out[1].data, std::string(16, 'x'));
  EXPECT_EQ(out[2].id, "3");
  EXPECT_EQ(out[2].data, "after");
  EXPECT_FALSE(out[2].cut);
  // Many data lines add up to a cut event too; a long comment cuts nothing.
  out.clear();
  EXPECT_TRUE(parser.Feed(": " + std::string(100, 'c') + "\nid: 4\ndata: 12345678\ndata: 12345678\ndata: 1\n\n", on).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].cut);
  EXPECT_EQ(out[0].data, "12345678\n1234567");
}

TEST(SseParser, AnErrorFromTheHandlerStopsTheParse) {
  SseParser parser;
  int calls = 0;
  auto on = [&](SseEvent&) {
    ++calls;
    return Status::Corrupt("bad chunk");
  };
  EXPECT_EQ(parser.Feed("data: 1\n\ndata: 2\n\n", on).code(), Code::kCorrupt);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace loupe::llm
