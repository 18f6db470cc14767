#include "datasets/samples.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace loupe::datasets {

const std::vector<Sample>& BuiltinSamples() {
  static const std::vector<Sample> samples = {
      {"iris", "Iris flowers: 150 rows, 4 measurements, 3 species (tabular classification)", "iris.csv",
       {"sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"}, "species"},
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
  if (files.empty()) return Status::Unavailable("no SpamAssassin messages under " + data_dir);
  std::sort(files.begin(), files.end());  // a stable row order, so seeded splits repeat
  std::string out;
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    nlohmann::json msg = nlohmann::json::parse(in, nullptr, false);
    if (msg.is_discarded() || !msg.contains("text") || !msg["text"].is_string()) {
      return Status::Corrupt(p.string() + ": not a SpamAssassin message record");
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

}  // namespace loupe::datasets
