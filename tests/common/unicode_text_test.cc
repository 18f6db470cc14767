#include "common/unicode_text.h"

#include <gtest/gtest.h>

#include <map>

namespace loupe {
namespace {

TEST(Utf8Length, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("café"), 4u);        // 5 bytes
  EXPECT_EQ(Utf8Length("日本語"), 3u);      // 9 bytes
  EXPECT_EQ(Utf8Length("🙂 ok"), 4u);       // an emoji is one character of 4 bytes
  EXPECT_EQ(Utf8Length("a\xff" "b"), 3u);  // a byte that is not UTF-8 counts once
}

TEST(ForEachCaseFoldedWord, FoldsCaseInEveryScriptAndCountsCharacters) {
  std::map<std::string, int> counts;
  std::map<std::string, size_t> lengths;
  ForEachCaseFoldedWord("Café CAFÉ café, ÉTÉ! Ωμέγα ωμέγα 🙂🙂🙂 ok x2y", [&](const std::string& w, size_t n) {
    ++counts[w];
    lengths[w] = n;
  });
  EXPECT_EQ(counts["café"], 3);
  EXPECT_EQ(lengths["café"], 4u);
  EXPECT_EQ(counts["été"], 1);
  EXPECT_EQ(counts["ωμέγα"], 2);
  EXPECT_EQ(counts["ok"], 1);
  EXPECT_EQ(counts["x"], 1);  // digits separate words
  EXPECT_EQ(counts["y"], 1);
  EXPECT_EQ(counts.count("🙂🙂🙂"), 0u);  // emoji are not letters
  EXPECT_EQ(counts.size(), 6u);
}

// Python: [w.casefold() for w in "λόγος ΛΌΓΟΣ Λόγος Straße STRASSE strasse".split()]
// gives λόγοσ three times and strasse three times.
TEST(ForEachCaseFoldedWord, FoldsAsPythonCasefoldDoes) {
  std::map<std::string, int> counts;
  std::map<std::string, size_t> lengths;
  ForEachCaseFoldedWord("λόγος ΛΌΓΟΣ Λόγος Straße STRASSE strasse", [&](const std::string& w, size_t n) {
    ++counts[w];
    lengths[w] += n;
  });
  EXPECT_EQ(counts["λόγοσ"], 3);
  EXPECT_EQ(counts["strasse"], 3);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(lengths["strasse"], 6u + 7u + 7u);  // lengths as written: Straße has 6 characters
}

}  // namespace
}  // namespace loupe
