// Files compiled into the binary by cmake/embed_files.cmake: the page templates and
// the static front-end files (Loupe's own CSS/JS and uPlot from npm) and the Python SDK
// (put into launched jobs' packages).
#pragma once

#include <cstddef>
#include <string_view>

namespace loupe {

struct EmbeddedFile {
  const char* name;
  std::string_view bytes;
};

extern const EmbeddedFile kTemplateFiles[];
extern const size_t kTemplateFileCount;
extern const EmbeddedFile kStaticFiles[];
extern const size_t kStaticFileCount;
extern const EmbeddedFile kSdkFiles[];  // sdk/python/loupe/*.py, by file name
extern const size_t kSdkFileCount;

}  // namespace loupe
