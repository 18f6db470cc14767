#include "datasets/cleaning.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/csv.h"
#include "common/number_text.h"
#include "common/time_util.h"
#include "datasets/column_types.h"
#include "datasets/table_parser.h"

namespace loupe::datasets {

namespace {

using nlohmann::json;

// The times ISO 8601 text without an expanded year can hold: 0000-01-01 to 9999-12-31.
constexpr int64_t kFirstWritableMicros = -62167219200LL * 1000000;
constexpr int64_t kLastWritableMicros = 253402300799LL * 1000000 + 999999;
bool Writable(int64_t micros) { return micros >= kFirstWritableMicros && micros <= kLastWritableMicros; }

// Fill and comparison values are finite: the number's shortest round-trip text.
std::string Shortest(double v) {
  std::string out;
  AppendNumberText(out, v);
  return out;
}

class Cleaner {
 public:
  explicit Cleaner(const Table& t) : t_(t), fill_(t.columns.size()) {
    for (size_t c = 0; c < t.columns.size(); ++c) cols_.push_back(c);
    rows_.resize(t.rows());
    for (size_t r = 0; r < rows_.size(); ++r) rows_[r] = r;
  }

  Result<json> Apply(const json& step) {
    if (!step.is_object()) return Status::InvalidArgument("is not an object");
    const json* op = Find(step, "op");
    if (!op || !op->is_string()) return Status::InvalidArgument("needs \"op\": drop_columns, drop_missing, fill_missing or filter_rows");
    const std::string name = op->get<std::string>();
    if (name == "drop_columns") return DropColumns(step);
    if (name == "drop_missing") return DropMissing(step);
    if (name == "fill_missing") return FillMissing(step);
    if (name == "filter_rows") return FilterRows(step);
    return Status::InvalidArgument("unknown op \"" + name.substr(0, 40) +
                                   "\" (drop_columns, drop_missing, fill_missing or filter_rows)");
  }

  Result<CleanedTable> Finish(json steps) const {
    for (size_t c : cols_) {
      const datasets::Column& col = t_.columns[c];
      if (col.type != ColumnType::kDatetime) continue;
      for (size_t r : rows_) {
        if (!col.IsMissing(r) && !Writable(col.micros[r])) {
          return Status::InvalidArgument("column " + col.name + ", row " + std::to_string(r + 1) +
                                         ": a time outside the years 0000-9999 cannot be written to the copy; "
                                         "filter that row out or drop the column");
        }
      }
    }
    CleanedTable out;
    out.steps = std::move(steps);
    out.rows = rows_.size();
    std::string& csv = out.csv;
    for (size_t i = 0; i < cols_.size(); ++i) csv += (i ? "," : "") + CsvFieldExact(t_.columns[cols_[i]].name);
    csv += '\n';
    for (size_t r : rows_) {
      for (size_t i = 0; i < cols_.size(); ++i) {
        if (i) csv += ',';
        if (!Missing(cols_[i], r)) csv += CsvFieldExact(Text(cols_[i], r));
      }
      csv += '\n';
    }
    for (size_t c : cols_) {
      if (t_.columns[c].type_overridden) out.set_by_hand[t_.columns[c].name] = t_.columns[c].type;
    }
    return out;
  }

 private:
  static const json* Find(const json& o, const char* key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &*it;
  }

  static Status OnlyKeys(const json& step, std::initializer_list<const char*> keys) {
    for (auto it = step.begin(); it != step.end(); ++it) {
      if (it.key() == "result") continue;  // a recorded step sent back as it was shown
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) {
        return Status::InvalidArgument("unknown field \"" + it.key().substr(0, 40) + "\"");
      }
    }
    return Status::Ok();
  }

  Result<size_t> Column(const json& step, const char* key = "column") const {
    const json* c = Find(step, key);
    if (!c || !c->is_string()) return Status::InvalidArgument(std::string("needs \"") + key + "\", a column name");
    return Kept(c->get<std::string>());
  }

  Result<size_t> Kept(const std::string& name) const {
    for (size_t c : cols_) {
      if (t_.columns[c].name == name) return c;
    }
    for (const auto& col : t_.columns) {
      if (col.name == name) return Status::InvalidArgument("column \"" + name + "\" was dropped by an earlier step");
    }
    return Status::InvalidArgument("no column \"" + name.substr(0, 200) + "\"");
  }

  Result<std::vector<size_t>> Columns(const json& step, bool empty_means_all) const {
    const json* list = Find(step, "columns");
    if (!list || list->is_null() || (list->is_array() && list->empty())) {
      if (empty_means_all) return cols_;
      return Status::InvalidArgument("needs \"columns\", a list of column names");
    }
    if (!list->is_array()) return Status::InvalidArgument("\"columns\" must be a list of column names");
    std::vector<size_t> out;
    for (const json& n : *list) {
      if (!n.is_string()) return Status::InvalidArgument("\"columns\" must be a list of column names");
      LOUPE_ASSIGN_OR_RETURN(size_t c, Kept(n.get<std::string>()));
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
    return out;
  }

  // A cell is filled when its column has a fill and it was missing: rows dropped before
  // the fill never come back, so every missing cell still here was filled.
  bool Missing(size_t c, size_t r) const { return !fill_[c] && t_.columns[c].IsMissing(r); }

  std::string Text(size_t c, size_t r) const {
    const datasets::Column& col = t_.columns[c];
    if (col.IsMissing(r)) return fill_[c] ? *fill_[c] : "";
    return col.type == ColumnType::kDatetime ? FormatIsoMicros(col.micros[r]) : col.CellText(r);
  }

  std::optional<double> Number(size_t c, size_t r) const {
    const datasets::Column& col = t_.columns[c];
    if (!col.IsMissing(r)) {
      if (col.type == ColumnType::kNumeric) return col.numbers[r];
      if (col.type == ColumnType::kDatetime) return static_cast<double>(col.micros[r]);
      return std::nullopt;
    }
    if (!fill_[c]) return std::nullopt;
    if (col.type != ColumnType::kDatetime) return ParseNumber(*fill_[c]);
    std::optional<int64_t> micros = ParseIsoMicros(*fill_[c]);
    return micros ? std::optional<double>(static_cast<double>(*micros)) : std::nullopt;
  }

  Result<json> DropColumns(const json& step) {
    LOUPE_RETURN_IF_ERROR(OnlyKeys(step, {"op", "columns"}));
    LOUPE_ASSIGN_OR_RETURN(std::vector<size_t> drop, Columns(step, false));
    if (drop.size() == cols_.size()) return Status::InvalidArgument("would drop every column");
    std::erase_if(cols_, [&](size_t c) { return std::find(drop.begin(), drop.end(), c) != drop.end(); });
    return json{{"columns_dropped", drop.size()}};
  }

  Result<json> DropMissing(const json& step) {
    LOUPE_RETURN_IF_ERROR(OnlyKeys(step, {"op", "columns"}));
    LOUPE_ASSIGN_OR_RETURN(std::vector<size_t> cols, Columns(step, true));
    const size_t before = rows_.size();
    std::erase_if(rows_, [&](size_t r) { return std::any_of(cols.begin(), cols.end(), [&](size_t c) { return Missing(c, r); }); });
    return json{{"rows_removed", before - rows_.size()}};
  }

  // The value a fill or a comparison names, as the column's cell text.
  Result<std::string> ValueFor(size_t c, const json& v) const {
    const datasets::Column& col = t_.columns[c];
    switch (col.type) {
      case ColumnType::kNumeric:
        if (!v.is_number() || !std::isfinite(v.get<double>())) {
          return Status::InvalidArgument("\"value\" must be a number: " + col.name + " is numeric");
        }
        return Shortest(v.get<double>());
      case ColumnType::kDatetime: {
        if (!v.is_string() || !ParseIsoMicros(v.get<std::string>()) || !Writable(*ParseIsoMicros(v.get<std::string>()))) {
          return Status::InvalidArgument("\"value\" must be an ISO 8601 date or time in the years 0000-9999: " + col.name +
                                         " is a datetime");
        }
        return FormatIsoMicros(*ParseIsoMicros(v.get<std::string>()));
      }
      case ColumnType::kBoolean: {
        std::vector<std::string> spellings = col.categories.size() == 2 ? col.categories
                                                                         : std::vector<std::string>{"false", "true"};
        std::string text = v.is_boolean() ? spellings[v.get<bool>() ? 1 : 0] : v.is_string() ? v.get<std::string>() : "";
        if (std::find(spellings.begin(), spellings.end(), text) == spellings.end()) {
          return Status::InvalidArgument("\"value\" must be " + spellings[0] + " or " + spellings[1] + ": " + col.name +
                                         " is yes/no");
        }
        return text;
      }
      case ColumnType::kCategorical:
      case ColumnType::kText:
        if (!v.is_string() || v.get<std::string>().empty() || IsMissingToken(v.get<std::string>())) {
          return Status::InvalidArgument("\"value\" must be text that is not blank and does not read as missing");
        }
        if (v.get<std::string>().size() > 10000) return Status::InvalidArgument("\"value\" is over 10,000 bytes");
        return v.get<std::string>();
    }
    return Status::InvalidArgument("unsupported column type");
  }

  Result<json> FillMissing(const json& step) {
    LOUPE_RETURN_IF_ERROR(OnlyKeys(step, {"op", "column", "with", "value"}));
    LOUPE_ASSIGN_OR_RETURN(size_t c, Column(step));
    const datasets::Column& col = t_.columns[c];
    const json* with = Find(step, "with");
    if (!with || !with->is_string()) return Status::InvalidArgument("needs \"with\": mean, median, mode or value");
    const std::string how = with->get<std::string>();
    const json* value = Find(step, "value");
    if (how != "value" && value) return Status::InvalidArgument("\"value\" is for \"with\": \"value\"");
    size_t missing = 0;
    for (size_t r : rows_) missing += Missing(c, r) ? 1 : 0;
    std::string fill;
    if (how == "mean" || how == "median") {
      if (col.type != ColumnType::kNumeric) {
        return Status::InvalidArgument("the " + how + " needs numbers: " + col.name + " is " + ColumnTypeName(col.type) +
                                       " (use mode or value)");
      }
      std::vector<double> present;
      for (size_t r : rows_) {
        if (std::optional<double> v = Number(c, r); v && std::isfinite(*v)) present.push_back(*v);
      }
      if (present.empty()) return Status::InvalidArgument(col.name + " has no values to take the " + how + " of");
      double v;
      if (how == "mean") {
        long double sum = 0;
        for (double x : present) sum += x;
        v = static_cast<double>(sum / static_cast<long double>(present.size()));
      } else {
        std::sort(present.begin(), present.end());
        const size_t n = present.size();
        // numpy's median: the mean of the middle two (halved first only where the sum overflows).
        const double a = present[(n - 1) / 2], b = present[n / 2], m = (a + b) / 2;
        v = std::isfinite(m) ? m : a / 2 + b / 2;
      }
      fill = Shortest(v);
    } else if (how == "mode") {
      std::unordered_map<std::string, size_t> counts;
      for (size_t r : rows_) {
        if (Missing(c, r)) continue;
        if (col.type == ColumnType::kDatetime && !col.IsMissing(r) && !Writable(col.micros[r])) continue;
        ++counts[Text(c, r)];
      }
      if (counts.empty()) return Status::InvalidArgument(col.name + " has no values to take the mode of");
      const auto best = std::min_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;  // most common, then first by text
      });
      fill = best->first;
    } else if (how == "value") {
      if (!value) return Status::InvalidArgument("needs \"value\" with \"with\": \"value\"");
      LOUPE_ASSIGN_OR_RETURN(fill, ValueFor(c, *value));
    } else {
      return Status::InvalidArgument("\"with\" must be mean, median, mode or value");
    }
    if (missing == 0) return json{{"value_used", fill}, {"cells_filled", 0}};
    fill_[c] = fill;
    return json{{"value_used", fill}, {"cells_filled", missing}};
  }

  Result<json> FilterRows(const json& step) {
    LOUPE_RETURN_IF_ERROR(OnlyKeys(step, {"op", "column", "test", "value"}));
    LOUPE_ASSIGN_OR_RETURN(size_t c, Column(step));
    const datasets::Column& col = t_.columns[c];
    const json* test_json = Find(step, "test");
    static const std::set<std::string> kTests = {"==", "!=", "<", "<=", ">", ">=", "contains", "missing", "present"};
    if (!test_json || !test_json->is_string() || !kTests.count(test_json->get<std::string>())) {
      return Status::InvalidArgument("needs \"test\": ==, !=, <, <=, >, >=, contains, missing or present");
    }
    const std::string test = test_json->get<std::string>();
    const json* value = Find(step, "value");
    std::function<bool(size_t)> keep;
    if (test == "missing" || test == "present") {
      if (value) return Status::InvalidArgument("\"" + test + "\" takes no \"value\"");
      const bool want_missing = test == "missing";
      keep = [&, c, want_missing](size_t r) { return Missing(c, r) == want_missing; };
    } else {
      if (!value) return Status::InvalidArgument("needs \"value\" to compare with");
      const bool ordered = test != "==" && test != "!=" && test != "contains";
      const bool by_value = col.type == ColumnType::kNumeric || col.type == ColumnType::kDatetime;
      if (ordered && !by_value) {
        return Status::InvalidArgument("\"" + test + "\" compares numbers and dates: " + col.name + " is " +
                                       ColumnTypeName(col.type));
      }
      if (test == "contains") {
        if (!value->is_string() || value->get<std::string>().empty()) {
          return Status::InvalidArgument("\"contains\" needs a non-empty text \"value\"");
        }
        const std::string part = value->get<std::string>();
        keep = [this, c, part](size_t r) { return !Missing(c, r) && Text(c, r).find(part) != std::string::npos; };
      } else if (by_value) {
        LOUPE_ASSIGN_OR_RETURN(std::string text, ValueFor(c, *value));
        const double want = col.type == ColumnType::kDatetime ? static_cast<double>(*ParseIsoMicros(text)) : *ParseNumber(text);
        keep = [this, c, want, test](size_t r) {
          std::optional<double> v = Number(c, r);
          if (!v || std::isnan(*v)) return false;  // a missing value passes only "missing"
          if (test == "==") return *v == want;
          if (test == "!=") return *v != want;
          if (test == "<") return *v < want;
          if (test == "<=") return *v <= want;
          if (test == ">") return *v > want;
          return *v >= want;
        };
      } else {
        LOUPE_ASSIGN_OR_RETURN(std::string text, ValueFor(c, *value));
        const bool equal = test == "==";
        keep = [this, c, text, equal](size_t r) { return !Missing(c, r) && (Text(c, r) == text) == equal; };
      }
    }
    const size_t before = rows_.size();
    size_t missing_removed = 0;
    std::erase_if(rows_, [&](size_t r) {
      if (keep(r)) return false;
      missing_removed += Missing(c, r) ? 1 : 0;
      return true;
    });
    // A missing value passes no comparison: say how many of the removed rows that was.
    return json{{"rows_removed", before - rows_.size()}, {"missing_removed", missing_removed}, {"rows_left", rows_.size()}};
  }

  const Table& t_;
  std::vector<size_t> cols_;
  std::vector<size_t> rows_;
  std::vector<std::optional<std::string>> fill_;  // per column: the value missing cells took
};

}  // namespace

Result<CleanedTable> ApplyCleaning(const Table& table, const json& steps) {
  if (!steps.is_array() || steps.empty()) return Status::InvalidArgument("steps must be a non-empty list");
  if (steps.size() > kMaxCleaningSteps) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxCleaningSteps) + " steps");
  }
  Cleaner cleaner(table);
  json recorded = json::array();
  for (size_t i = 0; i < steps.size(); ++i) {
    Result<json> result = cleaner.Apply(steps[i]);
    if (!result.ok()) return Status::InvalidArgument("step " + std::to_string(i + 1) + ": " + result.status().message());
    json step = steps[i];
    step["result"] = *result;  // replaces a result sent back with a recorded step
    recorded.push_back(std::move(step));
  }
  LOUPE_ASSIGN_OR_RETURN(CleanedTable out, cleaner.Finish(std::move(recorded)));
  if (out.rows == 0) return Status::InvalidArgument("the steps leave no rows");
  return out;
}

}  // namespace loupe::datasets
