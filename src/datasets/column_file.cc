#include "datasets/column_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/bounded_json.h"
#include "common/file_util.h"

namespace loupe::datasets {

namespace {

constexpr char kMagic[8] = {'L', 'O', 'U', 'P', 'E', 'D', 'S', '1'};

template <typename T>
void Put(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Reads n values of T at `pos`, if the file holds them.
template <typename T>
bool ReadArray(std::ifstream& f, uint64_t pos, uint64_t n, uint64_t file_size, std::vector<T>& out) {
  if (pos > file_size || n > (file_size - pos) / sizeof(T)) return false;
  out.resize(n);
  f.seekg(static_cast<std::streamoff>(pos));
  return n == 0 || static_cast<bool>(f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n * sizeof(T))));
}

// Bytes a column takes in the file: fixed for every type but text, whose size is its
// last offset (read from the file).
bool ColumnBytes(std::ifstream& f, ColumnType type, uint64_t pos, uint64_t rows, uint64_t file_size, uint64_t& bytes) {
  if (rows > file_size) return false;  // every type takes a byte a row or more
  switch (type) {
    case ColumnType::kNumeric: bytes = rows * sizeof(double); return true;
    case ColumnType::kBoolean: bytes = rows * sizeof(int8_t); return true;
    case ColumnType::kDatetime: bytes = rows * sizeof(int64_t); return true;
    case ColumnType::kCategorical: bytes = rows * sizeof(uint32_t); return true;
    case ColumnType::kText: {
      std::vector<uint64_t> last;
      if (!ReadArray(f, pos + rows + rows * sizeof(uint64_t), 1, file_size, last)) return false;
      bytes = rows + (rows + 1) * sizeof(uint64_t);
      if (last[0] > file_size - std::min(file_size, pos + bytes)) return false;
      bytes += last[0];
      return true;
    }
  }
  return false;
}

// One column's values at `pos`; false if the file is too short or inconsistent.
bool ReadColumn(std::ifstream& f, uint64_t pos, uint64_t rows, uint64_t file_size, Column& c) {
  switch (c.type) {
    case ColumnType::kNumeric: return ReadArray(f, pos, rows, file_size, c.numbers);
    case ColumnType::kBoolean: return ReadArray(f, pos, rows, file_size, c.flags);
    case ColumnType::kDatetime: return ReadArray(f, pos, rows, file_size, c.micros);
    case ColumnType::kCategorical:
      if (!ReadArray(f, pos, rows, file_size, c.codes)) return false;
      for (uint32_t code : c.codes) {
        if (code != UINT32_MAX && code >= c.categories.size()) return false;
      }
      return true;
    case ColumnType::kText: {
      std::vector<uint64_t> offsets;
      std::vector<char> bytes;
      if (!ReadArray(f, pos, rows, file_size, c.missing) || !ReadArray(f, pos + rows, rows + 1, file_size, offsets) ||
          !ReadArray(f, pos + rows + (rows + 1) * sizeof(uint64_t), offsets.back(), file_size, bytes)) {
        return false;
      }
      c.texts.reserve(rows);
      for (size_t r = 0; r < rows; ++r) {
        if (offsets[r] > offsets[r + 1] || offsets[r + 1] > bytes.size()) return false;
        c.texts.emplace_back(bytes.data() + offsets[r], offsets[r + 1] - offsets[r]);
      }
      return true;
    }
  }
  return false;
}

}  // namespace

Status WriteColumnFile(const std::string& path, const Table& table) {
  nlohmann::json header = {{"rows", table.rows()}, {"columns", nlohmann::json::array()}};
  for (const Column& c : table.columns) {
    nlohmann::json col = {{"name", c.name}, {"type", ColumnTypeName(c.type)}, {"overridden", c.type_overridden}};
    if (c.coerce) {
      col["coerce"] = true;
      col["coerced"] = c.coerced;
    }
    if (c.type == ColumnType::kCategorical || (c.type == ColumnType::kBoolean && c.categories.size() == 2)) {
      col["categories"] = c.categories;
    }
    header["columns"].push_back(col);
  }
  std::string h = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out(kMagic, sizeof(kMagic));
  uint32_t len = static_cast<uint32_t>(h.size());
  out.append(reinterpret_cast<const char*>(&len), sizeof(len));
  out += h;
  for (const Column& c : table.columns) {
    switch (c.type) {
      case ColumnType::kNumeric: Put(out, c.numbers); break;
      case ColumnType::kBoolean: Put(out, c.flags); break;
      case ColumnType::kDatetime: Put(out, c.micros); break;
      case ColumnType::kCategorical: Put(out, c.codes); break;
      case ColumnType::kText: {
        Put(out, c.missing);
        std::vector<uint64_t> offsets{0};
        for (const std::string& t : c.texts) offsets.push_back(offsets.back() + t.size());
        Put(out, offsets);
        for (const std::string& t : c.texts) out += t;
        break;
      }
    }
  }
  return WriteFileDurably(path, out, "the dataset's column file");
}

Result<Table> ReadColumnFile(const std::string& path) {
  LOUPE_ASSIGN_OR_RETURN(ColumnSlice all, ReadColumnFileSlice(path, 0, SIZE_MAX));
  return std::move(all.table);
}

Result<ColumnSlice> ReadColumnFileSlice(const std::string& path, size_t first, size_t count) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("the dataset's data file is missing");
  auto corrupt = [&](const std::string& why) { return Status::Corrupt("the dataset's data file is damaged: " + why); };
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  char start[12];
  if (ec || size < sizeof start || !f.read(start, sizeof start) || std::memcmp(start, kMagic, 8) != 0) {
    return corrupt("bad magic");
  }
  uint32_t len;
  std::memcpy(&len, start + 8, 4);
  if (len > size - sizeof start) return corrupt("truncated header");
  std::string h(len, '\0');
  if (!f.read(h.data(), len)) return corrupt("truncated header");
  nlohmann::json header = ParseBoundedJson(h);
  if (header.is_discarded() || !header.contains("rows") || !header["rows"].is_number_unsigned() ||
      !header.contains("columns") || !header["columns"].is_array()) {
    return corrupt("bad header");
  }
  ColumnSlice slice;
  slice.rows = header["rows"].get<size_t>();
  slice.total_columns = header["columns"].size();
  slice.first = first;
  uint64_t pos = sizeof start + len;
  for (size_t i = 0; i < slice.total_columns && (i < first || i - first < count); ++i) {
    const nlohmann::json& hc = header["columns"][i];
    Column c;
    c.name = hc.value("name", "");
    auto type = ParseColumnType(hc.value("type", ""));
    if (!type) return corrupt("unknown column type");
    c.type = *type;
    c.type_overridden = hc.value("overridden", false);
    c.coerce = hc.value("coerce", false);
    c.coerced = hc.value("coerced", size_t{0});
    uint64_t bytes = 0;
    if (!ColumnBytes(f, c.type, pos, slice.rows, size, bytes) || bytes > size - pos) {
      return corrupt("column \"" + c.name + "\" is truncated");
    }
    if (i >= first) {
      if (c.type == ColumnType::kCategorical) c.categories = hc.value("categories", std::vector<std::string>{});
      if (c.type == ColumnType::kBoolean) {
        c.categories = hc.value("categories", std::vector<std::string>{});
        if (c.categories.size() != 2) c.categories.clear();
      }
      if (!ReadColumn(f, pos, slice.rows, size, c)) return corrupt("column \"" + c.name + "\" is truncated");
      slice.table.columns.push_back(std::move(c));
    }
    pos += bytes;
  }
  return slice;
}

Result<nlohmann::json> ReadColumnFileColumns(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("the dataset's data file is missing");
  char start[12];
  uint32_t len = 0;
  std::string h;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && f.read(start, sizeof start) && std::memcmp(start, kMagic, 8) == 0) {
    std::memcpy(&len, start + 8, 4);
    if (len > size - sizeof start) len = 0;  // truncated: no header
    h.resize(len);
    if (!f.read(h.data(), len)) h.clear();
  }
  nlohmann::json header = ParseBoundedJson(h);
  if (header.is_discarded() || !header.contains("columns")) {
    return Status::Corrupt("the dataset's data file is damaged: bad header");
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : header["columns"]) {
    out.push_back(
        {{"name", c.value("name", "")}, {"type", c.value("type", "")}, {"overridden", c.value("overridden", false)}});
    if (c.value("coerce", false)) {
      out.back()["coerce"] = true;
      out.back()["coerced"] = c.value("coerced", 0);
    }
  }
  return out;
}

}  // namespace loupe::datasets
