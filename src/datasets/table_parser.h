// Parses uploaded files into a RawTable: CSV and TSV (RFC 4180 quoting, CRLF or LF,
// quoted line breaks), a JSON array of objects, and JSON Lines. Errors name the line
// and column, e.g. "line 12, column 3: unterminated quoted field".
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Rows that cannot be read: a CSV/TSV record with the wrong number of fields or broken
// quoting, a JSON Lines line that is not a flat JSON object, a JSON array element that
// is not one. Every one is found, not just the first.
struct BadRow {
  size_t line = 0;  // 1-based line in the file where the row starts (JSON array: 0; the reason names the element)
  std::string reason;
};
struct BadRowReport {
  static constexpr size_t kListed = 100;
  size_t count = 0;
  std::vector<BadRow> first;  // the first kListed
  std::string lines;          // the bad rows' text as written, each ending in "\n"
  std::string header;         // CSV/TSV: the header line as written, without its line break
};

// skip_bad_rows false: any bad row fails the parse, the message naming how many there
// are and the first ten. true: they are left out and reported in `report`.
struct ParseOptions {
  bool skip_bad_rows = false;
  BadRowReport* report = nullptr;
  bool suggest_skip = true;  // the error names skip_bad_rows (false where it cannot be used)
};

Result<RawTable> ParseTable(std::string_view content, FileFormat format, const ParseLimits& limits = {},
                            const ParseOptions& options = {});

// Cells that mean "no value": "", NA, N/A, null, NULL, None, NaN, nan.
bool IsMissingToken(std::string_view cell);

}  // namespace loupe::datasets
