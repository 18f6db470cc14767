// The numbers pages print, against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "ui/page.h"

namespace loupe {
namespace {

TEST(FormatNumber, AnImperfectScoreNeverReadsAsPerfect) {
  EXPECT_EQ(FormatNumber(0.9999978, 4), "0.999998");
  EXPECT_EQ(FormatNumber(0.99995, 4), "0.99995");
  EXPECT_EQ(FormatNumber(-0.99999, 3), "-0.99999");
  EXPECT_EQ(FormatNumber(1.0000004, 4), "1.0000004");
  EXPECT_EQ(FormatNumber(1e-7, 4), "1e-07");
  EXPECT_EQ(FormatNumber(99.99996, 5), "99.99996");  // a percentage is not a perfect 100
  EXPECT_EQ(FormatNumber(-99.9996, 4), "-99.9996");
  EXPECT_EQ(FormatNumber(100.0, 5), "100");
  // Exact values and other roundings are left as they were.
  EXPECT_EQ(FormatNumber(1.0, 4), "1");
  EXPECT_EQ(FormatNumber(0.0, 4), "0");
  EXPECT_EQ(FormatNumber(0.97501, 4), "0.975");
  EXPECT_EQ(FormatNumber(123.44, 4), "123.4");
  EXPECT_EQ(FormatNumber(std::nullopt), "—");
  EXPECT_EQ(FormatNumber(std::nan("")), "NaN");
  EXPECT_EQ(FormatNumber(-INFINITY), "-Inf");
}

TEST(FormatDuration, TruncatesSoAMinuteIsNeverShownEarly) {
  EXPECT_EQ(FormatDuration(59'950'000), "59.9s");
  EXPECT_EQ(FormatDuration(59'999'999), "59.9s");
  EXPECT_EQ(FormatDuration(60'000'000), "1m 00s");
  EXPECT_EQ(FormatDuration(42'500'000), "42.5s");
  EXPECT_EQ(FormatDuration(0), "0.0s");
  EXPECT_EQ(FormatDuration(99'999), "0.0s");
  EXPECT_EQ(FormatDuration(119'900'000), "1m 59s");
  EXPECT_EQ(FormatDuration(3'600'000'000 + 2 * 60'000'000), "1h 02m");
  EXPECT_EQ(FormatDuration(-1), "—");
}

}  // namespace
}  // namespace loupe
