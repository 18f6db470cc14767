#include "tracking/validation.h"

#include <gtest/gtest.h>

namespace loupe {
namespace {

TEST(Validation, AcceptsOrdinaryKeys) {
  Limits l;
  for (const char* k : {"loss", "train/loss", "eval/top-1 acc", "system/gpu.0.util", "a_b/c-d/e.f"}) {
    EXPECT_TRUE(ValidateKey(k, l).ok()) << k;
  }
}

TEST(Validation, RejectsBadKeysWithReason) {
  Limits l;
  EXPECT_NE(ValidateKey("", l).message().find("empty"), std::string::npos);
  EXPECT_NE(ValidateKey("a//b", l).message().find("empty segment"), std::string::npos);
  EXPECT_NE(ValidateKey("/a", l).message().find("empty segment"), std::string::npos);
  EXPECT_NE(ValidateKey("a/../b", l).message().find("'..'"), std::string::npos);
  EXPECT_NE(ValidateKey("a\"b", l).message().find("only letters"), std::string::npos);
  EXPECT_NE(ValidateKey(" a", l).message().find("space"), std::string::npos);
  EXPECT_NE(ValidateKey(std::string(256, 'a'), l).message().find("255"), std::string::npos);
  EXPECT_TRUE(ValidateKey(std::string(255, 'a'), l).ok());
}

TEST(Validation, RunIdsAndNames) {
  Limits l;
  EXPECT_TRUE(ValidateRunId("run-20250321_125806-a3b1799d").ok());
  EXPECT_FALSE(ValidateRunId("a/b").ok());
  EXPECT_FALSE(ValidateRunId("").ok());
  EXPECT_TRUE(ValidateName("project", "Qwen2.5-7B/实验 1", l).ok());
  EXPECT_FALSE(ValidateName("project", "bad\nname", l).ok());
}

}  // namespace
}  // namespace loupe
