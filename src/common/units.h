// Sizes in messages: exact bytes, and MiB (rounded) for people.
#pragma once

#include <cstdint>
#include <string>

namespace loupe {

// "73527427 bytes (70 MiB)"
inline std::string BytesWithMib(uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string((bytes + (uint64_t{1} << 19)) >> 20) + " MiB)";
}

}  // namespace loupe
