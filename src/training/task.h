// Tasks: what a model session learns (DashAI's TextClassification,
// TabularClassification, Regression and ImageClassification: square grey images as
// numeric pixel columns, row by row). PrepareForTask checks the chosen columns
// against the task with precise errors and turns the table into model inputs; the
// FeatureSpec it returns is saved with each run, so rows sent for prediction later are
// encoded exactly as the training rows were.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "datasets/table.h"

namespace loupe::training {

enum class TaskKind { kTextClassification, kTabularClassification, kRegression, kImageClassification };

struct TaskInfo {
  TaskKind kind;
  std::string name;
  std::string description;
};
const std::vector<TaskInfo>& TaskCatalog();
const char* TaskName(TaskKind kind);
// "TextClassification" or DashAI's class name "TextClassificationTask".
Result<TaskKind> ParseTask(std::string_view name);
inline bool IsClassification(TaskKind k) { return k != TaskKind::kRegression; }

// One input column and how it becomes features: numeric and boolean as one value,
// datetime as seconds since the epoch, categorical one-hot over `categories`, text
// (text tasks only) joined into the example's text.
struct FeatureColumn {
  std::string name;
  datasets::ColumnType type = datasets::ColumnType::kNumeric;
  std::vector<std::string> categories;
};

struct FeatureSpec {
  TaskKind task = TaskKind::kTabularClassification;
  std::vector<FeatureColumn> inputs;
  std::string output;
  std::vector<std::string> classes;  // classification: class id -> label text

  size_t NumFeatures() const;
  std::vector<std::string> FeatureNames() const;  // "color=red" for one-hot columns
  nlohmann::json ToJson() const;
  static Result<FeatureSpec> FromJson(const nlohmann::json& j);
};

// Model inputs for a set of rows: texts for text tasks, a dense row-major matrix
// (NaN = missing) for tabular ones.
struct Examples {
  std::vector<std::string> texts;
  std::vector<float> x;
  size_t cols = 0;
  size_t rows = 0;
  Examples Take(const std::vector<size_t>& row_indices) const;
};

struct PreparedData {
  FeatureSpec spec;
  Examples examples;
  std::vector<int> labels;      // classification
  std::vector<double> targets;  // regression
  size_t dropped_rows = 0;      // rows whose output value is missing
};

// Caps that keep one-hot matrices and class lists sane.
inline constexpr size_t kMaxCategories = 256;
inline constexpr size_t kMaxClasses = 1000;
// A numeric output with more distinct values is a quantity, not a class id.
inline constexpr size_t kMaxNumericClasses = 100;

// `max_encoded_bytes` (0: no limit) refuses a tabular task whose encoded matrix (rows x
// features x 4 bytes) would be larger, before it is built.
Result<PreparedData> PrepareForTask(const datasets::Table& table, TaskKind task,
                                    const std::vector<std::string>& input_columns,
                                    const std::vector<std::string>& output_columns, uint64_t max_encoded_bytes = 0);

// What a prediction's inputs hold that the model did not see in training: blank inputs
// and values that are not of the column's type (both predicted as missing) and
// categories it never saw (one-hot as none of them; "Tokyo"
// for a model trained on four cities). Per row, and summed up.
struct InputWarnings {
  static constexpr size_t kPerRow = 20, kValuesPerColumn = 20;
  std::vector<std::vector<std::string>> rows;             // messages per row, kPerRow at most
  std::map<std::string, std::vector<std::string>> unseen;  // column -> unseen values, kValuesPerColumn at most
  std::map<std::string, size_t> unseen_rows;               // column -> rows with an unseen value
  std::map<std::string, size_t> blank;                     // column -> rows where it is blank
  std::map<std::string, std::vector<std::string>> unconverted;  // column -> values not of its type
  std::map<std::string, size_t> unconverted_rows;
  // {blank: {column: rows}, unseen_categories: {column: {rows, values}}, unconverted: {column: {rows, values}}}
  nlohmann::json Summary() const;
};

// New rows: JSON objects keyed by input column name (extra keys are ignored; a
// missing key is a missing value), as the table EncodeRawTable reads.
Result<datasets::RawTable> RowsToRawTable(const FeatureSpec& spec, const nlohmann::json& rows);
Result<Examples> EncodeRows(const FeatureSpec& spec, const nlohmann::json& rows);
// A parsed file sent for prediction: its input columns are read as the trained types.
Result<Examples> EncodeRawTable(const FeatureSpec& spec, const datasets::RawTable& raw, InputWarnings* warnings = nullptr);

}  // namespace loupe::training
