#include "ui/cleaning_words.h"

#include <string>

namespace loupe {

namespace {

using nlohmann::json;

std::string Names(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += i + 1 == list.size() ? " and " : ", ";
    out += list[i].is_string() ? list[i].get<std::string>() : list[i].dump();
  }
  return out;
}

std::string Count(const json& v, const char* one, const char* many) {
  const int64_t n = v.is_number_integer() ? v.get<int64_t>() : 0;
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string ValueText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

json CleaningStepView(const json& step) {
  const std::string op = step.value("op", "");
  const json result = step.value("result", json::object());
  std::string text, outcome;
  if (op == "drop_columns") {
    text = "drop " + Names(step.value("columns", json::array()));
    outcome = Count(result.value("columns_dropped", json(0)), "column dropped", "columns dropped");
  } else if (op == "drop_missing") {
    const json cols = step.value("columns", json::array());
    text = "drop rows missing a value " + (cols.is_array() && !cols.empty() ? "in " + Names(cols) : std::string("in any column"));
    outcome = Count(result.value("rows_removed", json(0)), "row removed", "rows removed");
  } else if (op == "fill_missing") {
    const std::string with = step.value("with", "");
    text = "fill missing " + step.value("column", "") + " with " +
           (with == "value" ? ValueText(step.value("value", json(""))) : "the " + with + " (" + result.value("value_used", "") + ")");
    outcome = Count(result.value("cells_filled", json(0)), "cell filled", "cells filled");
  } else if (op == "filter_rows") {
    const std::string test = step.value("test", "");
    text = "keep rows where " + step.value("column", "") + " " +
           (test == "missing" ? "is missing" : test == "present" ? "is present" : test + " " + ValueText(step.value("value", json(""))));
    const int64_t missing = result.value("missing_removed", int64_t{0});
    outcome = Count(result.value("rows_removed", json(0)), "row removed", "rows removed") +
              (missing > 0 && test != "missing" ? " (" + std::to_string(missing) + " of them missing a value)" : "") + ", " +
              Count(result.value("rows_left", json(0)), "left", "left");
  } else {
    text = op;
  }
  return {{"text", text}, {"result", outcome}};
}

}  // namespace loupe
