// What the file-backed harnesses share: a scratch folder for the process and the split
// of one input into the parts a harness lays out as files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace loupe::fuzz {

// A folder of this process's own, removed at exit. In memory where there is /dev/shm:
// harnesses rewrite files constantly, and on ext4 a rewrite flushes (auto_da_alloc).
// Never destroyed, so the clean-up at exit can still name it.
inline const std::filesystem::path& ScratchDir(const char* name) {
  namespace fs = std::filesystem;
  static const fs::path* root = [name] {
    std::error_code ec;
    const fs::path tmp = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (tmp / (std::string("loupe-fuzz-") + name + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) std::abort();
    return new fs::path(tmpl);
  }();
  static const bool cleanup = std::atexit([] {
    std::error_code ec;
    fs::remove_all(*root, ec);
  }) == 0;
  (void)cleanup;
  return *root;
}

// Up to five parts separated by lines of "%%"; missing parts are empty.
inline std::vector<std::string_view> SplitParts(std::string_view in) {
  std::vector<std::string_view> parts;
  while (parts.size() < 4) {
    size_t at = in.find("\n%%\n");
    if (at == std::string_view::npos) break;
    parts.push_back(in.substr(0, at));
    in.remove_prefix(at + 4);
  }
  parts.push_back(in);
  parts.resize(5);
  return parts;
}

}  // namespace loupe::fuzz
