#include "common/pagination.h"

#include <algorithm>
#include <charconv>

namespace loupe {

Page Paginate(int64_t total, int64_t page, int64_t per_page, int64_t max_per_page) {
  Page p;
  p.total = std::max<int64_t>(0, total);
  p.per_page = std::clamp<int64_t>(per_page, 1, max_per_page);
  p.total_pages = std::max<int64_t>(1, (p.total + p.per_page - 1) / p.per_page);
  p.page = std::clamp<int64_t>(page, 1, p.total_pages);
  p.offset = (p.page - 1) * p.per_page;
  p.has_prev = p.page > 1;
  p.has_next = p.page < p.total_pages;
  return p;
}

int64_t ParsePageNumber(const std::string* text, int64_t fallback) {
  if (!text || text->empty()) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) return fallback;
  return v;
}

}  // namespace loupe
