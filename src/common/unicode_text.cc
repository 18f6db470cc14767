#include "common/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>
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

void ForEachCaseFoldedWord(std::string_view text, const std::function<void(const std::string& word, size_t length)>& word) {
  std::string current, folded;
  size_t length = 0;
  auto flush = [&] {
    if (length > 0) {
      // Full case folding, as Python's str.casefold(): Straße and STRASSE, λόγος and
      // ΛΌΓΟΣ (a final sigma) are one word. A code point at a time cannot do either.
      folded.clear();
      icu::UnicodeString::fromUTF8(current).foldCase().toUTF8String(folded);
      word(folded, length);
    }
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
    uint8_t buf[U8_MAX_LENGTH];
    int32_t k = 0;
    U8_APPEND_UNSAFE(buf, k, c);
    current.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(k));
    ++length;
  }
  flush();
}

}  // namespace loupe
