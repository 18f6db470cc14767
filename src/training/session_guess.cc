#include "training/session_guess.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <unordered_set>

#include "datasets/image_columns.h"
#include "training/task.h"

namespace loupe::training {

namespace {

using datasets::Column;
using datasets::ColumnType;
using nlohmann::json;

bool NamedLikeAnId(const std::string& name) {
  static const std::regex kId(R"(^(id|uuid|guid|key|index|row_?id|unnamed: ?\d+)$|[_\s.-](id|uuid|guid|key)$)",
                              std::regex::icase | std::regex::ECMAScript);
  static const std::regex kCamelId(R"([a-z](Id|ID)$)");  // customerId, PassengerID; not "fluid"
  return std::regex_search(name, kId) || std::regex_search(name, kCamelId);
}

bool NamedLikeATarget(const std::string& name) {
  static const std::regex kTarget(
      R"(^(label|labels|target|class|y|outcome|category|species|churn|churned|diagnosis|cultivar|survived|default|fraud|spam|digit)$)",
      std::regex::icase);
  return std::regex_search(name, kTarget);
}

bool IsTabularType(ColumnType t) { return t != ColumnType::kText; }

}  // namespace

ColumnProfile ProfileColumn(const Column& c) {
  ColumnProfile p;
  std::unordered_set<std::string> seen;
  size_t with_space = 0, total_len = 0;
  bool all_integers = c.type == ColumnType::kNumeric;
  for (size_t r = 0; r < c.size(); ++r) {
    if (c.IsMissing(r)) continue;
    ++p.present;
    std::string text = c.CellText(r);
    total_len += text.size();
    if (text.find_first_of(" \t\n") != std::string::npos) ++with_space;
    if (all_integers && c.numbers[r] != std::floor(c.numbers[r])) all_integers = false;
    seen.insert(std::move(text));
  }
  p.distinct = seen.size();
  if (p.present == 0) {
    p.why = "no values";
    return p;
  }
  if (p.distinct == 1) {
    p.why = "the same value in every row";
    return p;
  }
  const bool nearly_all_distinct = p.present >= 10 && static_cast<double>(p.distinct) >= 0.95 * static_cast<double>(p.present);
  if (!nearly_all_distinct) return p;
  const std::string share = std::to_string(p.distinct) + " of " + std::to_string(p.present) + " values distinct";
  if (c.type == ColumnType::kText || c.type == ColumnType::kCategorical) {
    const double avg_len = static_cast<double>(total_len) / static_cast<double>(p.present);
    if (NamedLikeAnId(c.name) || (avg_len <= 40 && with_space * 10 <= p.present)) {
      p.id_like = true;
      p.why = "an id (" + share + ")";
    }
  } else if (c.type == ColumnType::kNumeric && all_integers && NamedLikeAnId(c.name)) {
    p.id_like = true;
    p.why = "an id (" + share + ")";
  }
  return p;
}

json GuessSession(const datasets::Table& table, const std::string& output) {
  std::vector<ColumnProfile> profiles;
  for (const Column& c : table.columns) profiles.push_back(ProfileColumn(c));
  json left_out = json::array(), reasons = json::array();

  // The output: a column named like a target, else the last boolean or categorical one,
  // else the last numeric one, else the last usable one.
  int out = -1;
  const int n = static_cast<int>(table.columns.size());
  for (int i = 0; i < n && !output.empty(); ++i) {
    if (table.columns[static_cast<size_t>(i)].name == output) out = i;
  }
  auto usable = [&](int i) { return profiles[static_cast<size_t>(i)].why.empty(); };
  for (int i = 0; i < n && out < 0; ++i) {
    if (usable(i) && NamedLikeATarget(table.columns[static_cast<size_t>(i)].name)) out = i;
  }
  for (ColumnType want : {ColumnType::kBoolean, ColumnType::kCategorical, ColumnType::kNumeric}) {
    for (int i = n - 1; i >= 0 && out < 0; --i) {
      if (usable(i) && table.columns[static_cast<size_t>(i)].type == want) out = i;
    }
  }
  for (int i = n - 1; i >= 0 && out < 0; --i) {
    if (usable(i)) out = i;
  }
  if (out < 0) {
    for (int i = 0; i < n; ++i) {
      left_out.push_back({{"column", table.columns[static_cast<size_t>(i)].name}, {"reason", profiles[static_cast<size_t>(i)].why}});
    }
    return {{"task", nullptr}, {"output", nullptr}, {"inputs", json::array()}, {"left_out", left_out},
            {"reasons", json::array({"no column has values that vary"})}, {"class_balance", json::array()}};
  }
  const Column& target = table.columns[static_cast<size_t>(out)];
  const ColumnProfile& tp = profiles[static_cast<size_t>(out)];

  // Classification unless the target is a number with many values or fractions.
  bool regression = false;
  if (target.type == ColumnType::kNumeric) {
    bool integers = true;
    for (size_t r = 0; r < target.size(); ++r) {
      if (!target.IsMissing(r) && target.numbers[r] != std::floor(target.numbers[r])) integers = false;
    }
    regression = !integers || tp.distinct > 10;
    reasons.push_back("\"" + target.name + "\" is numeric with " + std::to_string(tp.distinct) + " distinct values" +
                      (integers ? "" : ", not all integers") + ": " + (regression ? "regression" : "classes"));
  }

  std::vector<std::string> tabular, text;
  for (int i = 0; i < n; ++i) {
    if (i == out) continue;
    const Column& c = table.columns[static_cast<size_t>(i)];
    const ColumnProfile& p = profiles[static_cast<size_t>(i)];
    if (!p.why.empty()) {
      left_out.push_back({{"column", c.name}, {"reason", p.why}});
      continue;
    }
    if (c.type == ColumnType::kCategorical && c.categories.size() > kMaxCategories) {
      left_out.push_back({{"column", c.name}, {"reason", std::to_string(c.categories.size()) + " categories, more than " +
                                                           std::to_string(kMaxCategories) + " can be one-hot encoded"}});
      continue;
    }
    (IsTabularType(c.type) ? tabular : text).push_back(c.name);
  }

  TaskKind task = regression ? TaskKind::kRegression : TaskKind::kTabularClassification;
  std::vector<std::string> inputs = tabular;
  // Pixel columns of square images: every one is an input, even the corners that are
  // blank in every image.
  const std::vector<std::string> pixels = datasets::PixelColumns(table);
  if (!regression && !pixels.empty()) {
    task = TaskKind::kImageClassification;
    inputs = pixels;
    const int side = datasets::ImageSide(pixels.size());
    reasons.push_back(std::to_string(pixels.size()) + " pixel columns: " + std::to_string(side) + "x" +
                      std::to_string(side) + " images, image classification");
    json kept = json::array();
    for (const json& l : left_out) {
      if (std::find(pixels.begin(), pixels.end(), l["column"].get<std::string>()) == pixels.end()) kept.push_back(l);
    }
    left_out = kept;
    for (const std::vector<std::string>* others : {&tabular, &text}) {
      for (const std::string& c : *others) {
        if (std::find(pixels.begin(), pixels.end(), c) == pixels.end()) {
          left_out.push_back({{"column", c}, {"reason", "not a pixel: an image task reads the pixels alone"}});
        }
      }
    }
  } else if (!regression && !text.empty() && tabular.size() < 2) {
    task = TaskKind::kTextClassification;
    inputs = text;
    reasons.push_back("free text is what there is to learn from: text classification");
    for (const std::string& c : tabular) left_out.push_back({{"column", c}, {"reason", "not text; TextClassification reads text"}});
  } else {
    if (!tabular.empty()) {
      reasons.push_back(std::to_string(tabular.size()) + " numeric, boolean, categorical or datetime input(s): " +
                        (regression ? "regression" : "tabular classification"));
    }
    for (const std::string& c : text) {
      left_out.push_back({{"column", c}, {"reason", "free text; a tabular model cannot read it (a TextClassification session can)"}});
    }
  }

  json balance = json::array();
  if (IsClassification(task)) {
    std::map<std::string, size_t> counts;
    size_t total = 0;
    for (size_t r = 0; r < target.size(); ++r) {
      if (target.IsMissing(r)) continue;
      ++counts[target.CellText(r)];
      ++total;
    }
    std::vector<std::pair<std::string, size_t>> sorted(counts.begin(), counts.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [cls, count] : sorted) {
      balance.push_back({{"class", cls}, {"count", count}, {"share", static_cast<double>(count) / static_cast<double>(total)}});
      if (balance.size() == 50) break;
    }
  }
  if (inputs.empty()) reasons.push_back("no column is left to learn from: every other column was left out");
  return {{"task", TaskName(task)}, {"output", target.name}, {"inputs", inputs}, {"left_out", left_out},
          {"reasons", reasons}, {"class_balance", balance}};
}

}  // namespace loupe::training
