#include "store/series_layout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace loupe {
namespace {

TEST(SeriesLayout, ChunkRoundTripsValuesIncludingNonFinite) {
  std::vector<SeriesPoint> pts = {{4096, 1.5, 10},
                                  {4097, std::numeric_limits<double>::quiet_NaN(), 11},
                                  {5000, std::numeric_limits<double>::infinity(), 12},
                                  {8191, -0.0, 13}};
  std::string blob = EncodeChunk(1, pts);
  std::vector<SeriesPoint> out;
  ASSERT_TRUE(DecodeChunk(1, blob, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].step, 4096);
  EXPECT_EQ(out[0].value, 1.5);
  EXPECT_TRUE(std::isnan(out[1].value));
  EXPECT_TRUE(std::isinf(out[2].value));
  EXPECT_EQ(out[3].step, 8191);
  EXPECT_EQ(out[3].ts, 13);
}

TEST(SeriesLayout, DecodeRejectsTruncatedBlob) {
  std::string blob = EncodeChunk(0, {{1, 1.0, 1}});
  blob.pop_back();
  std::vector<SeriesPoint> out;
  EXPECT_FALSE(DecodeChunk(0, blob, out));
}

TEST(SeriesLayout, MergeLetsNewerPointsWin) {
  std::vector<SeriesPoint> base = {{1, 1, 0}, {2, 2, 0}, {4, 4, 0}};
  std::vector<SeriesPoint> newer = {{2, 20, 0}, {3, 30, 0}};
  auto m = MergePoints(base, newer);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].value, 20);
  EXPECT_EQ(m[2].value, 30);
}

TEST(SeriesLayout, SortDedupeKeepsLastOccurrence) {
  std::vector<SeriesPoint> pts = {{5, 1, 0}, {1, 2, 0}, {5, 3, 0}};
  SortDedupeKeepLast(pts);
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].step, 1);
  EXPECT_EQ(pts[1].value, 3);
}

TEST(SeriesLayout, BucketTracksExtremesAndFirstNonFinite) {
  Bucket b;
  b.Add({1, 5, 0});
  b.Add({2, std::numeric_limits<double>::quiet_NaN(), 0});
  b.Add({3, -7, 0});
  b.Add({4, 9, 0});
  EXPECT_EQ(b.n, 4);
  EXPECT_EQ(b.min.step, 3);
  EXPECT_EQ(b.max.step, 4);
  ASSERT_TRUE(b.has_nonfinite);
  EXPECT_EQ(b.nonfinite.step, 2);
}

TEST(SeriesLayout, DownsampleKeepsSpikeFirstAndLast) {
  std::vector<Bucket> pieces;
  for (int64_t s = 0; s < 100000; ++s) {
    Bucket b;
    b.index = s;
    b.Add({s, s == 54321 ? 1e9 : std::sin(s * 0.01), 0});
    pieces.push_back(b);
  }
  auto pts = Downsample(pieces, 0, 99999, {0, 0, 0}, {99999, std::sin(999.99), 0}, 1500);
  EXPECT_LE(pts.size(), 1500u);
  EXPECT_EQ(pts.front().step, 0);
  EXPECT_EQ(pts.back().step, 99999);
  bool spike = false;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].step == 54321 && pts[i].value == 1e9) spike = true;
    if (i) {
      EXPECT_LT(pts[i - 1].step, pts[i].step);
    }
  }
  EXPECT_TRUE(spike);
}

// At the smallest max_points, 5, a range with a spike up, a spike down and a NaN between
// its ends keeps all five: first, minimum, maximum, the NaN and last.
TEST(SeriesLayout, DownsampleToFivePointsKeepsTheNaNAndBothSpikes) {
  std::vector<Bucket> pieces;
  for (int64_t s = 0; s < 1000; ++s) {
    Bucket b;
    b.Add({s, s == 300 ? 50.0 : s == 600 ? -50.0 : s == 700 ? std::numeric_limits<double>::quiet_NaN() : 1.0, 0});
    pieces.push_back(b);
  }
  auto pts = Downsample(pieces, 0, 999, {0, 1, 0}, {999, 1, 0}, 5);
  ASSERT_EQ(pts.size(), 5u);
  EXPECT_EQ(pts[0].step, 0);
  EXPECT_EQ(pts[1].step, 300);
  EXPECT_EQ(pts[1].value, 50.0);
  EXPECT_EQ(pts[2].step, 600);
  EXPECT_EQ(pts[2].value, -50.0);
  EXPECT_EQ(pts[3].step, 700);
  EXPECT_TRUE(std::isnan(pts[3].value));
  EXPECT_EQ(pts[4].step, 999);
}

TEST(SeriesLayout, DownsampleShowsBucketWithOnlyNaN) {
  std::vector<Bucket> pieces;
  for (int64_t s = 0; s < 10000; ++s) {
    Bucket b;
    b.Add({s, s >= 5000 && s < 5100 ? std::numeric_limits<double>::quiet_NaN() : 1.0, 0});
    pieces.push_back(b);
  }
  auto pts = Downsample(pieces, 0, 9999, {0, 1, 0}, {9999, 1, 0}, 100);
  bool nan = false;
  for (const auto& p : pts) nan |= std::isnan(p.value);
  EXPECT_TRUE(nan);
  EXPECT_LE(pts.size(), 100u);
}

}  // namespace
}  // namespace loupe
