#include "datasets/table_parser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>

#include "common/bounded_json.h"

namespace loupe::datasets {

namespace {

using json = nlohmann::ordered_json;  // columns keep the order of the file

std::string Where(size_t line, size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
}

// `s` with each byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
// Column names end up in JSON that is serialised strictly (the catalogue row), so a
// Latin-1 header ("caf\xe9") failed the upload with an exception; cells are shown
// with the same replacement when they are serialised.
std::string ValidUtf8(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form per length
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    uint32_t cp = c & (0x7F >> n);
    for (size_t k = 1; ok && k < n; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    ok = ok && (n == 1 || (cp >= kMin[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF)));
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::optional<std::string_view> Cell(std::string_view value) {
  if (IsMissingToken(value)) return std::nullopt;
  return value;
}

std::string Thousands(size_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// rows x columns over the limit: refused before the rest of the file is read.
Status TooManyCells(size_t rows, size_t columns, const ParseLimits& limits, const std::string& where) {
  return Status::TooLarge(where + "the file has more than " + Thousands(limits.max_cells) + " cells (rows x columns: " +
                          Thousands(columns) + " columns reach it at row " + Thousands(rows) +
                          "); the limit is " + Thousands(limits.max_cells) +
                          " cells: upload fewer rows or columns");
}

// Collects bad rows as the parsers find them; Finish turns them into the parse's error
// unless they are to be skipped.
class BadRows {
 public:
  explicit BadRows(const ParseOptions& options) : options_(options) {}
  void SetHeader(std::string_view header) { report_.header = std::string(header); }
  void Add(size_t line, std::string reason, std::string_view text) {
    ++report_.count;
    if (report_.first.size() < BadRowReport::kListed) report_.first.push_back({line, std::move(reason)});
    if (options_.skip_bad_rows) {
      report_.lines.append(text);
      if (report_.lines.empty() || report_.lines.back() != '\n') report_.lines += '\n';
    }
  }
  Status Finish() {
    if (report_.count > 0 && !options_.skip_bad_rows) {
      std::string msg = std::to_string(report_.count) + (report_.count == 1 ? " bad row: " : " bad rows: ");
      for (size_t k = 0; k < report_.first.size() && k < 10; ++k) {
        msg += (k ? "; " : "") + (report_.first[k].line ? "line " + std::to_string(report_.first[k].line) + ": " : "") +
               report_.first[k].reason;
      }
      if (report_.count > 10) msg += "; and " + std::to_string(report_.count - 10) + " more";
      msg += options_.suggest_skip
                 ? ". Fix them, or upload again with skip_bad_rows to leave them out (they are listed and kept for download)"
                 : ". Fix them and send the file again";
      return Status::InvalidArgument(msg);
    }
    if (options_.report) *options_.report = std::move(report_);
    return Status::Ok();
  }

 private:
  const ParseOptions& options_;
  BadRowReport report_;
};

// The end of the physical line holding byte `from`: where its line break ("\n", "\r\n"
// or a lone "\r", as the parser takes them) starts, or the end of the input.
size_t LineEnd(std::string_view in, size_t from) {
  const size_t brk = in.find_first_of("\r\n", from);
  return brk == std::string_view::npos ? in.size() : brk;
}

// Past the line break at `at` (one of "\n", "\r\n", "\r"); `at` itself at the end.
size_t PastLineBreak(std::string_view in, size_t at) {
  if (at >= in.size()) return at;
  return in[at] == '\r' && at + 1 < in.size() && in[at + 1] == '\n' ? at + 2 : at + 1;
}

// Line breaks in [from, to), a "\r\n" counting once.
size_t LineBreaks(std::string_view in, size_t from, size_t to) {
  size_t n = 0;
  for (size_t k = from; k < to; ++k) {
    if (in[k] == '\n' || (in[k] == '\r' && !(k + 1 < to && in[k + 1] == '\n'))) ++n;
  }
  return n;
}

std::string_view WithoutCr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

Result<RawTable> ParseDelimited(std::string_view in, char delim, const ParseLimits& limits, const ParseOptions& options) {
  RawTable table;
  BadRows bad(options);
  std::vector<std::string> record;
  std::string field;
  size_t line = 1, record_line = 1, col = 1;
  bool header_done = false;
  size_t i = 0;
  if (in.size() >= 3 && in.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 BOM
  size_t record_start = i;
  // A record that cannot be read is left out from its start to the end of the physical
  // line where reading failed; parsing resumes on the next line.
  // The report names the line the row starts on, as for a row with the wrong number of fields.
  auto skip_broken = [&](size_t at_line, size_t at_col, const std::string& what, size_t fail_at) -> Status {
    if (!header_done) return Status::InvalidArgument(Where(at_line, at_col) + what);
    const size_t stop = LineEnd(in, fail_at);
    bad.Add(record_line, "column " + std::to_string(at_col) + ": " + what, in.substr(record_start, stop - record_start));
    line += LineBreaks(in, fail_at, stop);
    i = PastLineBreak(in, stop);
    ++line;
    record_line = line;
    col = 1;
    record.clear();
    field.clear();
    record_start = i;
    return Status::Ok();
  };
  auto end_record = [&](size_t record_end) -> Status {
    if (record.size() == 1 && record[0].empty() && field.empty()) {  // blank line
      record.clear();
      return Status::Ok();
    }
    if (!header_done) {
      if (record.size() > limits.max_columns) {
        return Status::InvalidArgument("line 1: " + std::to_string(record.size()) + " columns; the limit is " +
                                       std::to_string(limits.max_columns));
      }
      std::map<std::string, int> seen;
      for (size_t c = 0; c < record.size(); ++c) {
        std::string name = ValidUtf8(record[c]);
        if (name.empty()) name = "column_" + std::to_string(c + 1);
        if (seen[name]++) {
          return Status::InvalidArgument(Where(record_line, c + 1) + "duplicate column name \"" + name + "\"");
        }
        table.columns.push_back({name, {}});
      }
      bad.SetHeader(in.substr(record_start, record_end - record_start));
      header_done = true;
    } else {
      if (record.size() != table.columns.size()) {
        bad.Add(record_line, "expected " + std::to_string(table.columns.size()) + " fields, found " + std::to_string(record.size()),
                WithoutCr(in.substr(record_start, record_end - record_start)));
        record.clear();
        return Status::Ok();
      }
      if (table.rows() >= limits.max_rows) {
        return Status::TooLarge("more than " + std::to_string(limits.max_rows) + " rows");
      }
      if ((table.rows() + 1) * record.size() > limits.max_cells) {
        return TooManyCells(table.rows() + 1, record.size(), limits, "line " + std::to_string(record_line) + ": ");
      }
      for (size_t c = 0; c < record.size(); ++c) table.columns[c].cells.push_back(Cell(record[c]));
    }
    record.clear();
    return Status::Ok();
  };
  while (i < in.size()) {
    char c = in[i];
    if (c == '"' && field.empty()) {
      // Quoted field: runs to the closing quote; "" is a quote.
      const size_t start_line = line, start_col = col, open_at = i;
      ++i;
      bool closed = false;
      while (i < in.size()) {
        if (in[i] == '"') {
          if (i + 1 < in.size() && in[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (in[i] == '\n') ++line;
        field += in[i++];
      }
      if (!closed) {
        line = start_line;
        LOUPE_RETURN_IF_ERROR(skip_broken(start_line, start_col, "unterminated quoted field", open_at));
        continue;
      }
      if (i < in.size() && in[i] != delim && in[i] != '\n' && in[i] != '\r') {
        LOUPE_RETURN_IF_ERROR(skip_broken(line, col, "unexpected character after a closing quote", i));
      }
      continue;
    }
    if (c == delim) {
      record.push_back(std::move(field));
      field.clear();
      ++col;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      record.push_back(std::move(field));
      field.clear();
      LOUPE_RETURN_IF_ERROR(end_record(i));
      if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      ++i;
      ++line;
      record_line = line;
      col = 1;
      record_start = i;
      continue;
    }
    field += c;
    ++i;
  }
  if (!field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    LOUPE_RETURN_IF_ERROR(end_record(in.size()));
  }
  if (!header_done) return Status::InvalidArgument("the file is empty: expected a header line");
  LOUPE_RETURN_IF_ERROR(bad.Finish());
  return table;
}

void PushJsonCell(CellList& cells, const json& v) {
  if (v.is_null()) {
    cells.push_back(std::nullopt);
  } else if (v.is_string()) {
    cells.push_back(Cell(v.get_ref<const std::string&>()));
  } else if (v.is_boolean()) {
    cells.push_back(v.get<bool>() ? "true" : "false");
  } else {
    cells.push_back(v.dump());
  }
}

// The first field of a record holding a nested value (an object or array), or "".
std::string NestedField(const json& record) {
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (it->is_object() || it->is_array()) return it.key();
  }
  return "";
}

std::string NestedReason(const std::string& field) {
  return "field \"" + field + "\" holds a nested value (only flat objects are rows)";
}

// Records are objects; columns are the union of keys in first-seen order.
Result<RawTable> FromRecords(const std::vector<json>& records, const std::vector<size_t>& lines, const ParseLimits& limits) {
  RawTable table;
  std::map<std::string, size_t> index;
  for (size_t r = 0; r < records.size(); ++r) {
    for (auto it = records[r].begin(); it != records[r].end(); ++it) {
      if (!index.count(it.key())) {
        if (index.size() >= limits.max_columns) return Status::InvalidArgument("more than " + std::to_string(limits.max_columns) + " columns");
        const size_t next = index.size();
        index.emplace(it.key(), next);
      }
    }
  }
  // Every record has a cell in every column: refused before any is built.
  if (records.size() * index.size() > limits.max_cells) {
    return TooManyCells(limits.max_cells / std::max<size_t>(1, index.size()) + 1, index.size(), limits, "");
  }
  for (size_t r = 0; r < records.size(); ++r) {
    for (auto it = records[r].begin(); it != records[r].end(); ++it) {
      if (index.at(it.key()) == table.columns.size()) {
        table.columns.push_back({it.key(), {}});
        table.columns.back().cells.push_missing(r);
      }
    }
    for (RawColumn& c : table.columns) {
      auto it = records[r].find(c.name);
      if (it == records[r].end()) {
        c.cells.push_back(std::nullopt);
      } else {
        PushJsonCell(c.cells, *it);
      }
    }
  }
  if (table.columns.empty()) return Status::InvalidArgument("no records with fields");
  return table;
}

size_t LineOf(std::string_view in, size_t byte) {
  return 1 + static_cast<size_t>(std::count(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min(byte, in.size())), '\n'));
}

Result<RawTable> ParseJsonArray(std::string_view in, const ParseLimits& limits, const ParseOptions& options) {
  BadRows bad(options);
  json doc;
  if (JsonNestingDepth(in) > kMaxJsonDepth) {
    return Status::InvalidArgument("the JSON is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    doc = json::parse(in.begin(), in.end());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument("line " + std::to_string(LineOf(in, e.byte > 0 ? e.byte - 1 : 0)) + ": invalid JSON (" +
                                   std::string(e.what()).substr(std::string(e.what()).find(':') + 2) + ")");
  } catch (const json::exception& e) {  // a number too large for a double (1e400) is out_of_range, not parse_error
    return Status::InvalidArgument("invalid JSON (" + std::string(e.what()).substr(std::string(e.what()).find(']') + 2) + ")");
  }
  if (!doc.is_array()) return Status::InvalidArgument("expected a JSON array of objects");
  if (doc.size() > limits.max_rows) return Status::TooLarge("more than " + std::to_string(limits.max_rows) + " rows");
  std::vector<json> records;
  std::vector<size_t> lines;
  for (size_t r = 0; r < doc.size(); ++r) {
    const std::string where = "element " + std::to_string(r + 1) + ": ";
    if (!doc[r].is_object()) {
      bad.Add(0, where + "expected an object", doc[r].dump(-1, ' ', false, json::error_handler_t::replace));
      continue;
    }
    if (const std::string nested = NestedField(doc[r]); !nested.empty()) {
      bad.Add(0, where + NestedReason(nested), doc[r].dump(-1, ' ', false, json::error_handler_t::replace));
      continue;
    }
    records.push_back(std::move(doc[r]));
    lines.push_back(0);
  }
  LOUPE_RETURN_IF_ERROR(bad.Finish());
  if (records.empty()) return Status::InvalidArgument("no records with fields");
  return FromRecords(records, lines, limits);
}

Result<RawTable> ParseJsonLines(std::string_view in, const ParseLimits& limits, const ParseOptions& options) {
  BadRows bad(options);
  std::vector<json> records;
  std::vector<size_t> lines;
  size_t line = 0, start = 0, widest = 0;
  while (start < in.size()) {
    size_t nl = in.find('\n', start);
    if (nl == std::string_view::npos) nl = in.size();
    ++line;
    std::string_view text = in.substr(start, nl - start);
    start = nl + 1;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (JsonNestingDepth(text) > kMaxJsonDepth) {
      bad.Add(line, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", WithoutCr(text));
      continue;
    }
    json j = ParseBoundedJson<json>(text);
    if (j.is_discarded()) {
      bad.Add(line, "invalid JSON", WithoutCr(text));
      continue;
    }
    if (!j.is_object()) {
      bad.Add(line, "expected a JSON object", WithoutCr(text));
      continue;
    }
    if (const std::string nested = NestedField(j); !nested.empty()) {
      bad.Add(line, NestedReason(nested), WithoutCr(text));
      continue;
    }
    if (records.size() >= limits.max_rows) return Status::TooLarge("more than " + std::to_string(limits.max_rows) + " rows");
    // Each record has at least as many columns as its own fields: refused while reading.
    widest = std::max(widest, j.size());
    if ((records.size() + 1) * widest > limits.max_cells) {
      return TooManyCells(records.size() + 1, widest, limits, "line " + std::to_string(line) + ": ");
    }
    records.push_back(std::move(j));
    lines.push_back(line);
  }
  LOUPE_RETURN_IF_ERROR(bad.Finish());
  if (records.empty()) return Status::InvalidArgument("the file has no records");
  return FromRecords(records, lines, limits);
}

}  // namespace

bool IsMissingToken(std::string_view cell) {
  return cell.empty() || cell == "NA" || cell == "N/A" || cell == "null" || cell == "NULL" || cell == "None" ||
         cell == "NaN" || cell == "nan";
}

std::optional<FileFormat> FormatFromName(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string ext = name.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "csv") return FileFormat::kCsv;
  if (ext == "tsv" || ext == "tab") return FileFormat::kTsv;
  if (ext == "json") return FileFormat::kJson;
  if (ext == "jsonl" || ext == "ndjson") return FileFormat::kJsonl;
  return std::nullopt;
}

std::optional<FileFormat> ParseFormat(const std::string& s) {
  for (FileFormat f : {FileFormat::kCsv, FileFormat::kTsv, FileFormat::kJson, FileFormat::kJsonl}) {
    if (s == FormatName(f)) return f;
  }
  return std::nullopt;
}

const char* FormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kCsv: return "csv";
    case FileFormat::kTsv: return "tsv";
    case FileFormat::kJson: return "json";
    case FileFormat::kJsonl: return "jsonl";
  }
  return "csv";
}

Result<RawTable> ParseTable(std::string_view content, FileFormat format, const ParseLimits& limits,
                            const ParseOptions& options) {
  switch (format) {
    case FileFormat::kCsv: return ParseDelimited(content, ',', limits, options);
    case FileFormat::kTsv: return ParseDelimited(content, '\t', limits, options);
    case FileFormat::kJson: return ParseJsonArray(content, limits, options);
    case FileFormat::kJsonl: return ParseJsonLines(content, limits, options);
  }
  return Status::InvalidArgument("unknown format");
}

}  // namespace loupe::datasets
