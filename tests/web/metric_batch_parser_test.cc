#include "web/metric_batch_parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loupe {
namespace {

Status Parse(const std::string& body, MetricBatch& b) { return ParseMetricBatch(body, Limits{}, b); }

TEST(MetricBatchParser, ParsesStepsValuesSeqAndTime) {
  MetricBatch b;
  ASSERT_TRUE(Parse(R"({"seq":3,"steps":[{"step":1,"ts":1700000000.5,"values":{"a":1,"b":-2.5e3}},
                                         {"step":2,"values":{"a":"NaN","b":"-Infinity","c":"inf"}}]})", b).ok());
  EXPECT_EQ(b.from.seq, 3);
  ASSERT_EQ(b.points.size(), 5u);
  EXPECT_EQ(b.points[0].ts, 1700000000500000);
  EXPECT_EQ(b.points[1].value, -2500);
  EXPECT_TRUE(std::isnan(b.points[2].value));
  EXPECT_EQ(b.points[3].value, -INFINITY);
  EXPECT_EQ(b.points[4].value, INFINITY);
}

// JSON.stringify(1e20) is "100000000000000000000": a valid number beyond 64 bits that
// simdjson refuses on its own; it is the double 1e20. Digits in strings stay as written.
TEST(MetricBatchParser, IntegersBeyond64BitsAreNumbers) {
  MetricBatch b;
  ASSERT_TRUE(Parse(R"({"steps":[{"step":1,"values":{"big":100000000000000000000,"neg":-123456789012345678901234,)"
                    R"("k_12345678901234567890":2.5e3}}]})", b).ok());
  ASSERT_EQ(b.points.size(), 3u);
  EXPECT_EQ(b.points[0].value, 1e20);
  EXPECT_EQ(b.points[1].value, -123456789012345678901234.0);
  EXPECT_EQ(b.points[2].key, "k_12345678901234567890");
  EXPECT_EQ(b.points[2].value, 2500);
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"step":100000000000000000000,"values":{"a":1}}]})", b).message(),
            "steps[0].step: step must be an integer");
  b = {};
  EXPECT_NE(Parse(R"({"steps":[{"step":1,"values":{"a":01}}]})", b).message().find("not valid JSON"), std::string::npos);
}

TEST(MetricBatchParser, ErrorsNameTheExactPlace) {
  MetricBatch b;
  EXPECT_EQ(Parse(R"({"steps":[{"step":1,"values":{"a":1}},{"step":2,"values":{"x":"high"}}]})", b).message(),
            R"(steps[1].values["x"]: value must be a number or "NaN", "Infinity", "-Infinity")");
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"step":1.5,"values":{}}]})", b).message(), "steps[0].step: step must be an integer");
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"step":-1,"values":{}}]})", b).message(),
            "steps[0].step: step must be a non-negative integer");
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"values":{}}]})", b).message(), "steps[0].step is required");
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"step":0,"values":{"a":true}}]})", b).code(), Code::kInvalidArgument);
  b = {};
  EXPECT_EQ(Parse(R"({"steps":[{"step":0,"values":{"a":null}}]})", b).code(), Code::kInvalidArgument);
  b = {};
  EXPECT_EQ(Parse(R"({"steps": 5})", b).message(), "steps is required and must be an array");
  b = {};
  EXPECT_EQ(Parse(R"({"seq":-1,"steps":[]})", b).message(), "seq must be a non-negative integer");
}

TEST(MetricBatchParser, RejectsMalformedJsonAndOversizedBodies) {
  MetricBatch b;
  EXPECT_EQ(Parse("{\"steps\":[", b).code(), Code::kBadRequest);
  EXPECT_EQ(Parse("[1,2]", b).code(), Code::kBadRequest);
  Limits small;
  small.max_body_bytes = 10;
  EXPECT_EQ(ParseMetricBatch(R"({"steps":[{"step":0,"values":{}}]})", small, b).code(), Code::kTooLarge);
}

TEST(MetricBatchParser, StopsAtThePointLimit) {
  Limits l;
  l.max_points_per_request = 2;
  MetricBatch b;
  Status st = ParseMetricBatch(R"({"steps":[{"step":0,"values":{"a":1,"b":2,"c":3}}]})", l, b);
  EXPECT_EQ(st.code(), Code::kTooLarge);
}

}  // namespace
}  // namespace loupe
