#include "common/time_util.h"

#include <chrono>
#include <ctime>

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

namespace {

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<int64_t> ParseIsoMicros(std::string_view raw) {
  std::string_view s = TrimBlanks(raw);
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' || !Digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t i = 10;
  int64_t frac_micros = 0, offset_seconds = 0;
  if (i < s.size()) {
    if ((s[i] != 'T' && s[i] != ' ') || !Digits(s, i + 1, 2, h) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, mi)) {
      return std::nullopt;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!Digits(s, i + 1, 2, sec)) return std::nullopt;
      i += 3;
      if (i < s.size() && s[i] == '.') {
        ++i;
        int64_t scale = 100000;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (scale > 0) frac_micros += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) return std::nullopt;
      }
    }
    if (i < s.size()) {
      if (s[i] == 'Z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, om)) return std::nullopt;
        offset_seconds = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        i += 6;
      }
    }
    if (i != s.size() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_seconds;
  return secs * 1000000 + frac_micros;
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
