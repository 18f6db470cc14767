// The one pagination rule every paged page shares (CLaaS's `paginate`): per_page in
// [1, max], total_pages = max(1, ceil(total / per_page)), page clamped into range.
#pragma once

#include <cstdint>
#include <string>

namespace loupe {

struct Page {
  int64_t page = 1;
  int64_t per_page = 20;
  int64_t total = 0;
  int64_t total_pages = 1;
  int64_t offset = 0;  // index of the page's first item
  bool has_prev = false;
  bool has_next = false;
};

constexpr int64_t kMaxPerPage = 200;

Page Paginate(int64_t total, int64_t page, int64_t per_page, int64_t max_per_page = kMaxPerPage);

// Reads ?page= and ?per_page= text leniently (CLaaS clamps rather than rejects):
// anything unparsable falls back to the default.
int64_t ParsePageNumber(const std::string* text, int64_t fallback);

}  // namespace loupe
