#include "common/bounded_json.h"

#include <gtest/gtest.h>

#include <string>

namespace loupe {
namespace {

TEST(BoundedJson, CountsNestingOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1"), 0);
  EXPECT_EQ(JsonNestingDepth(R"({"a": [1, {"b": []}]})"), 4);
  EXPECT_EQ(JsonNestingDepth(R"({"a": "[[[[{{{{\"]]]"})"), 1);  // brackets and escaped quotes in strings
  EXPECT_EQ(JsonNestingDepth(R"(["\\", [[]]])"), 3);             // an escaped backslash ends before the quote
}

TEST(BoundedJson, StopsCountingPastTheLimitAndRefusesDeepText) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(JsonNestingDepth(deep), kMaxJsonDepth + 1);
  EXPECT_TRUE(ParseBoundedJson(deep).is_discarded());
  EXPECT_TRUE(StoredJson(deep).is_null());
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseBoundedJson(ok).is_array());
  EXPECT_EQ(ParseBoundedJson<nlohmann::ordered_json>(R"({"b": 1, "a": 2})").begin().key(), "b");
}

}  // namespace
}  // namespace loupe
