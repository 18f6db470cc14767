// Dollars as the job pages, the CLI and the budget alerts write them; words the shell reads back.
#include <gtest/gtest.h>

#include <limits>

#include "common/display_text.h"

namespace loupe {
namespace {

TEST(DisplayTextTest, DollarsKeepCentsVisibleUnderADollar) {
  EXPECT_EQ(FormatDollars(0.00104), "$0.0010");
  EXPECT_EQ(FormatDollars(0.99995), "$1.0000");  // rounds at 4 places, as printf does
  EXPECT_EQ(FormatDollars(1), "$1.00");
  EXPECT_EQ(FormatDollars(3600), "$3600.00");
  EXPECT_EQ(FormatDollars(std::numeric_limits<double>::quiet_NaN()), "—");
}

TEST(DisplayTextTest, ShellQuoteSurvivesQuotes) {
  EXPECT_EQ(ShellQuote("it's here"), "'it'\\''s here'");
  EXPECT_EQ(ShellQuote(""), "''");
}

}  // namespace
}  // namespace loupe
