#include "datasets/column_file.h"

#include <nlohmann/json.hpp>

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

template <typename T>
bool Take(const std::string& in, size_t& pos, size_t n, std::vector<T>& out) {
  if (n > (in.size() - pos) / sizeof(T)) return false;
  out.resize(n);
  std::memcpy(out.data(), in.data() + pos, n * sizeof(T));
  pos += n * sizeof(T);
  return true;
}

}  // namespace

Status WriteColumnFile(const std::string& path, const Table& table) {
  nlohmann::json header = {{"rows", table.rows()}, {"columns", nlohmann::json::array()}};
  for (const Column& c : table.columns) {
    nlohmann::json col = {{"name", c.name}, {"type", ColumnTypeName(c.type)}, {"overridden", c.type_overridden}};
    if (c.type == ColumnType::kCategorical) col["categories"] = c.categories;
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
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("the dataset's data file is missing");
  std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto corrupt = [&](const std::string& why) { return Status::Corrupt("the dataset's data file is damaged: " + why); };
  if (in.size() < 12 || std::memcmp(in.data(), kMagic, 8) != 0) return corrupt("bad magic");
  uint32_t len;
  std::memcpy(&len, in.data() + 8, 4);
  if (len > in.size() - 12) return corrupt("truncated header");
  nlohmann::json header = ParseBoundedJson(in.substr(12, len));
  if (header.is_discarded() || !header.contains("rows") || !header.contains("columns")) return corrupt("bad header");
  size_t rows = header["rows"].get<size_t>();
  size_t pos = 12 + len;
  Table table;
  for (const auto& h : header["columns"]) {
    Column c;
    c.name = h.value("name", "");
    auto type = ParseColumnType(h.value("type", ""));
    if (!type) return corrupt("unknown column type");
    c.type = *type;
    c.type_overridden = h.value("overridden", false);
    bool ok = true;
    switch (c.type) {
      case ColumnType::kNumeric: ok = Take(in, pos, rows, c.numbers); break;
      case ColumnType::kBoolean: ok = Take(in, pos, rows, c.flags); break;
      case ColumnType::kDatetime: ok = Take(in, pos, rows, c.micros); break;
      case ColumnType::kCategorical:
        c.categories = h.value("categories", std::vector<std::string>{});
        ok = Take(in, pos, rows, c.codes);
        for (uint32_t code : c.codes) {
          if (code != UINT32_MAX && code >= c.categories.size()) ok = false;
        }
        break;
      case ColumnType::kText: {
        std::vector<uint64_t> offsets;
        ok = Take(in, pos, rows, c.missing) && Take(in, pos, rows + 1, offsets) && offsets.back() <= in.size() - pos;
        if (ok) {
          for (size_t r = 0; r < rows; ++r) {
            if (offsets[r] > offsets[r + 1]) {
              ok = false;
              break;
            }
            c.texts.emplace_back(in.data() + pos + offsets[r], offsets[r + 1] - offsets[r]);
          }
          pos += offsets.back();
        }
        break;
      }
    }
    if (!ok) return corrupt("column \"" + c.name + "\" is truncated");
    table.columns.push_back(std::move(c));
  }
  return table;
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
  }
  return out;
}

}  // namespace loupe::datasets
