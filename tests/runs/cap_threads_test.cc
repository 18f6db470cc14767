#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runs/run_service.h"

namespace loupe::runs {
namespace {

using nlohmann::json;

TEST(CapThreads, EveryCoreAndTooManyBecomeTheJobsShare) {
  EXPECT_EQ(CapThreads({{"nthread", 0}}, 2)["nthread"], 2);
  EXPECT_EQ(CapThreads({{"nthread", 16}}, 2)["nthread"], 2);
  EXPECT_EQ(CapThreads({{"threads", 0}, {"dim", 100}}, 3), (json{{"threads", 3}, {"dim", 100}}));
}

TEST(CapThreads, KeepsSmallerCountsAndOtherParameters) {
  EXPECT_EQ(CapThreads({{"nthread", 1}}, 4)["nthread"], 1);
  EXPECT_EQ(CapThreads({{"max_depth", 6}}, 4), (json{{"max_depth", 6}}));
}

}  // namespace
}  // namespace loupe::runs
