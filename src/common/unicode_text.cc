#include "common/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

namespace loupe {

size_t Utf8Length(std::string_view text) {
  size_t count = 0;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    ++count;
  }
  return count;
}

void ForEachLowercaseWord(std::string_view text, const std::function<void(const std::string& word, size_t length)>& word) {
  std::string current;
  size_t length = 0;
  auto flush = [&] {
    if (length > 0) word(current, length);
    current.clear();
    length = 0;
  };
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    const bool letter = c >= 0 && (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0;
    const bool mark = c >= 0 && length > 0 && (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
    if (!letter && !mark) {
      flush();
      continue;
    }
    const UChar32 lower = u_tolower(c);
    uint8_t buf[U8_MAX_LENGTH];
    int32_t k = 0;
    U8_APPEND_UNSAFE(buf, k, lower);
    current.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(k));
    ++length;
  }
  flush();
}

}  // namespace loupe
