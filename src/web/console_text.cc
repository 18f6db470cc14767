#include "web/console_text.h"

namespace loupe {

std::string TerminalText(std::string_view line) {
  // A "\r" moves the cursor back: what follows overwrites the line; nothing after it
  // leaves the line as it was.
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (size_t cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\x1b') {
      out += line[i];
      continue;
    }
    if (i + 1 >= line.size()) break;
    char kind = line[i + 1];
    size_t j = i + 2;
    if (kind == '[') {  // CSI: parameters, then one final byte in @..~
      while (j < line.size() && !(line[j] >= '@' && line[j] <= '~')) ++j;
      i = j;
    } else if (kind == ']') {  // OSC: up to BEL or ESC backslash
      while (j < line.size() && line[j] != '\x07' && !(line[j] == '\x1b' && j + 1 < line.size() && line[j + 1] == '\\')) ++j;
      i = (j < line.size() && line[j] == '\x1b') ? j + 1 : j;
    } else if (kind == '(' || kind == ')') {  // character set selection: one more byte
      i = j;
    } else {
      i = i + 1;  // a two-byte escape
    }
  }
  return out;
}

}  // namespace loupe
