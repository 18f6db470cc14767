#include "web/json_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace loupe {
namespace {

TEST(JsonUtil, EnvelopeCodesFollowSwanlab) {
  EXPECT_EQ(nlohmann::json::parse(JsonError(Status::NotFound("x")).body)["code"], 3404);
  EXPECT_EQ(nlohmann::json::parse(JsonError(Status::InvalidArgument("x")).body)["code"], 3422);
  EXPECT_EQ(nlohmann::json::parse(JsonError(Status::Conflict("x")).body)["code"], 3409);
  EXPECT_EQ(nlohmann::json::parse(JsonError(Status::Corrupt("x")).body)["code"], 3500);
  EXPECT_EQ(nlohmann::json::parse(JsonError(Status::Internal("x")).body)["code"], 3555);
  EXPECT_EQ(JsonError(Status::NotFound("x")).status, 404);
  auto ok = nlohmann::json::parse(JsonOk(nullptr).body);
  EXPECT_EQ(ok["message"], "success");
  EXPECT_FALSE(ok.contains("data"));
}

TEST(JsonUtil, NonFiniteNumbersBecomeStrings) {
  std::string s;
  AppendJsonNumber(s, NAN);
  s += ',';
  AppendJsonNumber(s, -INFINITY);
  s += ',';
  AppendJsonNumber(s, 0.1);
  EXPECT_EQ(s, "\"NaN\",\"-Infinity\",0.1");
}

TEST(JsonUtil, ParseIdRejectsJunk) {
  std::string good = "42", bad = "4x", neg = "-1";
  EXPECT_EQ(*ParseId(&good, "id"), 42);
  EXPECT_FALSE(ParseId(&bad, "id").ok());
  EXPECT_FALSE(ParseId(&neg, "id").ok());
  EXPECT_FALSE(ParseId(nullptr, "id").ok());
}

}  // namespace
}  // namespace loupe
