// The compact columnar file a dataset is kept in (<data-dir>/datasets/<id>/columns.bin):
// "LOUPEDS1", a u32 header length, a JSON header (rows; per column name, type,
// categories), then each column as a packed little-endian array: f64 numbers, i8
// booleans, i64 datetimes, u32 category codes, or for text a missing mask, u64 offsets
// and the bytes. Written to a temporary file and renamed, so a crash never leaves a
// half-written dataset.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"
#include "datasets/table.h"

namespace loupe::datasets {

Status WriteColumnFile(const std::string& path, const Table& table);
Result<Table> ReadColumnFile(const std::string& path);

// Columns [first, first + count) of the file and its row and column counts. The other
// columns are skipped, not read: a page of a 10,000-column dataset reads its page.
struct ColumnSlice {
  Table table;
  size_t rows = 0;
  size_t total_columns = 0;
  size_t first = 0;  // index of table.columns[0] in the file
};
Result<ColumnSlice> ReadColumnFileSlice(const std::string& path, size_t first, size_t count);
// The columns the file holds, from its header alone, as the catalogue lists them:
// [{name, type, overridden}].
Result<nlohmann::json> ReadColumnFileColumns(const std::string& path);

}  // namespace loupe::datasets
