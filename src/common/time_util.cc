#include "common/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace loupe {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void AppendIsoMicros(std::string& out, int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  char buf[48];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00",
                        tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday,
                        tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                        static_cast<long long>(frac));
  out.append(buf, static_cast<size_t>(n));
}

std::string FormatIsoMicros(int64_t micros) {
  std::string s;
  AppendIsoMicros(s, micros);
  return s;
}

}  // namespace loupe
