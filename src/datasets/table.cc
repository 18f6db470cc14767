#include "datasets/table.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace loupe::datasets {

const char* ColumnTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kNumeric: return "numeric";
    case ColumnType::kCategorical: return "categorical";
    case ColumnType::kText: return "text";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kDatetime: return "datetime";
  }
  return "text";
}

std::optional<ColumnType> ParseColumnType(const std::string& s) {
  for (ColumnType t : {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kText, ColumnType::kBoolean,
                       ColumnType::kDatetime}) {
    if (s == ColumnTypeName(t)) return t;
  }
  return std::nullopt;
}

size_t Column::size() const {
  switch (type) {
    case ColumnType::kNumeric: return numbers.size();
    case ColumnType::kBoolean: return flags.size();
    case ColumnType::kDatetime: return micros.size();
    case ColumnType::kCategorical: return codes.size();
    case ColumnType::kText: return texts.size();
  }
  return 0;
}

bool Column::IsMissing(size_t row) const {
  switch (type) {
    case ColumnType::kNumeric: return std::isnan(numbers[row]);
    case ColumnType::kBoolean: return flags[row] < 0;
    case ColumnType::kDatetime: return micros[row] == std::numeric_limits<int64_t>::min();
    case ColumnType::kCategorical: return codes[row] == std::numeric_limits<uint32_t>::max();
    case ColumnType::kText: return missing[row] != 0;
  }
  return true;
}

std::string Column::CellText(size_t row) const {
  if (IsMissing(row)) return "";
  switch (type) {
    case ColumnType::kNumeric: {
      // Shortest form that reads back the same ("10", not "1e+01" as "%.1g" gives).
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), numbers[row]);
      return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
    }
    case ColumnType::kBoolean:
      if (categories.size() == 2) return categories[flags[row] ? 1 : 0];
      return flags[row] ? "true" : "false";
    case ColumnType::kDatetime: {
      std::time_t t = static_cast<std::time_t>(micros[row] / 1000000);
      if (micros[row] < 0 && micros[row] % 1000000) --t;
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[40];
      std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
      return buf;
    }
    case ColumnType::kCategorical: return categories[codes[row]];
    case ColumnType::kText: return texts[row];
  }
  return "";
}

const Column* Table::Find(const std::string& name) const {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace loupe::datasets
