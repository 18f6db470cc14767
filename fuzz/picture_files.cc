// Fuzz target: image datasets from picture files (datasets/image_files.h): an archive
// read by libarchive, and pictures decoded by dlib's PNG and JPEG loaders after Loupe's
// own header checks. Input: one byte choosing the path (bit 0: the bytes are an archive,
// else one picture in a folder; bit 1: a labels.csv naming it), then the bytes. Checks,
// beyond "no crash, leak or UB": a table has one CSV line per picture plus the header, a
// side within bounds, and as many pictures as its labels count.
// Seeds: fuzz/corpus/picture_files/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "datasets/image_files.h"

namespace ds = loupe::datasets;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  ds::PictureLimits limits;
  limits.max_files = 64;
  limits.max_file_bytes = 1 << 20;
  limits.max_total_bytes = 4 << 20;
  limits.max_pixels = 1 << 20;  // small, so the header check is reached too
  std::vector<ds::PictureFile> files;
  if (data[0] & 1) {
    loupe::Result<std::vector<ds::PictureFile>> read = ds::ReadPictureArchive(bytes, limits);
    if (!read.ok()) return 0;
    files = std::move(*read);
  } else {
    files.push_back({"class/x.png", bytes});
    if (data[0] & 2) files.push_back({"labels.csv", "file,label\nclass/x.png,a\n"});
  }
  ds::PictureTableOptions options;
  options.skip_bad = true;
  options.limits = limits;
  options.max_cells = 1 << 20;
  loupe::Result<ds::PictureTable> table = ds::PicturesToTable(files, options);
  if (!table.ok()) return 0;
  if (table->side < ds::kMinPictureSide || table->side > ds::kMaxPictureSide) std::abort();
  size_t labelled = 0;
  for (const auto& [label, n] : table->per_label) labelled += n;
  if (labelled != table->pictures) std::abort();
  // Header plus one line per picture (file names and labels with line breaks are quoted,
  // so count records, not '\n': the pixel part is never quoted).
  const size_t lines = static_cast<size_t>(std::count(table->csv.begin(), table->csv.end(), '\n'));
  if (lines < table->pictures + 1) std::abort();
  return 0;
}
