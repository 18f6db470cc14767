#include "auth/runtime_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/file_util.h"

namespace loupe::auth {

std::string RuntimeDir() {
  if (const char* d = std::getenv("LOUPE_RUNTIME_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_RUNTIME_DIR"); d && *d) return std::string(d) + "/loupe";
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";  // never a shared folder such as /tmp
  return std::string(home) + "/.local/share/loupe/runtime";
}

std::string RuntimeFilePath(uint16_t port) { return RuntimeDir() + "/server-" + std::to_string(port) + ".json"; }

Status WriteRuntimeFile(uint16_t port, const std::string& url, const std::string& data_dir,
                        const std::string& token_file) {
  std::error_code ec;
  const std::string dir = RuntimeDir();
  if (dir.empty()) return Status::Unavailable("no runtime folder: neither LOUPE_RUNTIME_DIR, XDG_RUNTIME_DIR nor HOME is set");
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create the runtime folder " + dir + ": " + ec.message());
  // Clients trust what is in it: it must be this user's own folder, closed to others.
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      ::chmod(dir.c_str(), 0700) != 0) {
    return Status::Unavailable("the runtime folder " + dir + " is not a folder of this user's own; not written");
  }
  nlohmann::json j = {{"url", url},
                      {"pid", static_cast<int64_t>(::getpid())},
                      {"data_dir", std::filesystem::absolute(data_dir, ec).string()},
                      {"token_file", std::filesystem::absolute(token_file, ec).string()}};
  return WriteFileDurably(RuntimeFilePath(port), j.dump(2) + "\n", "the runtime file", 0600);
}

void RemoveRuntimeFile(uint16_t port) {
  if (RuntimeDir().empty()) return;
  std::error_code ec;
  std::filesystem::remove(RuntimeFilePath(port), ec);
}

}  // namespace loupe::auth
