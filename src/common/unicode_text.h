// Text as people count it: characters (Unicode code points), not UTF-8 bytes, and words
// compared without case in every script (café and CAFÉ, Straße and STRASSE are one
// word), through ICU.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace loupe {

// Code points in UTF-8 text; a byte that is not valid UTF-8 counts as one.
size_t Utf8Length(std::string_view text);

// Calls `word` with each run of letters (and the combining marks that follow them),
// case-folded (Unicode full folding, as Python's str.casefold()), and its length in code
// points as written. Anything else separates words.
void ForEachCaseFoldedWord(std::string_view text, const std::function<void(const std::string& word, size_t length)>& word);

}  // namespace loupe
