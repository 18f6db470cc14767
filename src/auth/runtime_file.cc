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
  return std::string(home && *home ? home : "/tmp") + "/.local/share/loupe/runtime";
}

std::string RuntimeFilePath(uint16_t port) { return RuntimeDir() + "/server-" + std::to_string(port) + ".json"; }

Status WriteRuntimeFile(uint16_t port, const std::string& url, const std::string& data_dir,
                        const std::string& token_file) {
  std::error_code ec;
  const std::string dir = RuntimeDir();
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create the runtime folder " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  nlohmann::json j = {{"url", url},
                      {"pid", static_cast<int64_t>(::getpid())},
                      {"data_dir", std::filesystem::absolute(data_dir, ec).string()},
                      {"token_file", std::filesystem::absolute(token_file, ec).string()}};
  return WriteFileDurably(RuntimeFilePath(port), j.dump(2) + "\n", "the runtime file", 0600);
}

void RemoveRuntimeFile(uint16_t port) {
  std::error_code ec;
  std::filesystem::remove(RuntimeFilePath(port), ec);
}

}  // namespace loupe::auth
