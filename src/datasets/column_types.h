// Column type inference and conversion.
//   boolean     every value is true/false/yes/no (any case)
//   numeric     every value parses as a finite or infinite decimal number
//   datetime    every value is an ISO 8601 date or date-time
//   categorical few distinct, short values (labels, classes)
//   text        anything else (free text, ids)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "datasets/table.h"

namespace loupe::datasets {

ColumnType InferColumnType(const RawColumn& column);

// Converts text cells to `type`; a value that does not fit is an error naming the row
// (1-based, data rows) and the value, or with `coerce` a missing value, counted in
// Column::coerced ("three" in a numeric column).
Result<Column> ConvertColumn(const RawColumn& column, ColumnType type, bool coerce = false);

std::optional<double> ParseNumber(std::string_view s);
std::optional<bool> ParseBool(std::string_view s);

}  // namespace loupe::datasets
