#include "web/console_text.h"

#include <gtest/gtest.h>

namespace loupe {
namespace {

TEST(TerminalText, DropsColoursAndCursorMovesKeepingTheText) {
  EXPECT_EQ(TerminalText("\x1b[1;31mERROR\x1b[0m disk full"), "ERROR disk full");
  EXPECT_EQ(TerminalText("\x1b[38;5;208morange\x1b[39m"), "orange");
  EXPECT_EQ(TerminalText("a\x1b[2Kb\x1b[1Ac"), "abc");
  EXPECT_EQ(TerminalText("\x1b]0;title\x07shown"), "shown");
  EXPECT_EQ(TerminalText("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
  EXPECT_EQ(TerminalText("\x1b(Bplain"), "plain");
  EXPECT_EQ(TerminalText("cut at the end \x1b["), "cut at the end ");
  EXPECT_EQ(TerminalText("lone escape \x1b"), "lone escape ");
  EXPECT_EQ(TerminalText("no escapes, ünïcode"), "no escapes, ünïcode");
}

TEST(TerminalText, AProgressBarRedrawnWithCarriageReturnsKeepsItsLastState) {
  EXPECT_EQ(TerminalText(" 10%|#     |\r 50%|#####  |\r100%|########|"), "100%|########|");
  EXPECT_EQ(TerminalText("ends with a return\r"), "ends with a return");
  EXPECT_EQ(TerminalText("\x1b[32m 50%\x1b[0m\r\x1b[32m100%\x1b[0m"), "100%");
}

}  // namespace
}  // namespace loupe
