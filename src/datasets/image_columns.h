// Datasets of square grey images stored as pixel columns ("pixel_0".."pixel_783", the
// way Fashion-MNIST and scikit-learn's digits are kept): which columns are the pixels,
// and rows of them as images for the dataset page's grid.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "datasets/table.h"

namespace loupe::datasets {

// The numeric columns named pixel<N> / pixel_<N> / px<N>, in table order, when there are
// a square number of them (at least 4x4); empty otherwise.
std::vector<std::string> PixelColumns(const Table& table);
// The same from a catalogue column list ([{name, type}], the dataset row's columns), so
// a page can tell an image dataset without reading its data.
bool HasPixelColumns(const nlohmann::json& catalogue_columns);
// The images' side from a catalogue column list; 0 without pixel columns.
int PixelSide(const nlohmann::json& catalogue_columns);
// The side of the square images `pixels` columns hold, or 0 when not square or under 4x4.
int ImageSide(size_t pixels);

// Rows [offset, offset + limit) as {side, label_column, total, images: [{row, label,
// pixels: [0-255 or null]}]}; the label is the last column that is not a pixel.
nlohmann::json ImageRows(const Table& table, size_t offset, size_t limit);

}  // namespace loupe::datasets
