#include "training/task.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "datasets/column_types.h"
#include "datasets/image_columns.h"
#include "datasets/table_parser.h"
#include "training/memory_estimate.h"

namespace loupe::training {

namespace {

using datasets::Column;
using datasets::ColumnType;
using datasets::ColumnTypeName;
using nlohmann::json;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string ColumnList(const datasets::Table& t) {
  std::string out;
  for (const Column& c : t.columns) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

// One feature column's values, written into `x` at `offset` for every row.
void EncodeColumn(const FeatureColumn& fc, const Column& col, size_t offset, size_t cols, std::vector<float>& x) {
  const size_t rows = col.size();
  const float nan = std::nanf("");
  switch (fc.type) {
    case ColumnType::kNumeric:
      // An infinite value, or one beyond a float, is missing to the models: XGBoost
      // refuses infinities outright, and no scale makes sense of them.
      for (size_t r = 0; r < rows; ++r) {
        const float v = static_cast<float>(col.numbers[r]);
        x[r * cols + offset] = std::isfinite(v) ? v : nan;
      }
      break;
    case ColumnType::kBoolean:
      for (size_t r = 0; r < rows; ++r) x[r * cols + offset] = col.flags[r] < 0 ? nan : static_cast<float>(col.flags[r]);
      break;
    case ColumnType::kDatetime:
      for (size_t r = 0; r < rows; ++r) {
        x[r * cols + offset] = col.micros[r] == INT64_MIN ? nan : static_cast<float>(col.micros[r] / 1e6);
      }
      break;
    case ColumnType::kCategorical: {
      // Map this table's codes to the training categories by text: a prediction file
      // lists its categories in its own order, and may hold ones never seen (all zeros).
      std::unordered_map<std::string, size_t> index;
      for (size_t i = 0; i < fc.categories.size(); ++i) index.emplace(fc.categories[i], i);
      std::vector<int64_t> code_to_slot(col.categories.size(), -1);
      for (size_t c = 0; c < col.categories.size(); ++c) {
        auto it = index.find(col.categories[c]);
        if (it != index.end()) code_to_slot[c] = static_cast<int64_t>(it->second);
      }
      for (size_t r = 0; r < rows; ++r) {
        for (size_t i = 0; i < fc.categories.size(); ++i) x[r * cols + offset + i] = 0.0f;
        uint32_t code = col.codes[r];
        if (code != UINT32_MAX && code < code_to_slot.size() && code_to_slot[code] >= 0) {
          x[r * cols + offset + static_cast<size_t>(code_to_slot[code])] = 1.0f;
        }
      }
      break;
    }
    case ColumnType::kText:
      break;  // text tasks only; PrepareForTask refuses text in tabular tasks
  }
}

size_t Width(const FeatureColumn& fc) { return fc.type == ColumnType::kCategorical ? fc.categories.size() : 1; }

// Encodes `cols` (aligned with spec.inputs) into examples.
Examples EncodeColumns(const FeatureSpec& spec, const std::vector<const Column*>& cols, size_t rows) {
  Examples ex;
  ex.rows = rows;
  if (spec.task == TaskKind::kTextClassification) {
    ex.texts.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      std::string& text = ex.texts[r];
      for (const Column* c : cols) {
        if (c->IsMissing(r)) continue;
        if (!text.empty()) text += ' ';
        text += c->CellText(r);
      }
    }
    return ex;
  }
  ex.cols = spec.NumFeatures();
  ex.x.assign(rows * ex.cols, 0.0f);
  size_t offset = 0;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    EncodeColumn(spec.inputs[i], *cols[i], offset, ex.cols, ex.x);
    offset += Width(spec.inputs[i]);
  }
  return ex;
}

Status CheckInputType(TaskKind task, const Column& c) {
  if (task == TaskKind::kImageClassification) {
    if (c.type == ColumnType::kNumeric) return Status::Ok();
    return Status::InvalidArgument("input column " + Quoted(c.name) + " is " + ColumnTypeName(c.type) +
                                   "; ImageClassification takes numeric pixel columns");
  }
  if (task == TaskKind::kTextClassification) {
    if (c.type == ColumnType::kText || c.type == ColumnType::kCategorical) return Status::Ok();
    return Status::InvalidArgument("input column " + Quoted(c.name) + " is " + ColumnTypeName(c.type) +
                                   "; TextClassification takes text or categorical input columns");
  }
  if (c.type == ColumnType::kText) {
    return Status::InvalidArgument("input column " + Quoted(c.name) + " is text; " + TaskName(task) +
                                   " takes numeric, boolean, categorical or datetime columns (use "
                                   "TextClassification for text, or change the column's type)");
  }
  if (c.type == ColumnType::kCategorical && c.categories.size() > kMaxCategories) {
    return Status::InvalidArgument("input column " + Quoted(c.name) + " has " + std::to_string(c.categories.size()) +
                                   " categories; at most " + std::to_string(kMaxCategories) +
                                   " can be one-hot encoded");
  }
  return Status::Ok();
}

// Class labels of a classification output, or an error saying why the column cannot be one.
Status PrepareClasses(const Column& out, PreparedData& data) {
  if (out.type == ColumnType::kDatetime) {
    return Status::InvalidArgument("output column " + Quoted(out.name) + " is datetime; classification needs classes");
  }
  std::set<std::string> distinct;
  std::set<double> numeric;
  for (size_t r = 0; r < out.size(); ++r) {
    if (out.IsMissing(r)) continue;
    if (out.type == ColumnType::kNumeric) {
      double v = out.numbers[r];
      if (v != std::floor(v) || !std::isfinite(v)) {
        return Status::InvalidArgument("output column " + Quoted(out.name) + " has the non-integer value " +
                                       out.CellText(r) + " (row " + std::to_string(r + 1) +
                                       "); use Regression for continuous targets");
      }
      numeric.insert(v);
    } else {
      distinct.insert(out.CellText(r));
    }
    if (distinct.size() + numeric.size() > kMaxClasses) {
      return Status::InvalidArgument("output column " + Quoted(out.name) + " has more than " +
                                     std::to_string(kMaxClasses) + " distinct values; classification needs classes");
    }
  }
  if (numeric.size() > kMaxNumericClasses) {
    return Status::InvalidArgument("output column " + Quoted(out.name) + " has " + std::to_string(numeric.size()) +
                                   " distinct numbers; use Regression, or change its type to categorical if they are classes");
  }
  std::vector<std::string> classes;
  if (out.type == ColumnType::kNumeric) {
    for (double v : numeric) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      classes.push_back(buf);
    }
  } else {
    classes.assign(distinct.begin(), distinct.end());
  }
  if (classes.empty()) return Status::InvalidArgument("output column " + Quoted(out.name) + " has no values");
  if (classes.size() == 1) {
    return Status::InvalidArgument("output column " + Quoted(out.name) + " has a single class (" +
                                   Quoted(classes[0]) + "); classification needs at least two");
  }
  std::unordered_map<std::string, int> id;
  for (size_t i = 0; i < classes.size(); ++i) id.emplace(classes[i], static_cast<int>(i));
  for (size_t r = 0; r < out.size(); ++r) {
    if (out.IsMissing(r)) continue;
    if (out.type == ColumnType::kNumeric) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", out.numbers[r]);
      data.labels.push_back(id.at(buf));
    } else {
      data.labels.push_back(id.at(out.CellText(r)));
    }
  }
  data.spec.classes = std::move(classes);
  return Status::Ok();
}

}  // namespace

const std::vector<TaskInfo>& TaskCatalog() {
  static const std::vector<TaskInfo> kTasks = {
      {TaskKind::kTextClassification, "TextClassification",
       "Predict a class from text columns (e-mails, reviews, tickets)."},
      {TaskKind::kTabularClassification, "TabularClassification",
       "Predict a class from numeric, boolean, categorical and datetime columns."},
      {TaskKind::kRegression, "Regression", "Predict a number from numeric, boolean, categorical and datetime columns."},
      {TaskKind::kImageClassification, "ImageClassification",
       "Predict a class from a square grey image given as numeric pixel columns, row by row (Fashion-MNIST's 784)."},
  };
  return kTasks;
}

const char* TaskName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kTextClassification: return "TextClassification";
    case TaskKind::kTabularClassification: return "TabularClassification";
    case TaskKind::kRegression: return "Regression";
    case TaskKind::kImageClassification: return "ImageClassification";
  }
  return "?";
}

Result<TaskKind> ParseTask(std::string_view name) {
  std::string n(name);
  if (n.size() > 4 && n.compare(n.size() - 4, 4, "Task") == 0) n.resize(n.size() - 4);
  for (const TaskInfo& t : TaskCatalog()) {
    if (t.name == n) return t.kind;
  }
  return Status::InvalidArgument("unknown task " + Quoted(std::string(name)) +
                                 " (known: TextClassification, TabularClassification, Regression, ImageClassification)");
}

size_t FeatureSpec::NumFeatures() const {
  size_t n = 0;
  for (const FeatureColumn& c : inputs) n += Width(c);
  return n;
}

std::vector<std::string> FeatureSpec::FeatureNames() const {
  std::vector<std::string> names;
  for (const FeatureColumn& c : inputs) {
    if (c.type == ColumnType::kCategorical) {
      for (const std::string& cat : c.categories) names.push_back(c.name + "=" + cat);
    } else {
      names.push_back(c.name);
    }
  }
  return names;
}

json FeatureSpec::ToJson() const {
  json in = json::array();
  for (const FeatureColumn& c : inputs) {
    json col = {{"name", c.name}, {"type", ColumnTypeName(c.type)}};
    if (c.type == ColumnType::kCategorical || (c.type == ColumnType::kBoolean && !c.categories.empty())) {
      col["categories"] = c.categories;
    }
    in.push_back(col);
  }
  return {{"task", TaskName(task)}, {"inputs", in}, {"output", output}, {"classes", classes}};
}

Result<FeatureSpec> FeatureSpec::FromJson(const json& j) {
  try {
    FeatureSpec s;
    LOUPE_ASSIGN_OR_RETURN(TaskKind task, ParseTask(j.at("task").get<std::string>()));
    s.task = task;
    for (const json& c : j.at("inputs")) {
      FeatureColumn fc;
      fc.name = c.at("name").get<std::string>();
      auto type = datasets::ParseColumnType(c.at("type").get<std::string>());
      if (!type) return Status::Corrupt("feature spec: unknown column type");
      fc.type = *type;
      if (c.contains("categories")) fc.categories = c["categories"].get<std::vector<std::string>>();
      s.inputs.push_back(std::move(fc));
    }
    s.output = j.at("output").get<std::string>();
    s.classes = j.at("classes").get<std::vector<std::string>>();
    return s;
  } catch (const json::exception& e) {
    return Status::Corrupt(std::string("feature spec: ") + e.what());
  }
}

Examples Examples::Take(const std::vector<size_t>& idx) const {
  Examples out;
  out.rows = idx.size();
  out.cols = cols;
  if (!texts.empty()) {
    out.texts.reserve(idx.size());
    for (size_t i : idx) out.texts.push_back(texts[i]);
  }
  if (cols > 0) {
    out.x.resize(idx.size() * cols);
    for (size_t k = 0; k < idx.size(); ++k) {
      std::copy_n(x.begin() + static_cast<ptrdiff_t>(idx[k] * cols), cols, out.x.begin() + static_cast<ptrdiff_t>(k * cols));
    }
  }
  return out;
}

Result<PreparedData> PrepareForTask(const datasets::Table& table, TaskKind task,
                                    const std::vector<std::string>& input_columns,
                                    const std::vector<std::string>& output_columns, uint64_t max_encoded_bytes) {
  if (input_columns.empty()) return Status::InvalidArgument("input_columns must name at least one column");
  if (output_columns.size() != 1) {
    return Status::InvalidArgument("output_columns must name exactly one column (got " +
                                   std::to_string(output_columns.size()) + ")");
  }
  const std::string& output = output_columns[0];
  const Column* out = table.Find(output);
  if (!out) return Status::InvalidArgument("output column " + Quoted(output) + " is not in the dataset (columns: " + ColumnList(table) + ")");

  PreparedData data;
  data.spec.task = task;
  data.spec.output = output;
  std::vector<const Column*> inputs;
  std::set<std::string> seen;
  for (const std::string& name : input_columns) {
    if (!seen.insert(name).second) return Status::InvalidArgument("input column " + Quoted(name) + " is listed twice");
    if (name == output) return Status::InvalidArgument("column " + Quoted(name) + " is both an input and the output");
    const Column* c = table.Find(name);
    if (!c) return Status::InvalidArgument("input column " + Quoted(name) + " is not in the dataset (columns: " + ColumnList(table) + ")");
    LOUPE_RETURN_IF_ERROR(CheckInputType(task, *c));
    FeatureColumn fc{c->name, c->type, {}};
    // Categories to one-hot encode; for a boolean, its two values as written (the
    // predict form offers "no"/"yes" for a yes/no column).
    if (c->type == ColumnType::kCategorical || c->type == ColumnType::kBoolean) fc.categories = c->categories;
    data.spec.inputs.push_back(std::move(fc));
    inputs.push_back(c);
  }

  if (task == TaskKind::kImageClassification && datasets::ImageSide(inputs.size()) == 0) {
    return Status::InvalidArgument("ImageClassification needs the pixels of a square image as input columns (64 for "
                                   "8x8, 784 for 28x28), got " + std::to_string(inputs.size()) + " column(s)");
  }
  // Rows without an output value cannot be learned from; they are left out and counted.
  std::vector<size_t> keep;
  for (size_t r = 0; r < table.rows(); ++r) {
    if (!out->IsMissing(r)) keep.push_back(r);
  }
  data.dropped_rows = table.rows() - keep.size();
  if (keep.empty()) return Status::InvalidArgument("output column " + Quoted(output) + " has no values");

  if (IsClassification(task)) {
    LOUPE_RETURN_IF_ERROR(PrepareClasses(*out, data));
  } else {
    if (out->type != ColumnType::kNumeric) {
      return Status::InvalidArgument("output column " + Quoted(output) + " is " + ColumnTypeName(out->type) +
                                     "; Regression needs a numeric output column");
    }
    for (size_t r : keep) {
      if (!std::isfinite(out->numbers[r])) {
        return Status::InvalidArgument("output column " + Quoted(output) + " has the non-finite value " +
                                       out->CellText(r) + " (row " + std::to_string(r + 1) + ")");
      }
      data.targets.push_back(out->numbers[r]);
    }
  }
  LOUPE_RETURN_IF_ERROR(CheckEncodedSize(data.spec, table.rows(), max_encoded_bytes));
  Examples all = EncodeColumns(data.spec, inputs, table.rows());
  data.examples = data.dropped_rows == 0 ? std::move(all) : all.Take(keep);
  return data;
}

json InputWarnings::Summary() const {
  json unseen_json = json::object();
  for (const auto& [column, values] : unseen) {
    unseen_json[column] = {{"rows", unseen_rows.count(column) ? unseen_rows.at(column) : 0}, {"values", values}};
  }
  json blank_json = json::object();
  for (const auto& [column, n] : blank) blank_json[column] = n;
  json unconverted_json = json::object();
  for (const auto& [column, values] : unconverted) {
    unconverted_json[column] = {{"rows", unconverted_rows.count(column) ? unconverted_rows.at(column) : 0}, {"values", values}};
  }
  return {{"blank", blank_json}, {"unseen_categories", unseen_json}, {"unconverted", unconverted_json}};
}

Result<Examples> EncodeRawTable(const FeatureSpec& spec, const datasets::RawTable& raw, InputWarnings* warnings) {
  if (warnings) warnings->rows.assign(raw.rows(), {});
  std::vector<size_t> unlisted(warnings ? raw.rows() : 0, 0);
  auto warn = [&](size_t r, std::string message) {
    if (warnings->rows[r].size() < InputWarnings::kPerRow) warnings->rows[r].push_back(std::move(message));
    else ++unlisted[r];
  };
  std::vector<Column> converted;
  for (const FeatureColumn& fc : spec.inputs) {
    const datasets::RawColumn* rc = nullptr;
    for (const datasets::RawColumn& c : raw.columns) {
      if (c.name == fc.name) rc = &c;
    }
    if (!rc) {
      std::string names;
      for (const datasets::RawColumn& c : raw.columns) names += (names.empty() ? "" : ", ") + c.name;
      return Status::InvalidArgument("input column " + Quoted(fc.name) + " is missing (columns: " + names + ")");
    }
    // Read as the type the model was trained on, whatever the new values look like.
    // With warnings (a prediction), a value that does not convert is predicted as missing
    // and said so, as a blank is; without, it is an error naming the row.
    Result<Column> col = datasets::ConvertColumn(*rc, fc.type, warnings != nullptr);
    if (!col.ok()) return Status::InvalidArgument("input column " + Quoted(fc.name) + ": " + col.status().message());
    if (warnings) {
      std::set<std::string> known(fc.categories.begin(), fc.categories.end());
      for (size_t r = 0; r < col->size(); ++r) {
        if (col->IsMissing(r) && rc->cells[r]) {
          std::string value(*rc->cells[r]);
          if (value.size() > 60) value = value.substr(0, 60) + "…";
          ++warnings->unconverted_rows[fc.name];
          std::vector<std::string>& values = warnings->unconverted[fc.name];
          if (values.size() < InputWarnings::kValuesPerColumn && std::find(values.begin(), values.end(), value) == values.end()) {
            values.push_back(value);
          }
          warn(r, fc.name + " \"" + value + "\" is not " + (fc.type == ColumnType::kDatetime ? "a date" : std::string("a ") + datasets::ColumnTypeName(fc.type) + " value") +
                      ": predicted as a missing value");
        } else if (col->IsMissing(r)) {
          ++warnings->blank[fc.name];
          warn(r, fc.name + " is blank: predicted as a missing value");
        } else if (fc.type == ColumnType::kNumeric && !std::isfinite(static_cast<float>(col->numbers[r]))) {
          ++warnings->blank[fc.name];
          warn(r, fc.name + " " + col->CellText(r) + " is not a finite number: predicted as a missing value");
        } else if (fc.type == ColumnType::kCategorical && !known.count(col->CellText(r))) {
          const std::string value = col->CellText(r);
          ++warnings->unseen_rows[fc.name];
          std::vector<std::string>& values = warnings->unseen[fc.name];
          if (values.size() < InputWarnings::kValuesPerColumn && std::find(values.begin(), values.end(), value) == values.end()) {
            values.push_back(value);
          }
          warn(r, fc.name + " \"" + (value.size() > 60 ? value.substr(0, 60) + "…" : value) +
                      "\" was not seen in training: it counts as none of the " + std::to_string(fc.categories.size()) +
                      " known categories");
        }
      }
    }
    converted.push_back(std::move(*col));
  }
  if (warnings) {
    for (size_t r = 0; r < unlisted.size(); ++r) {
      if (unlisted[r] > 0) warnings->rows[r].push_back("and " + std::to_string(unlisted[r]) + " more of the same kinds");
    }
  }
  std::vector<const Column*> ptrs;
  for (const Column& c : converted) ptrs.push_back(&c);
  return EncodeColumns(spec, ptrs, raw.rows());
}

Result<Examples> EncodeRows(const FeatureSpec& spec, const json& rows) {
  LOUPE_ASSIGN_OR_RETURN(datasets::RawTable raw, RowsToRawTable(spec, rows));
  return EncodeRawTable(spec, raw);
}

Result<datasets::RawTable> RowsToRawTable(const FeatureSpec& spec, const json& rows) {
  if (!rows.is_array()) return Status::InvalidArgument("rows must be an array of objects");
  if (rows.empty()) return Status::InvalidArgument("rows is empty");
  datasets::RawTable raw;
  for (const FeatureColumn& fc : spec.inputs) {
    datasets::RawColumn col{fc.name, {}};
    for (size_t r = 0; r < rows.size(); ++r) {
      const json& row = rows[r];
      if (!row.is_object()) return Status::InvalidArgument("rows[" + std::to_string(r) + "] must be an object");
      auto it = row.find(fc.name);
      // "NA", "" and the rest are missing here as in an uploaded file, so a row
      // predicts the same whichever way it arrives.
      if (it == row.end() || it->is_null() || (it->is_string() && datasets::IsMissingToken(it->get_ref<const std::string&>()))) {
        col.cells.push_back(std::nullopt);
      } else if (it->is_string()) {
        col.cells.push_back(it->get<std::string>());
      } else if (it->is_number() || it->is_boolean()) {
        col.cells.push_back(it->dump());
      } else {
        return Status::InvalidArgument("rows[" + std::to_string(r) + "]." + fc.name + " must be a string, number or boolean");
      }
    }
    raw.columns.push_back(std::move(col));
  }
  return raw;
}

}  // namespace loupe::training
