#include "evals/validators.h"

#include <re2/re2.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/ascii_case.h"
#include "common/bounded_json.h"
#include "evals/source_validators.h"

namespace loupe::evals {

using json = nlohmann::json;

namespace {

// Evidence kept per check (an answer of 4 MiB could hold millions of matches); counts
// go on past it.
constexpr size_t kMaxSpans = 100;

void AddSpan(ValidatorResult& r, Span s) {
  if (r.spans.size() < kMaxSpans) r.spans.push_back(std::move(s));
}

// How often `needle` is in `hay` (ASCII case folded unless case_sensitive); the first
// kMaxSpans occurrences go to r.spans.
size_t Find(ValidatorResult& r, const std::string& hay, const std::string& needle, bool case_sensitive) {
  if (needle.empty()) return 0;
  const std::string h = case_sensitive ? hay : AsciiLower(hay);
  const std::string n = case_sensitive ? needle : AsciiLower(needle);
  size_t count = 0;
  for (size_t at = h.find(n); at != std::string::npos; at = h.find(n, at + n.size())) {
    ++count;
    AddSpan(r, {at, at + n.size(), hay.substr(at, n.size())});
  }
  return count;
}

class Contains final : public Validator {
 public:
  Contains(std::string value, bool case_sensitive, bool wanted)
      : value_(std::move(value)), case_sensitive_(case_sensitive), wanted_(wanted) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{wanted_ ? "contains" : "not_contains"};
    const size_t count = Find(r, answer, value_, case_sensitive_);
    r.passed = wanted_ ? count > 0 : count == 0;
    r.message = count == 0 ? "\"" + value_ + "\" is not in the answer"
                           : "\"" + value_ + "\" is in the answer " + std::to_string(count) + " time(s)";
    return r;
  }

 private:
  std::string value_;
  bool case_sensitive_;
  bool wanted_;
};

// RE2 rather than std::regex: a person's pattern runs in time linear in the answer
// (std::regex backtracks, exponentially on patterns such as (a+)+b).
class Pattern final : public Validator {
 public:
  Pattern(std::unique_ptr<re2::RE2> re, bool wanted) : re_(std::move(re)), wanted_(wanted) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{wanted_ ? "regex" : "not_regex"};
    const re2::StringPiece text(answer);
    re2::StringPiece match;
    for (size_t at = 0; r.spans.size() < kMaxSpans && at <= answer.size();) {
      if (!re_->Match(text, at, answer.size(), RE2::UNANCHORED, &match, 1)) break;
      const size_t begin = static_cast<size_t>(match.data() - answer.data());
      r.spans.push_back({begin, begin + match.size(), std::string(match)});
      at = begin + std::max<size_t>(match.size(), 1);  // an empty match: step past a byte
    }
    r.passed = wanted_ ? !r.spans.empty() : r.spans.empty();
    r.message = r.spans.empty() ? "nothing in the answer matches /" + re_->pattern() + "/"
                                : std::to_string(r.spans.size()) + (r.spans.size() == kMaxSpans ? " or more" : "") +
                                      " match(es) of /" + re_->pattern() + "/";
    return r;
  }

 private:
  std::unique_ptr<re2::RE2> re_;
  bool wanted_;
};

class JsonSchemaCheck final : public Validator {
 public:
  explicit JsonSchemaCheck(std::optional<json> schema) : schema_json_(std::move(schema)) {
    if (schema_json_) {
      valijson::SchemaParser parser;
      valijson::adapters::NlohmannJsonAdapter adapter(*schema_json_);
      parser.populateSchema(adapter, schema_);
    }
  }
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{schema_json_ ? "json_schema" : "json"};
    // Deeper than Loupe takes anywhere: validating and freeing it would recurse per level.
    if (JsonNestingDepth(answer) > kMaxJsonDepth) {
      r.message = "the answer nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return r;
    }
    json doc;
    try {
      doc = json::parse(answer);
    } catch (const json::parse_error& e) {
      const size_t at = std::min(e.byte > 0 ? e.byte - 1 : 0, answer.size());
      r.message = std::string("the answer is not JSON: ") + e.what();
      r.spans.push_back({at, std::min(at + 1, answer.size()), answer.substr(at, 1)});
      return r;
    }
    if (!schema_json_) {
      r.passed = true;
      r.message = "the answer is JSON";
      return r;
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    r.passed = validator.validate(schema_, target, &results);
    if (r.passed) {
      r.message = "the answer is JSON that fits the schema";
      return r;
    }
    valijson::ValidationResults::Error error;
    std::vector<std::string> problems;
    while (results.popError(error)) {
      std::string where;
      for (const std::string& part : error.context) where += part;
      problems.push_back(where + ": " + error.description);
    }
    r.message = "the answer does not fit the schema: " + (problems.empty() ? std::string("?") : problems.front());
    for (const std::string& p : problems) AddSpan(r, {0, 0, p});  // fields, not text: no offsets
    return r;
  }

 private:
  std::optional<json> schema_json_;
  valijson::Schema schema_;
};

// ATX headings ("## Steps") outside fenced code blocks: the sections an answer has.
class MarkdownSections final : public Validator {
 public:
  explicit MarkdownSections(std::vector<std::string> required) : required_(std::move(required)) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{"markdown_sections"};
    std::vector<std::pair<std::string, Span>> headings;  // lower-cased title, where
    bool in_fence = false;
    for (size_t begin = 0; begin <= answer.size();) {
      size_t end = answer.find('\n', begin);
      if (end == std::string::npos) end = answer.size();
      std::string line = answer.substr(begin, end - begin);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t indent = line.find_first_not_of(' ');
      if (indent != std::string::npos && indent < 4) {
        const std::string rest = line.substr(indent);
        if (rest.rfind("```", 0) == 0 || rest.rfind("~~~", 0) == 0) {
          in_fence = !in_fence;
        } else if (!in_fence && rest[0] == '#') {
          const size_t hashes = rest.find_first_not_of('#');
          if (hashes != std::string::npos && hashes <= 6 && rest[hashes] == ' ') {
            std::string title = rest.substr(hashes + 1);
            while (!title.empty() && (title.back() == '#' || title.back() == ' ')) title.pop_back();
            const size_t start = title.find_first_not_of(' ');
            title = start == std::string::npos ? "" : title.substr(start);
            headings.push_back({AsciiLower(title), {begin + indent, begin + line.size(), line.substr(indent)}});
          }
        }
      }
      begin = end + 1;
    }
    std::vector<std::string> missing;
    for (const std::string& want : required_) {
      bool found = false;
      for (const auto& [title, span] : headings) {
        if (title == AsciiLower(want)) {
          r.spans.push_back(span);
          found = true;
          break;
        }
      }
      if (!found) missing.push_back(want);
    }
    r.passed = missing.empty();
    r.score = required_.empty() ? 1.0 : 1.0 - static_cast<double>(missing.size()) / static_cast<double>(required_.size());
    if (missing.empty()) {
      r.message = "every required section is there";
    } else {
      r.message = "missing section(s):";
      for (const std::string& m : missing) r.message += " \"" + m + "\"";
    }
    return r;
  }

 private:
  std::vector<std::string> required_;
};

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

class Length final : public Validator {
 public:
  Length(std::optional<int64_t> min, std::optional<int64_t> max) : min_(min), max_(max) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{"length"};
    const int64_t n = static_cast<int64_t>(CodePoints(answer));
    r.passed = (!min_ || n >= *min_) && (!max_ || n <= *max_);
    r.score = static_cast<double>(n);
    r.message = std::to_string(n) + " characters" +
                (r.passed ? "" : min_ && n < *min_ ? ", fewer than " + std::to_string(*min_)
                                                   : ", more than " + std::to_string(*max_));
    return r;
  }

 private:
  std::optional<int64_t> min_, max_;
};

class Refusal final : public Validator {
 public:
  explicit Refusal(bool expect) : expect_(expect) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    static const char* kPhrases[] = {"i can't help",        "i cannot help", "i can't assist", "i cannot assist",
                                     "i'm sorry, but i",    "i am sorry, but i", "i won't be able to",
                                     "i'm unable to",       "i am unable to", "as an ai language model",
                                     "i can't provide",     "i cannot provide", "i must decline"};
    ValidatorResult r{"refusal"};
    for (const char* p : kPhrases) {
      Find(r, answer, p, false);
    }
    std::sort(r.spans.begin(), r.spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    const bool refused = !r.spans.empty();
    r.passed = refused == expect_;
    r.message = refused ? "the answer refuses" : "the answer does not refuse";
    return r;
  }

 private:
  bool expect_;
};

// Calls f(span) for each number as written ("3.14", "1,000", "42"); "1,000" and "1000"
// match once Canonical.
template <class F>
void ForEachNumber(const std::string& s, F f) {
  for (size_t i = 0; i < s.size();) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) ||
                            ((s[j] == '.' || s[j] == ',') && j + 1 < s.size() &&
                             std::isdigit(static_cast<unsigned char>(s[j + 1]))))) {
      ++j;
    }
    f(Span{i, j, s.substr(i, j - i)});
    i = j;
  }
}

std::string Canonical(std::string number) {
  number.erase(std::remove(number.begin(), number.end(), ','), number.end());
  return number;
}

class GroundedNumbers final : public Validator {
 public:
  ValidatorResult Check(const std::string& answer, const std::string& context) const override {
    ValidatorResult r{"grounded_numbers"};
    std::set<std::string> known;
    ForEachNumber(context, [&](Span n) { known.insert(Canonical(n.text)); });
    size_t found = 0, unknown = 0;
    ForEachNumber(answer, [&](Span n) {
      ++found;
      if (known.count(Canonical(n.text))) return;
      ++unknown;
      AddSpan(r, std::move(n));
    });
    r.passed = unknown == 0;
    r.score = found == 0 ? 1.0 : 1.0 - static_cast<double>(unknown) / static_cast<double>(found);
    r.message = unknown == 0 ? "every number in the answer is in the context"
                             : std::to_string(unknown) + " of " + std::to_string(found) +
                                   " numbers in the answer appear nowhere in the context";
    return r;
  }
};

}  // namespace

Status CheckValidatorFields(const json& spec, std::set<std::string> allowed) {
  allowed.insert("type");
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string fields;
      for (const std::string& f : allowed) {
        if (f != "type") fields += (fields.empty() ? "" : ", ") + f;
      }
      return Status::InvalidArgument("a " + spec["type"].get<std::string>() + " validator has no field '" + it.key() +
                                     "' (" + (fields.empty() ? std::string("it has none but type") : "its fields: " + fields) + ")");
    }
  }
  return Status::Ok();
}

std::vector<Span> FindNumbers(const std::string& s) {
  std::vector<Span> out;
  ForEachNumber(s, [&](Span n) { out.push_back(std::move(n)); });
  return out;
}

std::string CanonicalNumber(std::string number) { return Canonical(std::move(number)); }

Result<std::unique_ptr<Validator>> MakeValidator(const json& spec) {
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string()) {
    return Status::InvalidArgument("a validator is an object with a \"type\"");
  }
  const std::string type = spec["type"];
  if (type == "contains" || type == "not_contains") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"value", "case_sensitive"}));
    if (!spec.contains("value") || !spec["value"].is_string() || spec["value"].get<std::string>().empty() ||
        spec["value"].get<std::string>().size() > 10000) {
      return Status::InvalidArgument("a " + type + " validator needs a \"value\" of 1 to 10000 bytes");
    }
    if (spec.contains("case_sensitive") && !spec["case_sensitive"].is_boolean()) {
      return Status::InvalidArgument("a " + type + " validator's \"case_sensitive\" is true or false");
    }
    const bool case_sensitive = spec.value("case_sensitive", false);
    return std::unique_ptr<Validator>(new Contains(spec["value"], case_sensitive, type == "contains"));
  }
  if (type == "regex" || type == "not_regex") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"pattern", "case_sensitive"}));
    if (!spec.contains("pattern") || !spec["pattern"].is_string() || spec["pattern"].get<std::string>().empty() ||
        spec["pattern"].get<std::string>().size() > 1000) {
      return Status::InvalidArgument("a " + type + " validator needs a \"pattern\" of 1 to 1000 bytes");
    }
    if (spec.contains("case_sensitive") && !spec["case_sensitive"].is_boolean()) {
      return Status::InvalidArgument("a " + type + " validator's \"case_sensitive\" is true or false");
    }
    RE2::Options options;
    options.set_case_sensitive(spec.value("case_sensitive", true));
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    auto re = std::make_unique<re2::RE2>(spec["pattern"].get<std::string>(), options);
    if (!re->ok()) return Status::InvalidArgument("the pattern is not a valid RE2 expression: " + re->error());
    return std::unique_ptr<Validator>(new Pattern(std::move(re), type == "regex"));
  }
  if (type == "markdown_sections") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"required"}));
    const json& required = spec.contains("required") ? spec["required"] : json();
    if (!required.is_array() || required.empty() || required.size() > 50) {
      return Status::InvalidArgument("a markdown_sections validator needs \"required\": 1 to 50 section titles");
    }
    std::vector<std::string> titles;
    for (const json& t : required) {
      if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>().size() > 200) {
        return Status::InvalidArgument("each required section is a title of 1 to 200 bytes");
      }
      titles.push_back(t);
    }
    return std::unique_ptr<Validator>(new MarkdownSections(std::move(titles)));
  }
  if (type == "json") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {}));
    return std::unique_ptr<Validator>(new JsonSchemaCheck(std::nullopt));
  }
  if (type == "json_schema") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"schema"}));
    if (!spec.contains("schema") || !spec["schema"].is_object()) {
      return Status::InvalidArgument("a json_schema validator needs a \"schema\" object");
    }
    try {
      return std::unique_ptr<Validator>(new JsonSchemaCheck(spec["schema"]));
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("the schema cannot be used: ") + e.what());
    }
  }
  if (type == "length") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"min", "max"}));
    std::optional<int64_t> min, max;
    for (auto [key, target] : {std::pair{"min", &min}, std::pair{"max", &max}}) {
      if (!spec.contains(key)) continue;
      if (!spec[key].is_number_integer() || spec[key].get<int64_t>() < 0) {
        return Status::InvalidArgument(std::string("a length validator's \"") + key + "\" is a whole number of characters");
      }
      *target = spec[key].get<int64_t>();
    }
    if (!min && !max) return Status::InvalidArgument("a length validator needs \"min\", \"max\" or both");
    if (min && max && *min > *max) return Status::InvalidArgument("a length validator's \"min\" is above its \"max\"");
    return std::unique_ptr<Validator>(new Length(min, max));
  }
  if (type == "refusal") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"expect"}));
    if (spec.contains("expect") && !spec["expect"].is_boolean()) {
      return Status::InvalidArgument("a refusal validator's \"expect\" is true or false");
    }
    return std::unique_ptr<Validator>(new Refusal(spec.value("expect", false)));
  }
  if (type == "grounded_numbers") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {}));
    return std::unique_ptr<Validator>(new GroundedNumbers());
  }
  if (type == "xml" || type == "grounded" || type == "citations") return MakeSourceValidator(spec);
  return Status::InvalidArgument("no validator of type \"" + type + "\"");
}

}  // namespace loupe::evals
