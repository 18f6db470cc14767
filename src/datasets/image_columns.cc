#include "datasets/image_columns.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace loupe::datasets {

int ImageSide(size_t pixels) {
  const long side = std::lround(std::sqrt(static_cast<double>(pixels)));
  return side >= 4 && static_cast<size_t>(side * side) == pixels ? static_cast<int>(side) : 0;
}

std::vector<std::string> PixelColumns(const Table& table) {
  static const std::regex kPixel(R"(^(pixel|px)[_ -]?\d+$)", std::regex::icase);
  std::vector<std::string> out;
  for (const Column& c : table.columns) {
    if (c.type == ColumnType::kNumeric && std::regex_search(c.name, kPixel)) out.push_back(c.name);
  }
  return ImageSide(out.size()) > 0 ? out : std::vector<std::string>{};
}

bool HasPixelColumns(const nlohmann::json& catalogue_columns) { return PixelSide(catalogue_columns) > 0; }

int PixelSide(const nlohmann::json& catalogue_columns) {
  if (!catalogue_columns.is_array()) return 0;
  Table names;
  for (const nlohmann::json& c : catalogue_columns) {
    if (!c.is_object()) continue;
    Column stub;
    stub.name = c.value("name", "");
    stub.type = ParseColumnType(c.value("type", "")).value_or(ColumnType::kText);
    names.columns.push_back(std::move(stub));
  }
  return ImageSide(PixelColumns(names).size());
}

nlohmann::json ImageRows(const Table& table, size_t offset, size_t limit) {
  const std::vector<std::string> pixels = PixelColumns(table);
  if (pixels.empty()) return nullptr;
  const std::set<std::string> pixel_set(pixels.begin(), pixels.end());
  std::vector<const Column*> cols;
  const Column* label = nullptr;
  for (const Column& c : table.columns) {
    if (pixel_set.count(c.name)) cols.push_back(&c);
    else label = &c;
  }
  nlohmann::json images = nlohmann::json::array();
  for (size_t r = offset; r < table.rows() && r < offset + limit; ++r) {
    nlohmann::json px = nlohmann::json::array();
    for (const Column* c : cols) {
      const double v = c->numbers[r];
      px.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    }
    images.push_back({{"row", r + 1},
                      {"label", label && !label->IsMissing(r) ? nlohmann::json(label->CellText(r)) : nlohmann::json(nullptr)},
                      {"pixels", std::move(px)}});
  }
  return {{"side", ImageSide(pixels.size())},
          {"label_column", label ? nlohmann::json(label->name) : nlohmann::json(nullptr)},
          {"total", table.rows()},
          {"images", std::move(images)}};
}

}  // namespace loupe::datasets
