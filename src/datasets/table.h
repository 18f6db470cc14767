// A dataset in memory: named, typed columns. Parsers produce text cells; ConvertColumn
// turns them into the column's type. Missing values are kept as missing, never as 0.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loupe::datasets {

enum class ColumnType { kNumeric, kCategorical, kText, kBoolean, kDatetime };

const char* ColumnTypeName(ColumnType t);  // "numeric", "categorical", ...
std::optional<ColumnType> ParseColumnType(const std::string& s);

// A column's cells as read from the file; nullopt = missing (empty, NA, null, ...).
// The present cells' bytes lie back to back, with where each ends: about 8 bytes a
// cell plus its text, where a vector of optional strings takes 40 (a wide upload is
// mostly cells: 20 M of them took 800 MB that way).
class CellList {
 public:
  CellList() = default;
  CellList(std::initializer_list<std::optional<std::string_view>> cells) {
    for (const auto& c : cells) push_back(c);
  }
  size_t size() const { return ends_.size(); }
  std::optional<std::string_view> operator[](size_t i) const {
    if (ends_[i] & kMissing) return std::nullopt;
    const uint64_t start = i == 0 ? 0 : ends_[i - 1] & ~kMissing;
    return std::string_view(bytes_).substr(start, ends_[i] - start);
  }
  void push_back(std::optional<std::string_view> cell) {
    if (cell) bytes_.append(*cell);
    ends_.push_back(bytes_.size() | (cell ? 0 : kMissing));
  }
  void push_missing(size_t n) { ends_.insert(ends_.end(), n, bytes_.size() | kMissing); }

 private:
  static constexpr uint64_t kMissing = uint64_t{1} << 63;
  std::string bytes_;
  std::vector<uint64_t> ends_;  // end offset in bytes_, | kMissing when missing
};

struct RawColumn {
  std::string name;
  CellList cells;
};

struct RawTable {
  std::vector<RawColumn> columns;
  size_t rows() const { return columns.empty() ? 0 : columns[0].cells.size(); }
};

// One typed column. Exactly one of the value vectors is used, by type:
// numeric -> numbers (NaN = missing); boolean -> flags (-1 missing, 0, 1);
// datetime -> micros (INT64_MIN missing); categorical -> codes into `categories`
// (UINT32_MAX missing); text -> texts (+ missing mask). A boolean column's
// `categories` holds its two values as written ({"no", "yes"}), or nothing for
// "false"/"true".
struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
  bool type_overridden = false;
  // Set by hand with coerce: values that did not convert to the type became missing
  // (`coerced` of them) instead of refusing the type.
  bool coerce = false;
  size_t coerced = 0;
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
