#include "llm/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace loupe::llm {

bool RetryableStatus(long http_status) {
  return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
         http_status == 504 || http_status == 529;
}

std::optional<int64_t> ParseRetryAfterMs(const std::string& value, int64_t now_unix_seconds) {
  size_t b = 0, e = value.size();
  while (b < e && std::isspace(static_cast<unsigned char>(value[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(value[e - 1]))) --e;
  const std::string v = value.substr(b, e - b);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return int64_t{999999999} * 1000;  // absurd, capped by the caller
    return std::stoll(v) * 1000;
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  char month[4] = {};
  char zone[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  char weekday[4] = {};
  if (std::sscanf(v.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", weekday, &day, month, &year, &hh, &mm, &ss, zone) != 8 ||
      std::string(zone) != "GMT") {
    return std::nullopt;
  }
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string(month) == kMonths[i]) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  const int64_t at = static_cast<int64_t>(timegm(&tm));
  return std::max<int64_t>(0, at - now_unix_seconds) * 1000;
}

std::optional<int64_t> RetryDelayMs(const RetryPolicy& policy, int next_attempt, long http_status,
                                    const std::string& retry_after, int64_t now_unix_seconds) {
  if (next_attempt > policy.max_attempts || !RetryableStatus(http_status)) return std::nullopt;
  if (std::optional<int64_t> asked = ParseRetryAfterMs(retry_after, now_unix_seconds)) {
    return std::min(*asked, policy.max_delay_ms);
  }
  int64_t delay = policy.base_delay_ms;
  for (int i = 2; i < next_attempt && delay < policy.max_delay_ms; ++i) delay *= 2;
  return std::min(delay, policy.max_delay_ms);
}

}  // namespace loupe::llm
