#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/path_rule.h"

namespace loupe {

Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO someone left in an import root must not wait forever for
  // a writer; anything but a regular file is refused below, before a byte is read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(std::string("cannot open the file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::TooLarge("the file is " + std::to_string(st.st_size) + " bytes; the limit is " +
                            std::to_string(max_bytes));
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  int read_err = 0;
  while (done < content.size()) {
    ssize_t n = ::read(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_err = errno;
    if (n <= 0) break;  // an error, or the file shrank meanwhile: keep what was there
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (read_err != 0) return Status::Internal(std::string("cannot read the file: ") + std::strerror(read_err));
  content.resize(done);
  return content;
}

Result<std::string> ReadFileInFolder(const std::string& folder, const std::string& name, size_t max_bytes) {
  Result<std::string> resolved = ResolveInsideRoot(folder + "/" + name, folder);
  if (!resolved.ok()) return Status::InvalidArgument("links outside its folder; not read");
  return ReadFileUpTo(*resolved, max_bytes);
}

namespace {

Status WriteError(int err, const std::string& what) {
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace("the disk is full: cannot write " + what);
  return Status::Unavailable("cannot write " + what + ": " + std::strerror(err));
}

// Opens, writes all of `bytes` and fsyncs; the errno of the first failure, or 0.
int WriteAndSync(const std::string& path, std::string_view bytes, mode_t mode) {
  ::unlink(path.c_str());  // a leftover file would keep its own permissions
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  int err = 0;
  if (::fchmod(fd, mode) != 0) err = errno;  // the umask must not widen nor narrow it
  for (size_t done = 0; done < bytes.size() && err == 0;) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

}  // namespace

Status WriteFileDurably(const std::string& path, std::string_view bytes, const std::string& what, mode_t mode) {
  const std::string tmp = path + ".tmp";
  if (int err = WriteAndSync(tmp, bytes, mode); err != 0) {
    std::remove(tmp.c_str());
    return WriteError(err, what);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return WriteError(err, what);
  }
  // The rename is durable once the folder is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int rc = ::fsync(dfd);
    int err = errno;
    ::close(dfd);
    if (rc != 0) return WriteError(err, what);
  }
  return Status::Ok();
}

bool MakeOwnerOnly(const std::string& path) {
  std::error_code ec;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
  return !ec;
}

int RemoveTempFiles(const std::string& folder) {
  int removed = 0;
  std::error_code ec;
  // Links are not followed: only what lies in the data folder itself is Loupe's to remove.
  for (auto it = std::filesystem::recursive_directory_iterator(folder, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec) || entry.is_symlink(type_ec)) continue;
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      std::error_code rm_ec;
      if (std::filesystem::remove(entry.path(), rm_ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace loupe
