#include "artifacts/blob_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "artifacts/artifact_rules.h"
#include "common/file_util.h"

namespace loupe::artifacts {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadBuffer = size_t{1} << 20;
// Zips of more than this are stored, not deflated: checkpoints barely compress, and
// deflating gigabytes would hold a download for minutes.
constexpr int64_t kDeflateUpTo = int64_t{256} << 20;

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

std::string Hex(const unsigned char* b, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

// Calls `sink(data, n)` for the bytes of each chunk in order.
template <typename Sink>
Status ReadChunks(const BlobStore& blobs, const std::vector<std::string>& chunks, Sink&& sink) {
  std::vector<char> buf(kReadBuffer);
  for (const std::string& c : chunks) {
    File f(std::fopen(blobs.PathOf(c).c_str(), "rb"));
    if (!f) return Status::Corrupt("blob " + c.substr(0, 12) + " of a stored artifact is missing");
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) LOUPE_RETURN_IF_ERROR(sink(buf.data(), n));
    if (std::ferror(f.get())) return Status::Unavailable("blob " + c.substr(0, 12) + " cannot be read");
  }
  return Status::Ok();
}

}  // namespace

BlobStore::NameLock::NameLock(BlobStore& s, std::string name) : s_(s), name_(std::move(name)) {
  std::unique_lock<std::mutex> lock(s_.mu_);
  s_.cv_.wait(lock, [&] { return !s_.writing_.count(name_); });
  s_.writing_.insert(name_);
}

BlobStore::NameLock::~NameLock() {
  {
    std::lock_guard<std::mutex> lock(s_.mu_);
    s_.writing_.erase(name_);
  }
  s_.cv_.notify_all();
}

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

std::string BlobStore::PathOf(const std::string& digest) const {
  return root_ + "/blobs/" + digest.substr(0, 2) + "/" + digest;
}

bool BlobStore::Has(const std::string& digest) const {
  struct stat st;
  return ::stat(PathOf(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> BlobStore::Size(const std::string& digest) const {
  struct stat st;
  if (::stat(PathOf(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::NotFound("blob " + digest + " is not stored");
  }
  return static_cast<int64_t>(st.st_size);
}

Status BlobStore::Put(const std::string& digest, std::string_view bytes) {
  if (!IsDigest(digest)) return Status::InvalidArgument("a blob is named by its SHA-256 in lower-case hex");
  if (static_cast<int64_t>(bytes.size()) > kChunkBytes) {
    return Status::TooLarge("a blob holds at most " + std::to_string(kChunkBytes) + " bytes; this one has " +
                           std::to_string(bytes.size()));
  }
  const std::string actual = Sha256Hex(bytes);
  if (actual != digest) {
    return Status::InvalidArgument("the uploaded bytes hash to " + actual + ", not " + digest +
                                   " (the upload was corrupted or cut short); send it again");
  }
  NameLock lock(*this, digest);
  if (Has(digest)) {
    Result<std::string> stored = HashOfChunks({digest});
    if (stored.ok() && *stored == digest) return Status::Ok();
  }
  std::error_code ec;
  fs::create_directories(root_ + "/blobs/" + digest.substr(0, 2), ec);
  if (ec) return Status::Unavailable("cannot create the artifact blob folder: " + ec.message());
  return WriteFileDurably(PathOf(digest), bytes, "artifact blob");
}

bool BlobStore::RemoveIfDamaged(const std::string& digest) {
  NameLock lock(*this, digest);
  if (!Has(digest)) return false;
  Result<std::string> stored = HashOfChunks({digest});
  if (!stored.ok() || *stored == digest) return false;
  return std::remove(PathOf(digest).c_str()) == 0;
}

Status BlobStore::CheckChunks(const ArtifactFile& f) const {
  for (size_t k = 0; k < f.chunks.size(); ++k) {
    const int64_t want = k + 1 < f.chunks.size() ? kChunkBytes : f.size - kChunkBytes * static_cast<int64_t>(k);
    Result<int64_t> have = Size(f.chunks[k]);
    if (!have.ok()) return Status::Corrupt("the stored bytes of '" + f.path + "' are missing (chunk " + std::to_string(k) + ")");
    if (*have != want) {
      return Status::Corrupt("the stored bytes of '" + f.path + "' are damaged (chunk " + std::to_string(k) + " holds " +
                             std::to_string(*have) + " bytes, not " + std::to_string(want) +
                             "); log the same content again to repair it");
    }
  }
  return Status::Ok();
}

Result<std::string> BlobStore::HashOfChunks(const std::vector<std::string>& chunks) const {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  LOUPE_RETURN_IF_ERROR(ReadChunks(*this, chunks, [&](const char* d, size_t n) {
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(d), n);
    return Status::Ok();
  }));
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  return Hex(out, sizeof(out));
}

Result<std::string> BlobStore::WholeFile(const ArtifactFile& f) {
  LOUPE_RETURN_IF_ERROR(CheckChunks(f));
  if (f.chunks.size() == 1) return PathOf(f.chunks[0]);
  const std::string path = root_ + "/cache/" + f.sha256;
  NameLock lock(*this, "cache/" + f.sha256);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_size == f.size) return path;
  std::error_code ec;
  fs::create_directories(root_ + "/cache", ec);
  if (ec) return Status::Unavailable("cannot create the artifact cache folder: " + ec.message());
  const std::string tmp = path + ".tmp";
  {
    File out(std::fopen(tmp.c_str(), "wb"));
    if (!out) return Status::Unavailable("cannot write to the artifact cache");
    Status s = ReadChunks(*this, f.chunks, [&](const char* d, size_t n) {
      return std::fwrite(d, 1, n, out.get()) == n ? Status::Ok() : Status::NoSpace("the disk is full");
    });
    if (s.ok() && std::fflush(out.get()) != 0) s = Status::NoSpace("the disk is full");
    if (!s.ok()) {
      out.reset();
      std::remove(tmp.c_str());
      return s;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::Unavailable("cannot finish a cached download");
  return path;
}

Result<std::string> BlobStore::Zip(const std::string& digest, const std::string& top,
                                   const std::vector<ArtifactFile>& files, int64_t mtime) {
  const std::string path = root_ + "/cache/" + digest + "-" + top + ".zip";
  NameLock lock(*this, "cache/" + digest + top);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return path;
  std::error_code ec;
  fs::create_directories(root_ + "/cache", ec);
  if (ec) return Status::Unavailable("cannot create the artifact cache folder: " + ec.message());
  int64_t total = 0;
  for (const ArtifactFile& f : files) {
    LOUPE_RETURN_IF_ERROR(CheckChunks(f));
    total += f.size;
  }
  const std::string tmp = path + ".tmp";
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error");
    a.reset();
    std::remove(tmp.c_str());
    return Status::Unavailable("cannot build the zip: " + msg);
  };
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) return fail("zip format");
  // hdrcharset=UTF-8: names are stored as UTF-8 with the zip's UTF-8 flag set, so every
  // unzip reads "é/ü.txt" as written, whatever the server's locale.
  if (archive_write_set_options(a.get(), total > kDeflateUpTo ? "zip:compression=store,zip:hdrcharset=UTF-8"
                                                              : "zip:compression=deflate,zip:hdrcharset=UTF-8") !=
      ARCHIVE_OK) {
    return fail("zip options");
  }
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) return fail("open");
  for (const ArtifactFile& f : files) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    const std::string name = top + "/" + f.path;
    archive_entry_set_pathname_utf8(e.get(), name.c_str());
    archive_entry_set_size(e.get(), f.size);
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_mtime(e.get(), static_cast<time_t>(mtime), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail("'" + f.path + "'");
    Status s = ReadChunks(*this, f.chunks, [&](const char* d, size_t n) {
      return archive_write_data(a.get(), d, n) == static_cast<la_ssize_t>(n) ? Status::Ok()
                                                                              : Status::Unavailable("write failed");
    });
    if (!s.ok()) {
      a.reset();
      std::remove(tmp.c_str());
      return s;
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("close");
  a.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::Unavailable("cannot finish a cached zip");
  return path;
}

Result<int> BlobStore::Sweep(const std::vector<std::string>& keep) {
  std::error_code ec;
  fs::remove_all(root_ + "/cache", ec);
  if (ec) return Status::Unavailable("cannot clear the artifact cache: " + ec.message());
  int removed = 0;
  const fs::path blobs = root_ + "/blobs";
  if (!fs::exists(blobs, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(blobs, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (IsDigest(name) && std::binary_search(keep.begin(), keep.end(), name)) continue;
    if (fs::remove(it->path(), ec)) ++removed;
  }
  if (ec) return Status::Unavailable("cannot sweep artifact blobs: " + ec.message());
  return removed;
}

}  // namespace loupe::artifacts
