#include "tracking/run_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace loupe {

namespace {

constexpr size_t kMaxTerms = 20;
constexpr size_t kMaxFilterBytes = 500;

// Splits on spaces; "double quotes" keep a phrase together.
std::vector<std::string> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if ((c == ' ' || c == '\t') && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

bool IsOperator(const std::string& t) {
  return t == "=" || t == "==" || t == "!=" || t == ">" || t == ">=" || t == "<" || t == "<=";
}

bool StartsWithOperator(const std::string& t) { return !t.empty() && (t[0] == '=' || t[0] == '!' || t[0] == '<' || t[0] == '>'); }
bool EndsWithOperator(const std::string& t) { return !t.empty() && (t.back() == '=' || t.back() == '<' || t.back() == '>'); }

// "lr > 0.01", "lr >0.01" and "lr> 0.01" are the comparison "lr>0.01", not three words.
std::vector<std::string> JoinComparisons(const std::vector<std::string>& terms) {
  std::vector<std::string> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string t = terms[i];
    if (IsOperator(t) && !out.empty()) {
      out.back() += t + (i + 1 < terms.size() ? terms[++i] : "");  // "lr >" is refused for its missing value
      continue;
    }
    if (StartsWithOperator(t) && t.size() > 1 && !out.empty() && !IsOperator(out.back()) &&
        out.back().find_first_of("=<>") == std::string::npos && out.back().rfind("tag:", 0) != 0) {
      out.back() += t;
      continue;
    }
    if (EndsWithOperator(t) && t.find_first_of("=<>") != 0 && i + 1 < terms.size()) {
      t += terms[++i];
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace

std::optional<double> ParseFilterNumber(const std::string& s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  // strtod also reads hex ("0x1p3"); a table filter means decimal.
  if (s.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  return v;
}

Result<RunFilter> ParseRunFilter(const std::string& text) {
  if (text.size() > kMaxFilterBytes) {
    return Status::InvalidArgument("the search is longer than " + std::to_string(kMaxFilterBytes) + " bytes");
  }
  RunFilter f;
  for (const std::string& raw : JoinComparisons(SplitTerms(text))) {
    if (raw.empty()) continue;
    if (raw[0] == '=' || raw[0] == '<' || raw[0] == '>') {
      return Status::InvalidArgument("'" + raw + "': a comparison needs a key before the operator, as in lr>0.01");
    }
    FilterTerm t;
    if (raw.rfind("tag:", 0) == 0) {
      t.kind = FilterTerm::Kind::kTag;
      t.value = raw.substr(4);
      if (t.value.empty()) return Status::InvalidArgument("tag: needs a tag name, as in tag:baseline");
    } else if (size_t pos = raw.find_first_of("=!<>"); pos != std::string::npos && pos > 0) {
      t.kind = FilterTerm::Kind::kCompare;
      t.key = raw.substr(0, pos);
      std::string rest = raw.substr(pos);
      for (const char* op : {">=", "<=", "!=", "=", ">", "<"}) {
        if (rest.rfind(op, 0) == 0) {
          t.op = op;
          break;
        }
      }
      if (t.op.empty()) {
        return Status::InvalidArgument("'" + raw + "': use one of = != > >= < <= between a key and a value");
      }
      t.value = rest.substr(t.op.size());
      if (t.op == "=" && !t.value.empty() && t.value[0] == '=') t.value.erase(0, 1);  // lr==0.01
      t.number = ParseFilterNumber(t.value);
      if (t.op != "=" && t.op != "!=" && !t.number) {
        return Status::InvalidArgument("'" + raw + "': " + t.op + " compares numbers, and '" + t.value +
                                       "' is not a number");
      }
    } else {
      t.value = raw;
    }
    f.terms.push_back(std::move(t));
    if (f.terms.size() > kMaxTerms) {
      return Status::InvalidArgument("the search has more than " + std::to_string(kMaxTerms) + " terms");
    }
  }
  return f;
}

bool CompareMatches(const FilterTerm& term, const std::string& text, std::optional<double> number) {
  const std::string& op = term.op;
  if (term.number && number) {
    double a = *number, b = *term.number;
    // Equal to nine significant digits: a config computed as 10 ** -4 (0.00009999999999999999
    // in JavaScript) is the lr=1e-4 a user types.
    const bool equal = std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
    if (op == "=") return equal;
    if (op == "!=") return !equal;
    if (op == ">") return a > b && !equal;   // the orderings agree with that equality
    if (op == ">=") return a > b || equal;
    if (op == "<") return a < b && !equal;
    if (op == "<=") return a < b || equal;
    return false;
  }
  if (op == "=") return text == term.value;
  if (op == "!=") return text != term.value;
  return false;  // an ordering needs a number on both sides
}

}  // namespace loupe
