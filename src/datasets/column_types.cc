#include "datasets/column_types.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace loupe::datasets {

namespace {

std::string_view Trim(std::string_view s) {
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

std::optional<double> ParseNumber(std::string_view raw) {
  std::string_view s = Trim(raw);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  if (ec != std::errc() || end != s.data() + s.size()) {
    if (s == "inf" || s == "Infinity" || s == "+Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-inf" || s == "-Infinity") return -std::numeric_limits<double>::infinity();
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ParseBool(std::string_view raw) {
  std::string s(Trim(raw));
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  return std::nullopt;
}

// YYYY-MM-DD, optionally followed by [T ]HH:MM[:SS[.ffffff]] and Z or ±HH:MM.
std::optional<int64_t> ParseDatetime(std::string_view raw) {
  std::string_view s = Trim(raw);
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

namespace {

// An integer written with more digits than a double holds (beyond 2^53, like an ID
// 12345678901234567): read as a number it would change, so such a column stays text.
bool IsInexactInteger(std::string_view raw) {
  std::string_view s = Trim(raw);
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  if (s.size() < 16 || s.size() > 400) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  double v = 0;
  if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc()) return true;
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return res.ec != std::errc() || std::string_view(buf, static_cast<size_t>(res.ptr - buf)) != s;
}

}  // namespace

ColumnType InferColumnType(const RawColumn& column) {
  bool all_bool = true, all_num = true, all_date = true;
  size_t present = 0, total_len = 0;
  std::unordered_set<std::string_view> distinct;
  for (size_t r = 0; r < column.cells.size(); ++r) {
    const std::optional<std::string_view> cell = column.cells[r];
    if (!cell) continue;
    ++present;
    total_len += cell->size();
    if (distinct.size() <= 1000) distinct.insert(*cell);
    if (all_bool && !ParseBool(*cell)) all_bool = false;
    if (all_num && (!ParseNumber(*cell) || IsInexactInteger(*cell))) all_num = false;
    if (all_date && !ParseDatetime(*cell)) all_date = false;
  }
  if (present == 0) return ColumnType::kText;
  if (all_bool) return ColumnType::kBoolean;
  if (all_num) return ColumnType::kNumeric;
  if (all_date) return ColumnType::kDatetime;
  // Labels: short values that repeat. Free text: long values, or mostly unique ones.
  double avg_len = static_cast<double>(total_len) / present;
  size_t limit = std::max<size_t>(20, present / 20);
  if (avg_len <= 40 && distinct.size() <= std::min<size_t>(limit, 1000) && distinct.size() < present) {
    return ColumnType::kCategorical;
  }
  return ColumnType::kText;
}

Result<Column> ConvertColumn(const RawColumn& raw, ColumnType type) {
  Column c;
  c.name = raw.name;
  c.type = type;
  const size_t n = raw.cells.size();
  auto bad = [&](size_t row, std::string_view value) {
    std::string shown = value.size() > 60 ? std::string(value.substr(0, 60)) + "…" : std::string(value);
    return Status::InvalidArgument("column \"" + raw.name + "\", row " + std::to_string(row + 1) + ": \"" + shown +
                                   "\" is not " + (type == ColumnType::kDatetime ? "a date" : std::string("a ") + ColumnTypeName(type) + " value"));
  };
  switch (type) {
    case ColumnType::kNumeric:
      c.numbers.reserve(n);
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
          continue;
        }
        auto v = ParseNumber(*raw.cells[r]);
        if (!v) return bad(r, *raw.cells[r]);
        c.numbers.push_back(*v);
      }
      break;
    case ColumnType::kBoolean:
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.flags.push_back(-1);
          continue;
        }
        auto v = ParseBool(*raw.cells[r]);
        if (!v) {
          auto num = ParseNumber(*raw.cells[r]);  // 0/1 are accepted when the user asks for booleans
          if (!num || (*num != 0 && *num != 1)) return bad(r, *raw.cells[r]);
          v = *num == 1;
        }
        c.flags.push_back(*v ? 1 : 0);
      }
      break;
    case ColumnType::kDatetime:
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.micros.push_back(std::numeric_limits<int64_t>::min());
          continue;
        }
        auto v = ParseDatetime(*raw.cells[r]);
        if (!v) return bad(r, *raw.cells[r]);
        c.micros.push_back(*v);
      }
      break;
    case ColumnType::kCategorical: {
      std::unordered_map<std::string, uint32_t> index;
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.codes.push_back(std::numeric_limits<uint32_t>::max());
          continue;
        }
        auto [it, added] = index.emplace(*raw.cells[r], static_cast<uint32_t>(c.categories.size()));
        if (added) c.categories.emplace_back(*raw.cells[r]);
        c.codes.push_back(it->second);
      }
      break;
    }
    case ColumnType::kText:
      c.texts.reserve(n);
      c.missing.reserve(n);
      for (size_t r = 0; r < n; ++r) {
        const std::optional<std::string_view> cell = raw.cells[r];
        c.texts.emplace_back(cell.value_or(std::string_view()));
        c.missing.push_back(cell ? 0 : 1);
      }
      break;
  }
  return c;
}

}  // namespace loupe::datasets
