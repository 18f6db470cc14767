#include "datasets/samples.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "common/bounded_json.h"

namespace loupe::datasets {

const std::vector<Sample>& BuiltinSamples() {
  static const std::vector<Sample> samples = {
      {"iris", "Iris flowers: 150 rows, 4 measurements, 3 species (tabular classification)", "iris.csv",
       {"sepal_length", "sepal_width", "petal_length", "petal_width"}, "species"},  // the names DashAI's examples use
      {"wine", "Wine recognition: 178 rows, 13 chemical measurements, 3 cultivars", "wine_data.csv",
       {"alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
        "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines",
        "proline"},
       "cultivar"},
      {"breast_cancer", "Breast cancer Wisconsin (diagnostic): 569 rows, 30 features, malignant or benign",
       "breast_cancer.csv",
       {"mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness",
        "mean_concavity", "mean_concave_points", "mean_symmetry", "mean_fractal_dimension", "radius_error",
        "texture_error", "perimeter_error", "area_error", "smoothness_error", "compactness_error",
        "concavity_error", "concave_points_error", "symmetry_error", "fractal_dimension_error", "worst_radius",
        "worst_texture", "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness",
        "worst_concavity", "worst_concave_points", "worst_symmetry", "worst_fractal_dimension"},
       "diagnosis"},
  };
  return samples;
}

Result<std::string> SklearnCsvToCsv(const std::string& content, const Sample& sample) {
  std::istringstream in(content);
  std::string line;
  if (!std::getline(in, line)) return Status::Corrupt(sample.file + " is empty");
  std::vector<std::string> head;
  std::stringstream hs(line);
  for (std::string cell; std::getline(hs, cell, ',');) head.push_back(cell);
  if (head.size() < 3) return Status::Corrupt(sample.file + ": unexpected first line");
  std::vector<std::string> classes(head.begin() + 2, head.end());
  for (std::string& c : classes) {
    while (!c.empty() && (c.back() == '\r' || c.back() == ' ')) c.pop_back();
  }
  std::string out;
  for (const std::string& f : sample.features) out += f + ",";
  out += sample.target + "\n";
  size_t row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    size_t comma = line.rfind(',');
    if (comma == std::string::npos) return Status::Corrupt(sample.file + " line " + std::to_string(row) + ": no class");
    size_t cls = 0;
    std::string tail = line.substr(comma + 1);
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), cls);
    if (ec != std::errc() || cls >= classes.size()) return Status::Corrupt(sample.file + " line " + std::to_string(row) + ": unknown class");
    out += line.substr(0, comma + 1) + classes[cls] + "\n";
  }
  return out;
}

Result<std::string> SpamAssassinToJsonl(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& group : fs::directory_iterator(data_dir, ec)) {
    if (!group.is_directory(ec)) continue;
    for (const auto& f : fs::directory_iterator(group.path(), ec)) {
      if (f.path().extension() == ".json") files.push_back(f.path());
    }
  }
  if (files.empty()) return Status::Unavailable("the SpamAssassin sample is not installed (npm ci installs it)");
  std::sort(files.begin(), files.end());  // a stable row order, so seeded splits repeat
  std::string out;
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json msg = ParseBoundedJson(text);
    if (msg.is_discarded() || !msg.contains("text") || !msg["text"].is_string()) {
      return Status::Corrupt("the SpamAssassin sample holds a file that is not a message record: " + p.filename().string());
    }
    const std::string& raw = msg["text"].get_ref<const std::string&>();
    std::string group = msg.value("group", p.parent_path().filename().string());
    nlohmann::ordered_json row = {{"text", raw}, {"label", group.rfind("spam", 0) == 0 ? "spam" : "ham"},
                          {"group", group}};
    out += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

Result<std::string> ReadGzipFile(const std::string& path, size_t max_bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Status::NotFound("cannot open the sample file " + std::filesystem::path(path).filename().string());
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      gzclose(f);
      return Status::TooLarge("the sample file " + std::filesystem::path(path).filename().string() + " inflates to more than " +
                            std::to_string(max_bytes) + " bytes");
    }
  }
  bool failed = n < 0;
  gzclose(f);
  if (failed) return Status::Corrupt("the sample file " + std::filesystem::path(path).filename().string() + " is not a valid gzip file");
  return out;
}

Result<std::string> DigitsToCsv(const std::string& content) {
  std::string out;
  for (int i = 0; i < 64; ++i) out += "pixel_" + std::to_string(i) + ",";
  out += "digit\n";
  std::istringstream in(content);
  std::string line;
  size_t row = 0;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    // Values are written as floats ("0.000000000000000000e+00"); the digit last.
    std::stringstream ls(line);
    std::string cell;
    int k = 0;
    while (std::getline(ls, cell, ',')) {
      double v = std::strtod(cell.c_str(), nullptr);
      out += std::to_string(static_cast<int>(v));
      out += ++k == 65 ? "" : ",";
    }
    if (k != 65) return Status::Corrupt("digits.csv.gz line " + std::to_string(row) + ": expected 65 values");
    out += "\n";
  }
  return out;
}

Result<std::string> FashionMnistToCsv(const std::string& images, const std::string& labels) {
  static const char* kNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  auto be32 = [](const std::string& s, size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) | static_cast<unsigned char>(s[at + 3]);
  };
  if (images.size() < 16 || be32(images, 0) != 2051) return Status::Corrupt("Fashion-MNIST images: not an IDX image file");
  if (labels.size() < 8 || be32(labels, 0) != 2049) return Status::Corrupt("Fashion-MNIST labels: not an IDX label file");
  const size_t n = be32(images, 4), rows = be32(images, 8), cols = be32(images, 12);
  const size_t pixels = rows * cols;
  if (be32(labels, 4) != n || images.size() < 16 + n * pixels || labels.size() < 8 + n) {
    return Status::Corrupt("Fashion-MNIST: image and label files disagree");
  }
  std::string out;
  out.reserve(n * pixels * 3);
  for (size_t p = 0; p < pixels; ++p) out += "pixel_" + std::to_string(p) + ",";
  out += "label\n";
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* img = reinterpret_cast<const unsigned char*>(images.data()) + 16 + i * pixels;
    for (size_t p = 0; p < pixels; ++p) {
      out += std::to_string(img[p]);
      out += ',';
    }
    unsigned label = static_cast<unsigned char>(labels[8 + i]);
    if (label > 9) return Status::Corrupt("Fashion-MNIST: label out of range");
    out += kNames[label];
    out += '\n';
  }
  return out;
}

}  // namespace loupe::datasets
