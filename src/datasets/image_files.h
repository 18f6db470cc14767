// Image datasets from picture files: a zip or tar archive (or a folder under the import
// root) of PNG and JPEG files, labelled by the folder each is in (cats/001.png) or by a
// labels.csv at the top (file,label). Every picture is read in grey, scaled to one square
// side and written as pixel columns, the form Fashion-MNIST and the digits come in, so
// the image grid, the ConvNet and predict-by-picture treat both alike. Greys are the
// browser's (ITU-R 601 luma, transparency over black), so a picture uploaded to predict
// is seen as the training pictures were.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "datasets/table_parser.h"

namespace loupe::datasets {

struct PictureFile {
  std::string path;  // relative, '/'-separated
  std::string bytes;
};

struct PictureLimits {
  size_t max_files = 100'000;             // entries in the archive or folder
  size_t max_file_bytes = 16u << 20;      // one picture
  size_t max_total_bytes = 256u << 20;    // all pictures, unpacked (a zip bomb stops here)
  uint64_t max_pixels = 4096ull * 4096;   // one picture's width x height, read from its header
};

// .zip, .tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz (case-insensitive).
bool IsPictureArchiveName(const std::string& file_name);

// The pictures (.png, .jpg, .jpeg by name) and labels.csv files of a zip or tar (gzip,
// bzip2 and xz allowed); other files, folders, links, macOS metadata (__MACOSX/, ._*) and
// hidden files are passed over unread. InvalidArgument when it is not an archive;
// TooLarge past the limits.
Result<std::vector<PictureFile>> ReadPictureArchive(const std::string& bytes, const PictureLimits& limits = {});
// The same from a folder and its sub-folders (links are not followed).
Result<std::vector<PictureFile>> ReadPictureFolder(const std::string& dir, const PictureLimits& limits = {});

struct PictureTableOptions {
  // The pictures' side. 0: their own when every one is the same square of at most
  // kMaxAutoSide, else kDefaultSide.
  int side = 0;
  bool skip_bad = false;  // unreadable or unlabelled pictures are left out and reported
  PictureLimits limits;
  size_t max_cells = 20'000'000;
};
inline constexpr int kMinPictureSide = 4;
inline constexpr int kMaxPictureSide = 64;
inline constexpr int kMaxAutoSide = 64;
inline constexpr int kDefaultSide = 32;

struct PictureTable {
  std::string csv;  // file, pixel_0 .. pixel_<side*side-1> (0-255), label
  int side = 0;
  size_t pictures = 0;
  std::map<std::string, size_t> per_label;
  BadRowReport bad;  // header "file,reason"; lines: the pictures left out and why
  std::string labels_from;  // "folders" or "labels.csv"
};

// Every picture, sorted by path. Without skip_bad, any unreadable or unlabelled picture
// fails the whole set with a message counting and naming them.
Result<PictureTable> PicturesToTable(const std::vector<PictureFile>& files, const PictureTableOptions& options);

}  // namespace loupe::datasets
