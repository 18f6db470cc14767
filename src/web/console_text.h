// A console line as a terminal leaves it: ANSI escape sequences (colours, cursor moves)
// removed, and of a line a progress bar redrew with "\r", only what follows the last one.
#pragma once

#include <string>
#include <string_view>

namespace loupe {

std::string TerminalText(std::string_view line);

}  // namespace loupe
