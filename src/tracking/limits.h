// Limits on what one request may carry. Each has a documented default; every
// violation is answered with a message naming the limit (docs/api.md lists them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace loupe {

struct Limits {
  size_t max_body_bytes = 32u << 20;          // any JSON request body
  size_t max_points_per_request = 1000000;    // scalar points in one metrics batch
  size_t max_keys_per_request = 10000;        // distinct keys in one metrics batch
  size_t max_key_length = 255;                // bytes
  int64_t max_step = int64_t{1} << 53;        // steps are integers in [0, 2^53]
  double max_unix_seconds = 1e11;             // times ("ts") from 1970 to the year 5138
  size_t max_console_lines_per_request = 10000;
  size_t max_console_line_bytes = 65536;
  size_t max_media_bytes = 16u << 20;         // one image or audio file
  size_t max_json_field_bytes = 1u << 20;     // config, system metadata
  size_t max_name_length = 255;               // project, experiment and run names
};

}  // namespace loupe
