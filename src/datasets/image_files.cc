#include "datasets/image_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

// After the standard headers: jpeglib.h needs size_t and FILE declared.
#include <jpeglib.h>

#include "common/ascii_case.h"
#include "common/csv.h"
#include "common/units.h"

namespace loupe::datasets {

namespace fs = std::filesystem;

namespace {


// The '/'-separated parts of a path, empty ones included (a//b).
std::vector<std::string_view> Parts(const std::string& path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.emplace_back(path.data() + start, end - start);
    start = end + 1;
  }
  return parts;
}

// Folders and files people do not mean as data: macOS metadata, hidden files ("." and
// ".." parts are not hidden: such a path is reported, not ignored).
bool Skipped(const std::string& path) {
  for (std::string_view part : Parts(path)) {
    if (part == "__MACOSX" || (part.size() > 1 && part[0] == '.' && part != "..")) return true;
  }
  return false;
}

// A "." or ".." part, or an empty one (a//b): the folder a label would come from is unclear.
bool OddParts(const std::string& path) {
  for (std::string_view part : Parts(path)) {
    if (part.empty() || part == "." || part == "..") return true;
  }
  return false;
}

// A path inside the archive, '/'-separated, without "./" or a leading '/'.
std::optional<std::string> CleanPath(std::string path) {
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  while (!path.empty() && path[0] == '/') path.erase(0, 1);
  if (path.empty()) return std::nullopt;
  return path;
}

enum class Kind { kPng, kJpeg, kOther };

Kind KindOf(const std::string& bytes) {
  if (bytes.size() >= 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return Kind::kPng;
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF && static_cast<unsigned char>(bytes[1]) == 0xD8 &&
      static_cast<unsigned char>(bytes[2]) == 0xFF) {
    return Kind::kJpeg;
  }
  return Kind::kOther;
}

bool PictureName(const std::string& path) {
  const std::string l = AsciiLower(path);
  return l.ends_with(".png") || l.ends_with(".jpg") || l.ends_with(".jpeg");
}

// Files the pictures' table reads: pictures by their names, and the labels.
bool Wanted(const std::string& path) {
  const std::string l = AsciiLower(path);
  return PictureName(path) || l == "labels.csv" || l.ends_with("/labels.csv");
}

uint32_t Be(const std::string& b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// Width and height from the file's header, so a small file that unpacks to a huge
// picture is refused before it is decoded.
std::optional<std::pair<uint32_t, uint32_t>> HeaderSize(const std::string& b, Kind kind) {
  if (kind == Kind::kPng) {
    if (b.size() < 24 || b.compare(12, 4, "IHDR") != 0) return std::nullopt;
    return std::pair{Be(b, 16, 4), Be(b, 20, 4)};
  }
  // JPEG: walk the segments to the first start-of-frame.
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return std::nullopt;
    const unsigned marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    const uint32_t len = Be(b, i + 2, 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return std::nullopt;
      return std::pair{Be(b, i + 7, 2), Be(b, i + 5, 2)};
    }
    if (len < 2) return std::nullopt;
    i += 2 + len;
  }
  return std::nullopt;
}

// A picture in grey, row-major.
struct Grey {
  long nr_ = 0, nc_ = 0;
  std::vector<float> v;
  long nr() const { return nr_; }
  long nc() const { return nc_; }
  float at(long r, long c) const { return v[static_cast<size_t>(r * nc_ + c)]; }
};

// Luma as a browser canvas computes it for the predict form (0.299 R + 0.587 G + 0.114 B),
// drawn over black.
float Luma(unsigned r, unsigned g, unsigned b, unsigned a) {
  return static_cast<float>((0.299 * r + 0.587 * g + 0.114 * b) * a / 255.0);
}

// libpng's simplified reader: it cleans up after itself on any error.
Status DecodePng(const std::string& bytes, Grey& out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return Status::InvalidArgument(std::string("it cannot be decoded (") + image.message + ")");
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<png_byte> rgba(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr)) {
    return Status::InvalidArgument(std::string("it cannot be decoded (") + image.message + ")");
  }
  out.nr_ = image.height;
  out.nc_ = image.width;
  out.v.resize(static_cast<size_t>(out.nr_) * out.nc_);
  for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = Luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]);
  return Status::Ok();
}

// libjpeg reports errors by longjmp: only C frames lie between the setjmp here and it, so
// nothing with a destructor is skipped (dlib's loader leaked on corrupt files). Its
// warnings ("Corrupt JPEG data: ...") make the picture unreadable rather than a log line.
struct JpegErrors {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

void JpegFail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

void JpegMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (e->pub.num_warnings++ == 0) (*cinfo->err->format_message)(cinfo, e->message);
}

Status DecodeJpeg(const std::string& bytes, uint64_t max_pixels, Grey& out) {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors;
  std::vector<JSAMPLE> row;
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = JpegFail;
  errors.pub.emit_message = JpegMessage;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Status::InvalidArgument(std::string("it cannot be decoded (") + errors.message + ")");
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (uint64_t{cinfo.output_width} * cinfo.output_height > max_pixels || cinfo.output_components != 3) {
    jpeg_destroy_decompress(&cinfo);
    return Status::InvalidArgument("it cannot be decoded (its frame does not match its header)");
  }
  out.nr_ = cinfo.output_height;
  out.nc_ = cinfo.output_width;
  out.v.assign(static_cast<size_t>(out.nr_) * out.nc_, 0.0f);
  row.resize(static_cast<size_t>(out.nc_) * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {row.data()};
    const size_t r = cinfo.output_scanline;
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) break;
    for (long c = 0; c < out.nc_; ++c) out.v[r * out.nc_ + c] = Luma(row[3 * c], row[3 * c + 1], row[3 * c + 2], 255);
  }
  const bool complete = cinfo.output_scanline == cinfo.output_height;
  if (complete) jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (!complete) return Status::InvalidArgument("it cannot be decoded (it ends early)");
  if (errors.pub.num_warnings > 0) return Status::InvalidArgument(std::string("it is damaged (") + errors.message + ")");
  return Status::Ok();
}

// `size`: width and height from HeaderSize, read before any picture is decoded.
Status Decode(const std::string& bytes, Kind kind, std::pair<uint32_t, uint32_t> size, const PictureLimits& limits,
              Grey& out) {
  const uint64_t pixels = uint64_t{size.first} * size.second;
  if (pixels == 0) return Status::InvalidArgument("it has no pixels");
  if (pixels > limits.max_pixels) {
    return Status::InvalidArgument("it is " + std::to_string(size.first) + "x" + std::to_string(size.second) +
                                   " pixels; at most " + std::to_string(limits.max_pixels) + " are read");
  }
  LOUPE_RETURN_IF_ERROR(kind == Kind::kPng ? DecodePng(bytes, out) : DecodeJpeg(bytes, limits.max_pixels, out));
  if (out.nr() == 0 || out.nc() == 0) return Status::InvalidArgument("it has no pixels");
  if (uint64_t(out.nr()) * out.nc() > limits.max_pixels) return Status::InvalidArgument("it is larger than its header says");
  return Status::Ok();
}

uint8_t Byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

// One line of n samples scaled to `side`: each output the mean of the span it covers when
// shrinking (a large photo is averaged, not sampled), bilinear between sample centres
// when enlarging.
void Resample1d(const float* in, long n, long stride, int side, float* out, long out_stride) {
  if (n >= side) {
    const double scale = static_cast<double>(n) / side;
    for (int i = 0; i < side; ++i) {
      const double x0 = i * scale, x1 = (i + 1) * scale;
      double sum = 0, width = 0;
      for (long x = static_cast<long>(x0); x < std::min<long>(n, static_cast<long>(std::ceil(x1))); ++x) {
        const double w = std::min<double>(x + 1, x1) - std::max<double>(x, x0);
        sum += in[x * stride] * w;
        width += w;
      }
      out[i * out_stride] = static_cast<float>(sum / width);
    }
    return;
  }
  for (int i = 0; i < side; ++i) {
    const double p = std::clamp((i + 0.5) * static_cast<double>(n) / side - 0.5, 0.0, static_cast<double>(n - 1));
    const long lo = static_cast<long>(std::floor(p)), hi = std::min(lo + 1, n - 1);
    const double t = p - lo;
    out[i * out_stride] = static_cast<float>(in[lo * stride] * (1 - t) + in[hi * stride] * t);
  }
}

// Scaled to side x side, each axis on its own (rows first, then columns).
std::vector<uint8_t> Resample(const Grey& in, int side) {
  const long h = in.nr(), w = in.nc();
  std::vector<float> rows(static_cast<size_t>(h) * side);
  for (long r = 0; r < h; ++r) Resample1d(&in.v[static_cast<size_t>(r * w)], w, 1, side, &rows[static_cast<size_t>(r) * side], 1);
  std::vector<float> both(static_cast<size_t>(side) * side);
  for (int c = 0; c < side; ++c) Resample1d(&rows[static_cast<size_t>(c)], h, side, side, &both[static_cast<size_t>(c)], side);
  std::vector<uint8_t> out(both.size());
  for (size_t i = 0; i < both.size(); ++i) out[i] = Byte(both[i]);
  return out;
}

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string Base(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

size_t Depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

// labels.csv: a file column (file, filename, image, path or name) and a label column
// (label, class, category, target or y); with two columns and neither name, the first
// two. Paths are taken relative to the labels file's folder.
Result<std::map<std::string, std::string>> ReadLabels(const PictureFile& f) {
  Result<RawTable> raw = ParseTable(f.bytes, FileFormat::kCsv, ParseLimits{}, ParseOptions{false, nullptr, false});
  if (!raw.ok()) return Status::InvalidArgument(f.path + ": " + raw.status().message());
  auto find = [&](std::initializer_list<const char*> names) -> std::optional<size_t> {
    for (size_t i = 0; i < raw->columns.size(); ++i) {
      const std::string n = AsciiLower(raw->columns[i].name);
      for (const char* want : names) {
        if (n == want) return i;
      }
    }
    return std::nullopt;
  };
  std::optional<size_t> file_col = find({"file", "filename", "file_name", "image", "path", "name"});
  std::optional<size_t> label_col = find({"label", "class", "category", "target", "y"});
  if ((!file_col || !label_col) && raw->columns.size() == 2) {
    file_col = 0;
    label_col = 1;
  }
  if (!file_col || !label_col || *file_col == *label_col) {
    return Status::InvalidArgument(f.path + " needs a file column (file, filename, file_name, image, path or name) "
                                   "and a label column (label, class, category, target or y)");
  }
  std::map<std::string, std::string> labels;
  const std::string base = Dir(f.path);
  for (size_t r = 0; r < raw->rows(); ++r) {
    std::optional<std::string_view> file = raw->columns[*file_col].cells[r];
    std::optional<std::string_view> label = raw->columns[*label_col].cells[r];
    if (!file) continue;
    std::optional<std::string> clean = CleanPath(std::string(*file));
    if (!clean) continue;
    const std::string key = base.empty() ? *clean : base + "/" + *clean;
    auto [it, added] = labels.emplace(key, label ? std::string(*label) : std::string());
    if (!added && it->second != (label ? std::string(*label) : std::string())) {
      return Status::InvalidArgument(f.path + " gives " + *clean + " two labels");
    }
  }
  return labels;
}

}  // namespace

bool IsPictureArchiveName(const std::string& file_name) {
  const std::string l = AsciiLower(file_name);
  for (const char* ext : {".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"}) {
    if (l.ends_with(ext)) return true;
  }
  return false;
}

Result<std::vector<PictureFile>> ReadPictureArchive(const std::string& bytes, const PictureLimits& limits) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return Status::InvalidArgument(std::string("not a zip or tar archive: ") +
                                   (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unreadable"));
  }
  std::vector<PictureFile> files;
  size_t total = 0, entries = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Status::InvalidArgument(std::string("the archive is damaged after ") + std::to_string(entries) +
                                     " entries: " + (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
    }
    if (++entries > limits.max_files) {
      return Status::TooLarge("the archive has more than " + std::to_string(limits.max_files) + " entries");
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* name = archive_entry_pathname_utf8(entry);
    if (!name) name = archive_entry_pathname(entry);
    std::optional<std::string> path = CleanPath(name ? name : "");
    // Only what can be used is unpacked: a zip of large non-picture files costs nothing.
    if (!path || Skipped(*path) || !Wanted(*path)) {
      archive_read_data_skip(a.get());
      continue;
    }
    PictureFile f;
    f.path = *path;
    char buf[65536];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
      if (n < 0) {
        return Status::InvalidArgument("the archive is damaged at " + f.path + ": " +
                                       (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
      }
      if (n == 0) break;
      if (f.bytes.size() + static_cast<size_t>(n) > limits.max_file_bytes) {
        return Status::TooLarge(f.path + " is over " + BytesWithMib(limits.max_file_bytes) + "; pictures are read up to that");
      }
      total += static_cast<size_t>(n);
      if (total > limits.max_total_bytes) {
        return Status::TooLarge("the archive unpacks to over " + BytesWithMib(limits.max_total_bytes));
      }
      f.bytes.append(buf, static_cast<size_t>(n));
    }
    files.push_back(std::move(f));
  }
  return files;
}

Result<std::vector<PictureFile>> ReadPictureFolder(const std::string& dir, const PictureLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::InvalidArgument(dir + " is not a folder");
  std::vector<PictureFile> files;
  size_t total = 0, entries = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return Status::InvalidArgument("cannot read " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::InvalidArgument("cannot read " + dir + ": " + ec.message());
    if (++entries > limits.max_files) {
      return Status::TooLarge("the folder has more than " + std::to_string(limits.max_files) + " entries");
    }
    const fs::file_status st = it->symlink_status(ec);
    if (ec || !fs::is_regular_file(st)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || Skipped(rel) || !Wanted(rel)) continue;
    const uintmax_t size = it->file_size(ec);
    if (ec) continue;
    if (size > limits.max_file_bytes) {
      return Status::TooLarge(rel + " is over " + BytesWithMib(limits.max_file_bytes) + "; pictures are read up to that");
    }
    total += size;
    if (total > limits.max_total_bytes) return Status::TooLarge("the folder holds over " + BytesWithMib(limits.max_total_bytes));
    std::ifstream in(it->path(), std::ios::binary);
    PictureFile f{rel, std::string(static_cast<size_t>(size), '\0')};
    if (!in.read(f.bytes.data(), static_cast<std::streamsize>(size))) {
      return Status::InvalidArgument("cannot read " + rel);
    }
    files.push_back(std::move(f));
  }
  return files;
}

Result<PictureTable> PicturesToTable(const std::vector<PictureFile>& input, const PictureTableOptions& options) {
  if (options.side != 0 && (options.side < kMinPictureSide || options.side > kMaxPictureSide)) {
    return Status::InvalidArgument("image_side must be from " + std::to_string(kMinPictureSide) + " to " +
                                   std::to_string(kMaxPictureSide));
  }
  std::vector<const PictureFile*> files;
  for (const PictureFile& f : input) files.push_back(&f);
  std::sort(files.begin(), files.end(), [](const PictureFile* a, const PictureFile* b) { return a->path < b->path; });

  // The shallowest labels.csv names the labels; without one, folders do.
  const PictureFile* labels_file = nullptr;
  for (const PictureFile* f : files) {
    if (AsciiLower(Base(f->path)) != "labels.csv") continue;
    if (labels_file && Depth(labels_file->path) == Depth(f->path)) {
      return Status::InvalidArgument("two labels.csv files (" + labels_file->path + ", " + f->path + "): keep one");
    }
    if (!labels_file || Depth(f->path) < Depth(labels_file->path)) labels_file = f;
  }
  std::optional<std::map<std::string, std::string>> listed;
  if (labels_file) {
    LOUPE_ASSIGN_OR_RETURN(auto labels, ReadLabels(*labels_file));
    listed = std::move(labels);
  }

  PictureTable out;
  out.labels_from = listed ? "labels.csv" : "folders";
  out.bad.header = "file,reason";
  std::vector<std::pair<std::string, std::string>> rejected;  // (path, reason)

  // First the names, labels and header sizes; pictures are decoded one at a time below
  // and only their scaled pixels kept, so memory is pictures x side^2, not their size.
  struct Candidate {
    const PictureFile* file;
    Kind kind;
    std::string label;
    std::pair<uint32_t, uint32_t> size;  // width, height from the header
  };
  std::vector<Candidate> candidates;
  std::set<std::string> seen_paths;
  std::set<std::string> paths;
  for (const PictureFile* f : files) {
    if (!PictureName(f->path)) continue;  // the labels, or what a caller passed besides
    if (!paths.insert(f->path).second) {
      rejected.emplace_back(f->path, "appears more than once (the first is used)");
      continue;
    }
    if (OddParts(f->path)) {
      rejected.emplace_back(f->path, "its path has an empty, . or .. part, so its folder is unclear");
      continue;
    }
    const Kind kind = KindOf(f->bytes);
    if (kind == Kind::kOther) {
      rejected.emplace_back(f->path, "not a PNG or JPEG file");
      continue;
    }
    std::string label;
    if (listed) {
      auto it = listed->find(f->path);
      if (it == listed->end()) {
        rejected.emplace_back(f->path, "not listed in " + labels_file->path);
        continue;
      }
      label = it->second;
      seen_paths.insert(f->path);
    } else {
      label = Base(Dir(f->path));
      if (label.empty()) {
        rejected.emplace_back(f->path, "not in a folder: put each class's pictures in a folder named after it, or add a labels.csv");
        continue;
      }
    }
    if (label.empty() || IsMissingToken(label)) {
      rejected.emplace_back(f->path, label.empty() ? "its label is blank or reads as a missing value (NA, null, ...)"
                                                   : "its label \"" + label + "\" reads as a missing value");
      continue;
    }
    std::optional<std::pair<uint32_t, uint32_t>> size = HeaderSize(f->bytes, kind);
    if (!size) {
      rejected.emplace_back(f->path, "its header is unreadable");
      continue;
    }
    candidates.push_back({f, kind, label, *size});
  }
  if (listed) {
    for (const auto& [path, label] : *listed) {
      if (!seen_paths.count(path)) rejected.emplace_back(path, "listed in " + labels_file->path + " but not among the pictures");
    }
  }

  int side = options.side;
  if (side == 0 && !candidates.empty()) {
    const auto first = candidates[0].size;
    const bool same = std::all_of(candidates.begin(), candidates.end(), [&](const Candidate& c) { return c.size == first; });
    side = same && first.first == first.second && first.first >= static_cast<uint32_t>(kMinPictureSide) &&
                   first.first <= static_cast<uint32_t>(kMaxAutoSide)
               ? static_cast<int>(first.first)
               : kDefaultSide;
  }
  const size_t columns = static_cast<size_t>(side) * side + 2;
  if (candidates.size() * columns > options.max_cells) {
    return Status::TooLarge(std::to_string(candidates.size()) + " pictures of " + std::to_string(side) + "x" +
                            std::to_string(side) + " are " + std::to_string(candidates.size() * columns) +
                            " cells; the server reads at most " + std::to_string(options.max_cells) +
                            ": choose a smaller image_side or upload fewer pictures");
  }

  struct Scaled {
    const PictureFile* file;
    std::string label;
    std::vector<uint8_t> pixels;
  };
  std::vector<Scaled> scaled;
  for (const Candidate& c : candidates) {
    Grey grey;
    if (Status st = Decode(c.file->bytes, c.kind, c.size, options.limits, grey); !st.ok()) {
      rejected.emplace_back(c.file->path, st.message());
      continue;
    }
    scaled.push_back({c.file, c.label, Resample(grey, side)});
  }

  // The report in path order, whichever pass found each.
  std::stable_sort(rejected.begin(), rejected.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [path, reason] : rejected) {
    ++out.bad.count;
    if (out.bad.first.size() < BadRowReport::kListed) out.bad.first.push_back({0, path + ": " + reason});
    out.bad.lines += CsvField(path) + "," + CsvField(reason) + "\n";
  }
  if (out.bad.count > 0 && !options.skip_bad) {
    std::string first;
    for (size_t i = 0; i < std::min<size_t>(out.bad.first.size(), 10); ++i) {
      first += (i ? "; " : "") + out.bad.first[i].reason;
    }
    return Status::InvalidArgument(std::to_string(out.bad.count) + (out.bad.count == 1 ? " picture" : " pictures") +
                                   " cannot be used: " + first + (out.bad.count > 10 ? "; and more" : "") +
                                   ". Fix them, or upload again with skip_bad_rows to leave them out (they are "
                                   "listed, with why, for download)");
  }
  if (scaled.empty()) {
    return Status::InvalidArgument("no PNG or JPEG pictures found" +
                                   std::string(out.bad.count ? " that could be used" : "") +
                                   ": put each class's pictures in a folder named after it");
  }
  out.side = side;
  out.pictures = scaled.size();
  std::string& csv = out.csv;
  csv.reserve(scaled.size() * (columns * 4));
  csv += "file";
  for (int i = 0; i < side * side; ++i) csv += ",pixel_" + std::to_string(i);
  csv += ",label\n";
  for (const Scaled& d : scaled) {
    csv += CsvFieldExact(d.file->path);
    for (uint8_t v : d.pixels) {
      csv += ',';
      csv += std::to_string(v);
    }
    csv += ',' + CsvFieldExact(d.label) + '\n';
    ++out.per_label[d.label];
  }
  return out;
}

}  // namespace loupe::datasets
