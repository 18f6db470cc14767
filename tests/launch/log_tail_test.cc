// Log tailing: lines once each, across reads that end mid-line, with offsets that are
// where the next read starts; carriage returns, long lines, and the last line at exit.
#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.h"
#include "launch/log_tail.h"

namespace loupe::launch {
namespace {

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

std::vector<std::string> Texts(const std::vector<LogBatch>& batches) {
  std::vector<std::string> out;
  for (const LogBatch& b : batches) {
    for (const ConsoleLine& l : b.lines) out.push_back(l.text);
  }
  return out;
}

TEST(LogTailTest, LinesOnceAcrossPartialWrites) {
  TempDir dir;
  const std::string path = dir.path() + "/out";
  LogTail tail(path, 0, 0);
  EXPECT_TRUE(tail.Read(1, false).empty());  // no file yet
  Append(path, "one\ntw");
  std::vector<LogBatch> b = tail.Read(2, false);
  EXPECT_EQ(Texts(b), std::vector<std::string>{"one"});
  EXPECT_EQ(b.back().end_offset, 4);
  EXPECT_EQ(b.back().lines[0].ts, 2);
  Append(path, "o\r\nthree\n");
  b = tail.Read(3, false);
  EXPECT_EQ(Texts(b), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(b.back().end_offset, 15);
  Append(path, "last, no newline");
  EXPECT_TRUE(tail.Read(4, false).empty());
  b = tail.Read(5, true);
  EXPECT_EQ(Texts(b), std::vector<std::string>{"last, no newline"});
  EXPECT_EQ(tail.offset(), 31);
  EXPECT_TRUE(tail.Read(6, true).empty());
  // A tail started at a stored offset reads on from there.
  LogTail again(path, 0, 4);
  EXPECT_EQ(Texts(again.Read(7, true)), (std::vector<std::string>{"two", "three", "last, no newline"}));
}

TEST(LogTailTest, ProgressBarsAndLongLines) {
  TempDir dir;
  const std::string path = dir.path() + "/err";
  LogTail tail(path, 1, 0);
  Append(path, " 10%|#   \r 50%|#####  \r100%|##########\n");
  std::vector<LogBatch> b = tail.Read(1, false);
  EXPECT_EQ(Texts(b), std::vector<std::string>{"100%|##########"});
  EXPECT_EQ(b[0].lines[0].stream, 1);
  // 70,000 bytes of 'é' (2 bytes each) on one line: cut below 64 KiB without splitting a character.
  std::string long_line;
  for (int i = 0; i < 35000; ++i) long_line += "\xC3\xA9";
  Append(path, long_line + "\n");
  std::vector<std::string> parts = Texts(tail.Read(2, false));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].size(), LogTail::kMaxLineBytes);  // 65,536 is even: a whole character
  EXPECT_EQ(parts[0] + parts[1], long_line);
  // A bar that never ends its line is cut once it passes four console lines' worth.
  Append(path, std::string(300000, 'x'));
  std::vector<std::string> bar = Texts(tail.Read(3, false));
  EXPECT_EQ(bar.size(), 5u);  // 4 x 65,536 + 37,856
}

TEST(LogTailTest, BatchesHoldAtMostMaxLines) {
  TempDir dir;
  const std::string path = dir.path() + "/out";
  std::string text;
  for (int i = 0; i < 25; ++i) text += "line " + std::to_string(i) + "\n";
  Append(path, text);
  LogTail tail(path, 0, 0);
  std::vector<LogBatch> b = tail.Read(1, false, 10);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].lines.size(), 10u);
  EXPECT_EQ(b[2].lines.size(), 5u);
  EXPECT_EQ(b[0].end_offset, 70);  // "line 0\n".."line 9\n": 10 x 7 bytes
  EXPECT_EQ(b[2].end_offset, static_cast<int64_t>(text.size()));
}

TEST(LogTailTest, AFailedWriteIsReadAgainFromItsBatch) {
  TempDir dir;
  const std::string path = dir.path() + "/out";
  Append(path, "a\nb\nc\n");
  LogTail tail(path, 0, 0);
  std::vector<LogBatch> b = tail.Read(1, false, 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].start_offset, 4);
  EXPECT_EQ(b[1].end_offset, 6);
  tail.Rewind(b[1].start_offset);  // "c" was not stored
  Append(path, "d\n");
  std::vector<LogBatch> again = tail.Read(2, false, 2);
  EXPECT_EQ(Texts(again), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(again[0].start_offset, 4);
}

TEST(LogTailTest, ALongLinesPiecesStayInOneBatchUnderTheLimit) {
  TempDir dir;
  const std::string path = dir.path() + "/out";
  Append(path, "x\ny\n" + std::string(3 * LogTail::kMaxLineBytes, 'z') + "\n");
  LogTail tail(path, 0, 0);
  std::vector<LogBatch> b = tail.Read(1, false, 4);
  ASSERT_EQ(b.size(), 2u);  // x, y | z z z: three pieces would not fit beside x and y
  EXPECT_EQ(b[0].lines.size(), 2u);
  EXPECT_EQ(b[1].lines.size(), 3u);
  EXPECT_EQ(b[1].start_offset, 4);
}

}  // namespace
}  // namespace loupe::launch
