#include "common/time_util.h"

#include <gtest/gtest.h>

#include <ctime>

namespace loupe {
namespace {

TEST(TimeUtil, FormatsSwanlabStyleIsoTimes) {
  EXPECT_EQ(FormatIsoMicros(1742533086387383), "2025-03-21T04:58:06.387383+00:00");
  EXPECT_EQ(FormatIsoMicros(0), "1970-01-01T00:00:00.000000+00:00");
  EXPECT_EQ(FormatIsoMicros(951782400000001), "2000-02-29T00:00:00.000001+00:00");
}

TEST(TimeUtil, AgreesWithGmtimeAcrossCenturies) {
  for (int64_t secs = 0; secs < 4102444800; secs += 86399 * 37 + 13) {
    time_t t = static_cast<time_t>(secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    char want[40];
    strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
    EXPECT_EQ(FormatIsoMicros(secs * 1000000 + 5).substr(0, 19), want);
  }
}

}  // namespace
}  // namespace loupe
