#include "common/file_util.h"

#include <cerrno>
#include <cstring>
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

}  // namespace loupe
