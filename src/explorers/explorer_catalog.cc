#include "explorers/explorer_catalog.h"

#include <algorithm>

#include "explorers/figures.h"

namespace loupe::explorers {

namespace {

using datasets::ColumnType;
using nlohmann::json;
using training::BoolParam;
using training::IntParam;
using training::TextParam;

// A plot of more columns is unreadable (and a correlation matrix of 784 pixel columns
// is 600,000 cells computed over every row).
constexpr size_t kMaxPlotColumns = 50;

const std::vector<ColumnType> kNumeric = {ColumnType::kNumeric};
const std::vector<ColumnType> kAny = {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kText,
                                      ColumnType::kBoolean, ColumnType::kDatetime};

std::string TypeList(const std::vector<ColumnType>& types) {
  std::string out;
  for (ColumnType t : types) out += (out.empty() ? "" : ", ") + std::string(datasets::ColumnTypeName(t));
  return out;
}

}  // namespace

const std::vector<ExplorerInfo>& ExplorerCatalog() {
  static const std::vector<ExplorerInfo> kExplorers = {
      {"ScatterPlotExplorer", "Scatter plot of two numeric columns, optionally coloured by a third.", 2, 2, kNumeric,
       {TextParam("color", "Column to colour points by (categorical: one colour per value; numeric: a scale)."),
        IntParam("max_points", 5000, 10, 200000, "Points drawn at most (an even sample of the rows beyond that).")},
       {"color"}},
      {"HistogramExplorer", "Histogram of a numeric column, optionally split by a category.", 1, 1, kNumeric,
       {IntParam("bins", 30, 1, 500, "Number of equal-width bins."), TextParam("color", "Categorical column to split the bars by.")},
       {"color"}},
      {"BoxPlotExplorer", "Box plots (quartiles, 1.5 IQR whiskers) of numeric columns, optionally per category.", 1, 0,
       kNumeric, {TextParam("group_by", "Categorical column: one box per value.")}, {"group_by"}},
      {"BarCountExplorer", "Counts of the most frequent values of a column.", 1, 1,
       {ColumnType::kCategorical, ColumnType::kBoolean, ColumnType::kText, ColumnType::kNumeric},
       {IntParam("top", 20, 1, 500, "Values shown (the most frequent).")}, {}},
      {"CorrelationMatrixExplorer", "Pearson correlation of numeric columns (all numeric columns when none are chosen).",
       0, 0, kNumeric, {}, {}},
      {"DescribeExplorer", "Statistics table: count, missing, distinct, mean, deviation, quartiles per column (all "
                           "columns when none are chosen).",
       0, 0, kAny, {}, {}},
      {"WordFrequencyExplorer", "Most frequent words of a text column.", 1, 1,
       {ColumnType::kText, ColumnType::kCategorical},
       {IntParam("top", 30, 1, 500, "Words shown."), IntParam("min_length", 3, 1, 50, "Shorter words are skipped."),
        BoolParam("stopwords", true, "Skip common English words.")},
       {}},
  };
  return kExplorers;
}

const ExplorerInfo* FindExplorer(const std::string& name) {
  for (const ExplorerInfo& e : ExplorerCatalog()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

json ExplorerJson(const ExplorerInfo& e) {
  json types = json::array();
  for (ColumnType t : e.column_types) types.push_back(datasets::ColumnTypeName(t));
  return {{"name", e.name}, {"type", "Explorer"}, {"description", e.description},
          {"columns", {{"min", e.min_columns}, {"max", e.max_columns ? json(e.max_columns) : json(nullptr)}, {"types", types}}},
          {"column_parameters", e.column_params}, {"schema", training::SchemaJson(e.params)}};
}

Result<json> ValidateExploration(const std::string& type, const std::vector<std::string>& columns, const json& parameters,
                                 const std::vector<std::pair<std::string, ColumnType>>* dataset_columns) {
  const ExplorerInfo* e = FindExplorer(type);
  if (!e) {
    std::string names;
    for (const ExplorerInfo& x : ExplorerCatalog()) names += (names.empty() ? "" : ", ") + x.name;
    return Status::InvalidArgument("unknown exploration_type \"" + type + "\" (known: " + names + ")");
  }
  if (columns.size() > kMaxPlotColumns && type != "DescribeExplorer") {
    return Status::InvalidArgument(type + " takes at most " + std::to_string(kMaxPlotColumns) + " columns; got " +
                                   std::to_string(columns.size()));
  }
  if (columns.size() < e->min_columns || (e->max_columns && columns.size() > e->max_columns)) {
    std::string want = e->min_columns == e->max_columns ? std::to_string(e->min_columns)
                       : e->max_columns ? std::to_string(e->min_columns) + " to " + std::to_string(e->max_columns)
                                        : "at least " + std::to_string(e->min_columns);
    return Status::InvalidArgument(type + " takes " + want + " column(s); got " + std::to_string(columns.size()));
  }
  Result<training::ValidatedParams> p = training::ValidateAndTransform(e->params, parameters);
  if (!p.ok()) return Status::InvalidArgument("parameters." + p.status().message());
  if (!dataset_columns) return p->values;
  auto find = [&](const std::string& name) -> const std::pair<std::string, ColumnType>* {
    for (const auto& c : *dataset_columns) {
      if (c.first == name) return &c;
    }
    return nullptr;
  };
  for (const std::string& name : columns) {
    const auto* c = find(name);
    if (!c) return Status::InvalidArgument("column \"" + name + "\" is not in the dataset");
    if (std::find(e->column_types.begin(), e->column_types.end(), c->second) == e->column_types.end()) {
      return Status::InvalidArgument("column \"" + name + "\" is " + datasets::ColumnTypeName(c->second) + "; " + type +
                                     " takes " + TypeList(e->column_types) + " columns");
    }
  }
  for (const std::string& cp : e->column_params) {
    std::string name = p->values.value(cp, "");
    if (name.empty()) continue;
    const auto* c = find(name);
    if (!c) return Status::InvalidArgument("parameters." + cp + ": column \"" + name + "\" is not in the dataset");
    if (cp == "group_by" && c->second != ColumnType::kCategorical && c->second != ColumnType::kBoolean) {
      return Status::InvalidArgument("parameters.group_by: column \"" + name + "\" is " +
                                     datasets::ColumnTypeName(c->second) + "; grouping needs a categorical or boolean column");
    }
    if (cp == "color" && type == "HistogramExplorer" && c->second != ColumnType::kCategorical && c->second != ColumnType::kBoolean) {
      return Status::InvalidArgument("parameters.color: column \"" + name + "\" is " + datasets::ColumnTypeName(c->second) +
                                     "; splitting a histogram needs a categorical or boolean column");
    }
    if (cp == "color" && c->second == ColumnType::kText) {
      return Status::InvalidArgument("parameters.color: column \"" + name + "\" is text; colour by a categorical, boolean or numeric column");
    }
  }
  return p->values;
}

namespace {

// Plotly renders pseudo-HTML in every text it draws (titles, trace names, tick labels,
// hover text): a column named <a href="javascript:..."> became a link. Figures carry no
// markup of their own, so every string is made plain; Plotly shows the entities as the
// characters they stand for.
void EscapePlotlyMarkup(json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.find_first_of("<>&") == std::string::npos) return;
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
      if (c == '<') out += "&lt;";
      else if (c == '>') out += "&gt;";
      else if (c == '&') out += "&amp;";
      else out += c;
    }
    j = std::move(out);
  } else if (j.is_array() || j.is_object()) {
    for (json& v : j) EscapePlotlyMarkup(v);
  }
}

}  // namespace

Result<json> RunExploration(const std::string& type, const std::vector<std::string>& columns, const json& p,
                            const datasets::Table& table) {
  std::vector<const datasets::Column*> cols;
  for (const std::string& name : columns) {
    const datasets::Column* c = table.Find(name);
    if (!c) return Status::InvalidArgument("column \"" + name + "\" is not in the dataset");
    cols.push_back(c);
  }
  auto optional_col = [&](const char* param) { return table.Find(p.value(param, "")); };
  json figure;
  if (type == "ScatterPlotExplorer") {
    figure = ScatterFigure(*cols[0], *cols[1], optional_col("color"), p.value("max_points", 5000));
  } else if (type == "HistogramExplorer") {
    figure = HistogramFigure(*cols[0], p.value("bins", 30), optional_col("color"));
  } else if (type == "BoxPlotExplorer") {
    figure = BoxFigure(cols, optional_col("group_by"));
  } else if (type == "BarCountExplorer") {
    figure = BarCountFigure(*cols[0], p.value("top", 20));
  } else if (type == "CorrelationMatrixExplorer") {
    if (cols.empty()) {
      for (const datasets::Column& c : table.columns) {
        if (c.type == datasets::ColumnType::kNumeric) cols.push_back(&c);
      }
    }
    if (cols.size() < 2) return Status::InvalidArgument("a correlation matrix needs at least two numeric columns");
    if (cols.size() > kMaxPlotColumns) {
      return Status::InvalidArgument("the dataset has " + std::to_string(cols.size()) + " numeric columns; choose at most " +
                                     std::to_string(kMaxPlotColumns) + " for a correlation matrix");
    }
    figure = CorrelationFigure(cols);
  } else if (type == "DescribeExplorer") {
    if (cols.empty()) {
      for (const datasets::Column& c : table.columns) cols.push_back(&c);
    }
    return json{{"type", "tabular"}, {"data", DescribeTable(cols)}, {"config", json::object()}};
  } else if (type == "WordFrequencyExplorer") {
    figure = WordFrequencyFigure(*cols[0], p.value("top", 30), p.value("min_length", 3), p.value("stopwords", true));
  } else {
    return Status::InvalidArgument("unknown exploration_type \"" + type + "\"");
  }
  EscapePlotlyMarkup(figure);
  return json{{"type", "plotly_json"}, {"data", figure}, {"config", {{"responsive", true}}}};
}

}  // namespace loupe::explorers
