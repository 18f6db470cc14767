// A dataset in memory: named, typed columns. Parsers produce text cells; ConvertColumn
// turns them into the column's type. Missing values are kept as missing, never as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loupe::datasets {

enum class ColumnType { kNumeric, kCategorical, kText, kBoolean, kDatetime };

const char* ColumnTypeName(ColumnType t);  // "numeric", "categorical", ...
std::optional<ColumnType> ParseColumnType(const std::string& s);

// Cells as read from the file; nullopt = missing (empty, NA, null, ...).
struct RawColumn {
  std::string name;
  std::vector<std::optional<std::string>> cells;
};

struct RawTable {
  std::vector<RawColumn> columns;
  size_t rows() const { return columns.empty() ? 0 : columns[0].cells.size(); }
};

// One typed column. Exactly one of the value vectors is used, by type:
// numeric -> numbers (NaN = missing); boolean -> flags (-1 missing, 0, 1);
// datetime -> micros (INT64_MIN missing); categorical -> codes into `categories`
// (UINT32_MAX missing); text -> texts (+ missing mask).
struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
  bool type_overridden = false;
  std::vector<double> numbers;
  std::vector<int8_t> flags;
  std::vector<int64_t> micros;
  std::vector<uint32_t> codes;
  std::vector<std::string> categories;
  std::vector<std::string> texts;
  std::vector<uint8_t> missing;  // text columns: 1 where missing
  size_t size() const;
  bool IsMissing(size_t row) const;
  std::string CellText(size_t row) const;  // "" when missing
};

struct Table {
  std::vector<Column> columns;
  size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
  const Column* Find(const std::string& name) const;  // nullptr when absent
};

}  // namespace loupe::datasets
