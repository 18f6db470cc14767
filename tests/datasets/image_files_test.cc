// Pictures to pixel columns (datasets/image_files.h): JPEG as well as PNG (the API test
// writes PNGs byte by byte; JPEGs are made here with dlib's encoder), folders read without
// following links, archives bounded, sides chosen as documented.
#include <gtest/gtest.h>

#include <dlib/image_io.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/temp_dir.h"
#include "datasets/image_files.h"

namespace loupe::datasets {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Jpeg(const TempDir& dir, dlib::rgb_pixel colour, long side) {
  dlib::array2d<dlib::rgb_pixel> img(side, side);
  for (long r = 0; r < side; ++r) {
    for (long c = 0; c < side; ++c) img[r][c] = colour;
  }
  const std::string path = dir.path() + "/x.jpg";
  dlib::save_jpeg(img, path, 100);
  return ReadAll(path);
}

std::string Png(const TempDir& dir, unsigned char grey, long w, long h) {
  dlib::array2d<unsigned char> img(h, w);
  for (long r = 0; r < h; ++r) {
    for (long c = 0; c < w; ++c) img[r][c] = grey;
  }
  const std::string path = dir.path() + "/x.png";
  dlib::save_png(img, path);
  return ReadAll(path);
}

// The pixel values of the table's data rows (file and label columns dropped).
std::vector<std::vector<int>> Pixels(const PictureTable& t) {
  std::vector<std::vector<int>> rows;
  std::stringstream in(t.csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<int> row;
    std::stringstream cells(line);
    std::string cell;
    std::getline(cells, cell, ',');  // file
    for (int i = 0; i < t.side * t.side && std::getline(cells, cell, ','); ++i) row.push_back(std::stoi(cell));
    rows.push_back(row);
  }
  return rows;
}

TEST(PictureFiles, JpegsAreReadAsTheBrowserReadsThem) {
  TempDir dir;
  // Luma of (200, 100, 50): 0.299*200 + 0.587*100 + 0.114*50 = 124.2; a solid JPEG at
  // quality 100 comes back within a grey level or two.
  std::vector<PictureFile> files = {{"warm/a.jpg", Jpeg(dir, dlib::rgb_pixel(200, 100, 50), 8)},
                                    {"cold/b.jpeg", Jpeg(dir, dlib::rgb_pixel(0, 0, 255), 8)}};
  Result<PictureTable> t = PicturesToTable(files, {});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->side, 8);  // the pictures' own side
  EXPECT_EQ(t->pictures, 2u);
  EXPECT_EQ(t->labels_from, "folders");
  std::vector<std::vector<int>> px = Pixels(*t);
  ASSERT_EQ(px.size(), 2u);
  ASSERT_EQ(px[0].size(), 64u);
  for (int v : px[0]) EXPECT_NEAR(v, 29, 2);   // cold/b.jpeg first (sorted by path): 0.114*255
  for (int v : px[1]) EXPECT_NEAR(v, 124, 2);  // warm/a.jpg
  EXPECT_EQ(t->per_label.at("warm"), 1u);
  EXPECT_EQ(t->csv.substr(t->csv.size() - 6), ",warm\n");
}

TEST(PictureFiles, SidesFollowThePicturesUnlessAsked) {
  TempDir dir;
  // Same square of at most 64: kept. Larger than 64, or mixed: 32.
  auto side_of = [&](std::vector<PictureFile> files, int asked = 0) {
    PictureTableOptions o;
    o.side = asked;
    Result<PictureTable> t = PicturesToTable(files, o);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t->side : -1;
  };
  EXPECT_EQ(side_of({{"a/x.png", Png(dir, 9, 64, 64)}}), 64);
  EXPECT_EQ(side_of({{"a/x.png", Png(dir, 9, 65, 65)}}), kDefaultSide);
  EXPECT_EQ(side_of({{"a/x.png", Png(dir, 9, 10, 12)}}), kDefaultSide);
  EXPECT_EQ(side_of({{"a/x.png", Png(dir, 9, 10, 10)}, {"a/y.png", Png(dir, 9, 12, 12)}}), kDefaultSide);
  EXPECT_EQ(side_of({{"a/x.png", Png(dir, 9, 100, 30)}}, 16), 16);
  // Enlarging a solid picture keeps its value; so does shrinking a non-square one.
  PictureTableOptions o;
  o.side = 16;
  Result<PictureTable> t = PicturesToTable({{"a/x.png", Png(dir, 77, 5, 5)}, {"b/y.png", Png(dir, 33, 100, 30)}}, o);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const std::vector<std::vector<int>> px = Pixels(*t);
  ASSERT_EQ(px.size(), 2u);
  ASSERT_EQ(px[0].size(), 256u);
  for (int v : px[0]) EXPECT_EQ(v, 77);
  for (int v : px[1]) EXPECT_EQ(v, 33);
  o.side = 3;
  EXPECT_EQ(PicturesToTable({{"a/x.png", Png(dir, 1, 4, 4)}}, o).status().message(), "image_side must be from 4 to 64");
  // Cells past the server's limit are refused before the table is written.
  o.side = 64;
  o.max_cells = 4097;
  EXPECT_EQ(PicturesToTable({{"a/x.png", Png(dir, 1, 4, 4)}, {"a/y.png", Png(dir, 1, 4, 4)}}, o).status().message(),
            "2 pictures of 64x64 are 8196 cells; the server reads at most 4097: choose a smaller image_side or "
            "upload fewer pictures");
}

TEST(PictureFiles, FoldersAreReadWithoutFollowingLinks) {
  TempDir dir;
  TempDir outside;
  const std::string pic = Png(dir, 50, 4, 4);
  fs::create_directories(dir.path() + "/set/cats");
  fs::create_directories(dir.path() + "/set/.git");
  std::ofstream(dir.path() + "/set/cats/a.png", std::ios::binary) << pic;
  std::ofstream(dir.path() + "/set/.git/b.png", std::ios::binary) << pic;
  std::ofstream(outside.path() + "/secret.png", std::ios::binary) << pic;
  fs::create_symlink(outside.path() + "/secret.png", dir.path() + "/set/cats/link.png");
  fs::create_directory_symlink(outside.path(), dir.path() + "/set/dogs");
  Result<std::vector<PictureFile>> files = ReadPictureFolder(dir.path() + "/set");
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "cats/a.png");
  EXPECT_EQ((*files)[0].bytes, pic);
  PictureLimits few;
  few.max_total_bytes = pic.size() - 1;
  EXPECT_EQ(ReadPictureFolder(dir.path() + "/set", few).status().code(), Code::kTooLarge);
  EXPECT_EQ(ReadPictureFolder(dir.path() + "/none").status().message(), dir.path() + "/none is not a folder");
}

TEST(PictureFiles, ArchivesAreBoundedAndNamesCleaned) {
  EXPECT_TRUE(IsPictureArchiveName("Pets.ZIP"));
  EXPECT_TRUE(IsPictureArchiveName("a.tar.gz"));
  EXPECT_TRUE(IsPictureArchiveName("a.tgz"));
  EXPECT_FALSE(IsPictureArchiveName("a.csv"));
  EXPECT_FALSE(IsPictureArchiveName("a.gz"));
  EXPECT_EQ(ReadPictureArchive("plain text").status().code(), Code::kInvalidArgument);
  // A tar (ustar) with one 600-byte file named "./cats/a.png": limits on one file.
  std::string tar(512, '\0');
  const std::string name = "./cats/a.png";
  tar.replace(0, name.size(), name);
  tar.replace(100, 7, "0000644");
  tar.replace(124, 11, "00000001130");  // 600 in octal
  tar[156] = '0';
  tar.replace(257, 6, std::string("ustar\0", 6));
  tar.replace(263, 2, "00");
  unsigned sum = 0;
  std::fill(tar.begin() + 148, tar.begin() + 156, ' ');
  for (unsigned char c : tar) sum += c;
  char chk[8];
  std::snprintf(chk, sizeof(chk), "%06o", sum);
  tar.replace(148, 7, std::string(chk, 6) + '\0');
  tar += std::string(600, 'x') + std::string(1024 - 600 % 512 + 512, '\0');
  Result<std::vector<PictureFile>> read = ReadPictureArchive(tar);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].path, "cats/a.png");  // "./" dropped
  EXPECT_EQ((*read)[0].bytes.size(), 600u);
  PictureLimits small;
  small.max_file_bytes = 599;
  EXPECT_EQ(ReadPictureArchive(tar, small).status().message(), "cats/a.png is over 599 bytes (0 MiB); pictures are read up to that");
  small = PictureLimits{};
  small.max_files = 0;
  EXPECT_EQ(ReadPictureArchive(tar, small).status().message(), "the archive has more than 0 entries");
}

}  // namespace
}  // namespace loupe::datasets
