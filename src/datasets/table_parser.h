// Parses uploaded files into a RawTable: CSV and TSV (RFC 4180 quoting, CRLF or LF,
// quoted line breaks), a JSON array of objects, and JSON Lines. Errors name the line
// and column, e.g. "line 12, column 3: unterminated quoted field".
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "datasets/table.h"

namespace loupe::datasets {

enum class FileFormat { kCsv, kTsv, kJson, kJsonl };

// From a file name's extension (.csv .tsv .tab .json .jsonl .ndjson); nullopt if unknown.
std::optional<FileFormat> FormatFromName(const std::string& file_name);
std::optional<FileFormat> ParseFormat(const std::string& s);  // "csv", "tsv", "json", "jsonl"
const char* FormatName(FileFormat f);

struct ParseLimits {
  size_t max_rows = 5'000'000;
  size_t max_columns = 10'000;
  // Rows x columns. Checked row by row as the file is read, so a file over it is
  // refused (413) having built no more than this many cells. At most about 40 bytes a
  // cell while parsing (a text cell in its column): 20 M cells, under 1 GB.
  size_t max_cells = 20'000'000;
};

Result<RawTable> ParseTable(std::string_view content, FileFormat format, const ParseLimits& limits = {});

// Cells that mean "no value": "", NA, N/A, null, NULL, None, NaN, nan.
bool IsMissingToken(std::string_view cell);

}  // namespace loupe::datasets
