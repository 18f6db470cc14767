#include "datasets/column_types.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "common/number_text.h"
#include "common/time_util.h"

namespace loupe::datasets {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}


// The other value of a yes/no pair, spelled in the same case ("Yes" -> "No").
std::string Counterpart(std::string_view written, bool value) {
  std::string lower(written);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string other;
  if (lower == "yes" || lower == "no") other = value ? "no" : "yes";
  else if (lower == "true" || lower == "false") other = value ? "false" : "true";
  else return value ? "0" : "1";  // 0/1 read as booleans
  const bool all_upper = written.size() > 1 && std::all_of(written.begin(), written.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); });
  if (all_upper) {
    for (char& c : other) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (!written.empty() && std::isupper(static_cast<unsigned char>(written.front()))) {
    other.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(other.front())));
  }
  return other;
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
    // An ID beyond 2^53 (12345678901234567) would change if read as a number: text.
    if (all_num && (!ParseNumber(*cell) || !InexactIntegerDigits(Trim(*cell)).empty())) all_num = false;
    if (all_date && !ParseIsoMicros(*cell)) all_date = false;
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

Result<Column> ConvertColumn(const RawColumn& raw, ColumnType type, bool coerce) {
  Column c;
  c.name = raw.name;
  c.type = type;
  c.coerce = coerce;
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
        if (!v && coerce) {
          ++c.coerced;
          c.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
          continue;
        }
        if (!v) return bad(r, *raw.cells[r]);
        c.numbers.push_back(*v);
      }
      break;
    case ColumnType::kBoolean: {
      // Each value keeps the spelling it was first written in, so a yes/no column reads
      // back, and predicts, "yes" and "no" rather than true and false.
      std::optional<std::string> spelled[2];
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.flags.push_back(-1);
          continue;
        }
        auto v = ParseBool(*raw.cells[r]);
        if (!v) {
          auto num = ParseNumber(*raw.cells[r]);  // 0/1 are accepted when the user asks for booleans
          if ((!num || (*num != 0 && *num != 1)) && coerce) {
            ++c.coerced;
            c.flags.push_back(-1);
            continue;
          }
          if (!num || (*num != 0 && *num != 1)) return bad(r, *raw.cells[r]);
          v = *num == 1;
        }
        if (!spelled[*v]) spelled[*v] = ParseBool(*raw.cells[r]) ? std::string(Trim(*raw.cells[r])) : (*v ? "1" : "0");
        c.flags.push_back(*v ? 1 : 0);
      }
      if (spelled[0] || spelled[1]) {
        c.categories = {spelled[0] ? *spelled[0] : Counterpart(*spelled[1], true),
                        spelled[1] ? *spelled[1] : Counterpart(*spelled[0], false)};
      }
      break;
    }
    case ColumnType::kDatetime:
      for (size_t r = 0; r < n; ++r) {
        if (!raw.cells[r]) {
          c.micros.push_back(std::numeric_limits<int64_t>::min());
          continue;
        }
        auto v = ParseIsoMicros(*raw.cells[r]);
        if (!v && coerce) {
          ++c.coerced;
          c.micros.push_back(std::numeric_limits<int64_t>::min());
          continue;
        }
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
