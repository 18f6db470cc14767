#include "common/time_util.h"

#include <chrono>

#include "common/clock.h"

namespace loupe {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian); Howard Hinnant's
// days_from_civil inverse. Chart responses format 1,500 timestamps, so this avoids
// gmtime_r and snprintf on that path.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

char* Digits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

}  // namespace

void AppendIsoMicros(std::string& out, int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  char buf[40];
  char* p = buf;
  p = Digits(p, year, 4);
  *p++ = '-';
  p = Digits(p, month, 2);
  *p++ = '-';
  p = Digits(p, day, 2);
  *p++ = 'T';
  p = Digits(p, rem / 3600, 2);
  *p++ = ':';
  p = Digits(p, rem / 60 % 60, 2);
  *p++ = ':';
  p = Digits(p, rem % 60, 2);
  *p++ = '.';
  p = Digits(p, frac, 6);
  for (const char* tz = "+00:00"; *tz;) *p++ = *tz++;
  out.append(buf, static_cast<size_t>(p - buf));
}

std::string FormatIsoMicros(int64_t micros) {
  std::string s;
  AppendIsoMicros(s, micros);
  return s;
}

}  // namespace loupe

namespace loupe {

namespace {
class WallClock final : public Clock {
 public:
  int64_t NowMicros() override { return loupe::NowMicros(); }
};
}  // namespace

Clock& SystemClock() {
  static WallClock clock;
  return clock;
}

}  // namespace loupe
