// Fuzz target: the dataset readers (datasets/table_parser.h: CSV, TSV, a JSON array of
// objects, JSON Lines), then what an upload does next: infer each column's type and
// convert its cells (datasets/column_types.h).
// Input: one byte choosing the format (its value mod 4: csv, tsv, json, jsonl; bit 2:
// skip bad rows), then the file's bytes. Checks, beyond "no crash, leak or UB": a parsed
// table is rectangular and within the limits, its column names are UTF-8, every column
// converts to its inferred type and to text (and coerced to numeric), and skipping bad
// rows keeps every row a strict parse keeps, reporting as many bad rows as it lists.
// Seeds: fuzz/corpus/dataset_table/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "datasets/column_types.h"
#include "datasets/table_parser.h"

namespace ds = loupe::datasets;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr ds::FileFormat kFormats[] = {ds::FileFormat::kCsv, ds::FileFormat::kTsv, ds::FileFormat::kJson,
                                                ds::FileFormat::kJsonl};
  const ds::FileFormat format = kFormats[data[0] % 4];
  const std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  ds::ParseLimits limits;
  limits.max_rows = 2000;  // small, so the limits themselves are reached too
  limits.max_columns = 200;
  const bool skip = (data[0] & 4) != 0;
  ds::BadRowReport report;
  loupe::Result<ds::RawTable> raw = ds::ParseTable(content, format, limits, ds::ParseOptions{skip, &report});
  if (!raw.ok()) return 0;
  if (skip) {
    if (report.first.size() > ds::BadRowReport::kListed || report.first.size() > report.count) std::abort();
    if (report.first.size() < std::min(report.count, ds::BadRowReport::kListed)) std::abort();
    if (report.count == 0) {
      // No bad rows: the strict parse reads the same table.
      loupe::Result<ds::RawTable> strict = ds::ParseTable(content, format, limits);
      if (!strict.ok() || strict->rows() != raw->rows() || strict->columns.size() != raw->columns.size()) std::abort();
    }
  }
  if (raw->columns.empty() || raw->columns.size() > limits.max_columns || raw->rows() > limits.max_rows) std::abort();
  for (const ds::RawColumn& c : raw->columns) {
    if (c.cells.size() != raw->rows()) std::abort();
    (void)nlohmann::json(c.name).dump();  // names are UTF-8: the catalogue serialises them strictly
    const ds::ColumnType type = ds::InferColumnType(c);
    loupe::Result<ds::Column> typed = ds::ConvertColumn(c, type);
    if (!typed.ok() || typed->size() != c.cells.size()) std::abort();
    for (size_t r = 0; r < typed->size(); ++r) (void)typed->CellText(r);
    loupe::Result<ds::Column> text = ds::ConvertColumn(c, ds::ColumnType::kText);
    if (!text.ok()) std::abort();
    loupe::Result<ds::Column> coerced = ds::ConvertColumn(c, ds::ColumnType::kNumeric, true);
    if (!coerced.ok() || coerced->size() != c.cells.size() || coerced->coerced > c.cells.size()) std::abort();
  }
  return 0;
}
