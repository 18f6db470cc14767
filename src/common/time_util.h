// Wall-clock helpers. Loupe keeps times as microseconds since the Unix epoch (UTC)
// and shows them as ISO-8601 strings with a +00:00 offset, the form SwanLab uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loupe {

int64_t NowMicros();
// 1742533086387383 -> "2025-03-21T04:58:06.387383+00:00"
std::string FormatIsoMicros(int64_t micros);
// Appends the same text to `out` without allocating a temporary.
void AppendIsoMicros(std::string& out, int64_t micros);
// ISO 8601 as people and Python write it -> micros since the epoch, UTC: YYYY-MM-DD,
// optionally followed by [T or space]HH:MM[:SS[.ffffff...]] and Z or ±HH:MM (datasets'
// datetime columns, CLaaS's timestamps). Nothing for anything else.
std::optional<int64_t> ParseIsoMicros(std::string_view text);

}  // namespace loupe
