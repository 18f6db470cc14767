#include "common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace loupe {

Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(std::string("cannot open the file: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return Status::Internal("cannot read the file size");
  if (static_cast<size_t>(size) > max_bytes) {
    return Status::TooLarge("the file is " + std::to_string(size) + " bytes; the limit is " + std::to_string(max_bytes));
  }
  in.seekg(0);
  std::string content(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(content.data(), size)) return Status::Internal("cannot read the file");
  return content;
}

namespace {

Status WriteError(int err, const std::string& what) {
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace("the disk is full: cannot write " + what);
  return Status::Unavailable("cannot write " + what + ": " + std::strerror(err));
}

// Opens, writes all of `bytes` and fsyncs; the errno of the first failure, or 0.
int WriteAndSync(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  int err = 0;
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

Status WriteFileDurably(const std::string& path, std::string_view bytes, const std::string& what) {
  const std::string tmp = path + ".tmp";
  if (int err = WriteAndSync(tmp, bytes); err != 0) {
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

}  // namespace loupe
