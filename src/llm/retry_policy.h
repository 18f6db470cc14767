// When a failed model call is tried again, and after how long: 429 and 5xx (and
// Anthropic's 529 "overloaded") are retried with exponential backoff, honouring the
// provider's Retry-After (seconds or an HTTP date) up to a cap; nothing else is. A
// streamed call is retried only before its first byte reached the user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace loupe::llm {

struct RetryPolicy {
  int max_attempts = 3;             // calls in all, the first included
  int64_t base_delay_ms = 500;      // before the 2nd attempt; doubles after each
  int64_t max_delay_ms = 20000;     // no wait, Retry-After included, is longer
};

bool RetryableStatus(long http_status);

// The wait before attempt `next_attempt` (2 for the first retry), or nullopt when the
// call should not be retried. `retry_after` is the header's value ("" when absent);
// `now_unix_seconds` reads an HTTP-date form against the clock.
std::optional<int64_t> RetryDelayMs(const RetryPolicy& policy, int next_attempt, long http_status,
                                    const std::string& retry_after, int64_t now_unix_seconds);

// Retry-After in milliseconds: delta-seconds, or an IMF-fixdate in the future; nullopt
// when absent or unreadable.
std::optional<int64_t> ParseRetryAfterMs(const std::string& value, int64_t now_unix_seconds);

}  // namespace loupe::llm
