#include "evals/source_validators.h"

#include <expat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace loupe::evals {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxSpans = 100;

void AddSpan(ValidatorResult& r, size_t begin, size_t end, const std::string& text) {
  if (r.spans.size() < kMaxSpans) r.spans.push_back({begin, end, text.substr(begin, end - begin)});
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
// A byte of a word: ASCII letters and digits, and any byte of a UTF-8 sequence (so
// "Zürich" is one word).
bool IsWordByte(char c) { return IsAlnum(c) || (static_cast<unsigned char>(c) & 0x80) != 0 || c == '\''; }

// ---- xml -------------------------------------------------------------------------------

// An answer that is one fenced block (```xml ... ```) is read inside its fence.
std::pair<size_t, size_t> Unfenced(const std::string& a) {
  size_t b = a.find_first_not_of(" \t\r\n");
  size_t e = a.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return {0, 0};
  ++e;
  if (a.compare(b, 3, "```") == 0 && e >= b + 6 && a.compare(e - 3, 3, "```") == 0) {
    const size_t nl = a.find('\n', b);
    if (nl != std::string::npos && nl < e - 3) return {nl + 1, e - 3};
  }
  return {b, e};
}

class Xml final : public Validator {
 public:
  explicit Xml(std::string root) : root_(std::move(root)) {}
  ValidatorResult Check(const std::string& answer, const std::string&) const override {
    ValidatorResult r{"xml"};
    auto [begin, end] = Unfenced(answer);
    if (begin == end) {
      r.message = "the answer is empty, not XML";
      return r;
    }
    struct State {
      std::string root;
      long root_at = -1;
      XML_Parser parser = nullptr;
    } st;
    XML_Parser p = XML_ParserCreate("UTF-8");
    st.parser = p;
    XML_SetUserData(p, &st);
    XML_SetStartElementHandler(p, [](void* data, const XML_Char* name, const XML_Char**) {
      auto* s = static_cast<State*>(data);
      if (s->root_at < 0) {
        s->root = name;
        s->root_at = static_cast<long>(XML_GetCurrentByteIndex(s->parser));
      }
    });
    // Entities are not expanded from outside (expat never fetches), and its billion-laughs
    // protection bounds what internal ones may grow to.
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    const bool ok = XML_Parse(p, answer.data() + begin, static_cast<int>(end - begin), 1) == XML_STATUS_OK;
    if (!ok) {
      const size_t at = begin + static_cast<size_t>(std::max<XML_Index>(0, XML_GetErrorByteIndex(p)));
      // The span: the name or word the error points at, else the one byte.
      size_t to = at;
      while (to < end && (IsAlnum(answer[to]) || answer[to] == '_' || answer[to] == '-' || answer[to] == ':')) ++to;
      if (to == at) to = std::min(end, at + 1);
      r.message = "not well-formed XML at line " + std::to_string(XML_GetErrorLineNumber(p)) + ", column " +
                  std::to_string(XML_GetErrorColumnNumber(p) + 1) + ": " + XML_ErrorString(XML_GetErrorCode(p));
      if (at < answer.size()) AddSpan(r, at, std::max(to, at), answer);
      XML_ParserFree(p);
      return r;
    }
    XML_ParserFree(p);
    if (!root_.empty() && st.root != root_) {
      r.message = "the root element is <" + st.root + ">, not <" + root_ + ">";
      const size_t at = begin + static_cast<size_t>(std::max(0L, st.root_at));
      AddSpan(r, at, std::min(end, at + st.root.size() + 1), answer);
      return r;
    }
    r.passed = true;
    r.message = "well-formed XML" + (root_.empty() ? std::string() : " with root <" + root_ + ">");
    return r;
  }

 private:
  std::string root_;
};

// ---- grounded ---------------------------------------------------------------------------

// Capitalised words that start sentences or are everyday words, not names.
const std::set<std::string>& CommonWords() {
  static const std::set<std::string> words = {
      "I", "A", "An", "The", "This", "That", "These", "Those", "It", "Its", "In", "On", "At", "By", "For", "From",
      "To", "Of", "With", "Without", "And", "But", "Or", "Nor", "So", "Yet", "If", "When", "While", "Where", "Why",
      "What", "Which", "Who", "How", "Yes", "No", "Not", "As", "Also", "However", "Therefore", "Thus", "Overall",
      "First", "Second", "Third", "Finally", "Next", "Then", "Here", "There", "We", "You", "He", "She", "They",
      "My", "Our", "Your", "His", "Her", "Their", "Some", "Many", "Most", "All", "Each", "Every", "Both", "One",
      "Note", "Sure", "Certainly", "Please", "Thanks", "Thank", "Hello", "Hi", "After", "Before", "During",
      "Because", "Since", "Although", "Though", "Unlike", "Like", "Instead", "Additionally", "Moreover",
      "Furthermore", "In", "Summary", "Conclusion", "Example", "For", "Step", "Answer", "Question", "Based",
      "According", "Today", "Yesterday", "Tomorrow", "Let", "Let's", "Is", "Are", "Was", "Were", "Do", "Does",
      "Did", "Can", "Could", "Will", "Would", "Should", "May", "Might", "Must", "Be", "Have", "Has", "Had"};
  return words;
}

struct Item {
  size_t begin = 0, end = 0;
  std::string text;
};

// Runs of capitalised words ("Marie Curie", "Paris"), leaving out everyday words.
std::vector<Item> Names(const std::string& s) {
  std::vector<Item> out;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsWordByte(s[i]) || (i > 0 && IsWordByte(s[i - 1]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsWordByte(s[j])) ++j;
    const std::string word = s.substr(i, j - i);
    if (!IsUpper(word[0]) || CommonWords().count(word)) {
      i = j;
      continue;
    }
    // Join the capitalised words that follow, one space apart.
    size_t end = j;
    while (end + 1 < s.size() && s[end] == ' ' && IsUpper(s[end + 1])) {
      size_t k = end + 1;
      while (k < s.size() && IsWordByte(s[k])) ++k;
      if (CommonWords().count(s.substr(end + 1, k - end - 1))) break;
      end = k;
    }
    std::string text = s.substr(i, end - i);
    while (!text.empty() && text.back() == '\'') text.pop_back();  // a possessive's quote
    if (text.size() > 1 || IsUpper(text[0])) out.push_back({i, i + text.size(), text});
    i = end;
  }
  return out;
}

// Text between double quotes (ASCII or curly), 3 bytes or more.
std::vector<Item> Quotes(const std::string& s) {
  std::vector<Item> out;
  static const std::string kOpen = "\xE2\x80\x9C", kClose = "\xE2\x80\x9D";
  for (size_t i = 0; i < s.size(); ++i) {
    size_t start = std::string::npos, close = std::string::npos, skip = 0;
    if (s[i] == '"') {
      start = i + 1;
      close = s.find('"', start);
      skip = 1;
    } else if (s.compare(i, kOpen.size(), kOpen) == 0) {
      start = i + kOpen.size();
      close = s.find(kClose, start);
      skip = kClose.size();
    }
    if (start == std::string::npos || close == std::string::npos) continue;
    if (close - start >= 3 && s.substr(start, close - start).find('\n') == std::string::npos) {
      out.push_back({start, close, s.substr(start, close - start)});
    }
    i = close + skip - 1;
  }
  return out;
}

// Whitespace runs as one space, so a quote wrapped differently still matches.
std::string Squeezed(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

class Grounded final : public Validator {
 public:
  Grounded(bool numbers, bool names, bool quotes) : numbers_(numbers), names_(names), quotes_(quotes) {}
  ValidatorResult Check(const std::string& answer, const std::string& context) const override {
    ValidatorResult r{"grounded"};
    size_t found = 0, unknown = 0;
    std::vector<std::string> parts;
    if (numbers_) {
      std::set<std::string> known;
      for (const Span& n : FindNumbers(context)) known.insert(CanonicalNumber(n.text));
      const std::vector<Span> numbers = FindNumbers(answer);
      for (const Span& n : numbers) {
        if (!known.count(CanonicalNumber(n.text))) AddSpan(r, n.begin, n.end, answer);
        unknown += known.count(CanonicalNumber(n.text)) ? 0 : 1;
      }
      found += numbers.size();
      if (unknown) parts.push_back(std::to_string(unknown) + " of " + std::to_string(numbers.size()) + " numbers");
    }
    const std::string context_squeezed = Squeezed(context);
    auto check = [&](const std::vector<Item>& items, const char* what, bool squeeze) {
      size_t bad = 0;
      for (const Item& it : items) {
        const bool known = squeeze ? context_squeezed.find(Squeezed(it.text)) != std::string::npos
                                   : context.find(it.text) != std::string::npos;
        if (known) continue;
        ++bad;
        AddSpan(r, it.begin, it.end, answer);
      }
      found += items.size();
      unknown += bad;
      if (bad) parts.push_back(std::to_string(bad) + " of " + std::to_string(items.size()) + " " + what);
    };
    if (names_) check(Names(answer), "names", false);
    if (quotes_) check(Quotes(answer), "quoted strings", true);
    std::sort(r.spans.begin(), r.spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    r.passed = unknown == 0;
    r.score = found == 0 ? 1.0 : 1.0 - static_cast<double>(unknown) / static_cast<double>(found);
    if (unknown == 0) {
      r.message = found == 0 ? "nothing in the answer to ground" : "everything checked is in the context";
    } else {
      std::string joined;
      for (size_t i = 0; i < parts.size(); ++i) joined += (i ? ", " : "") + parts[i];
      r.message = joined + " in the answer appear nowhere in the context";
    }
    return r;
  }

 private:
  bool numbers_, names_, quotes_;
};

// ---- citations --------------------------------------------------------------------------

const std::set<std::string>& StopWords() {
  static const std::set<std::string> words = {
      "the", "and", "for", "are", "was", "were", "with", "that", "this", "these", "those", "from", "into", "has",
      "have", "had", "its", "it's", "their", "there", "than", "then", "but", "not", "also", "which", "who", "whom",
      "what", "when", "where", "why", "how", "been", "being", "can", "could", "will", "would", "should", "may",
      "might", "must", "about", "over", "under", "between", "such", "each", "other", "some", "any", "all", "most",
      "more", "very", "one", "our", "your", "they", "them", "his", "her", "she", "him", "you", "out", "per", "via",
      "upon", "only", "both", "well", "like", "just", "because", "while", "after", "before", "during", "does", "did"};
  return words;
}

std::string LowerWord(const std::string& w) {
  std::string out = w;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Content words: 3 bytes or more (or any number), lower-cased, stop words left out.
std::vector<std::string> ContentWords(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    if (!IsWordByte(s[i]) || s[i] == '\'') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsWordByte(s[j])) ++j;
    std::string w = LowerWord(s.substr(i, j - i));
    while (!w.empty() && w.back() == '\'') w.pop_back();
    const bool number = !w.empty() && std::isdigit(static_cast<unsigned char>(w[0]));
    if ((w.size() >= 3 || number) && !StopWords().count(w)) out.push_back(w);
    i = j;
  }
  return out;
}

bool IsIdChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }

// "[id]" or "[id, id]" at `at`: the ids and where the marker ends; none when it is not one
// (or is a markdown link's text, followed by "(").
bool ReadMarker(const std::string& s, size_t at, std::vector<std::string>& ids, size_t& end) {
  if (s[at] != '[') return false;
  ids.clear();
  size_t i = at + 1;
  while (true) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && IsIdChar(s[j]) && j - i < 32) ++j;
    if (j == i) return false;
    ids.push_back(s.substr(i, j - i));
    while (j < s.size() && s[j] == ' ') ++j;
    if (j < s.size() && s[j] == ',') {
      i = j + 1;
      continue;
    }
    if (j < s.size() && s[j] == ']') {
      end = j + 1;
      return !(end < s.size() && s[end] == '(');
    }
    return false;
  }
}

// The context's sources: a line starting "[id]" opens one, which runs to the next.
std::map<std::string, std::string> Sources(const std::string& context) {
  std::map<std::string, std::string> out;
  std::string current;
  size_t line = 0;
  while (line <= context.size()) {
    size_t next = context.find('\n', line);
    if (next == std::string::npos) next = context.size();
    size_t b = line;
    while (b < next && (context[b] == ' ' || context[b] == '\t')) ++b;
    std::vector<std::string> ids;
    size_t end = 0;
    if (b < next && ReadMarker(context, b, ids, end) && ids.size() == 1) {
      current = ids[0];
      out[current] += context.substr(end, next - end) + "\n";
    } else if (!current.empty()) {
      out[current] += context.substr(line, next - line) + "\n";
    }
    line = next + 1;
  }
  return out;
}

class Citations final : public Validator {
 public:
  Citations(double min_support, bool require) : min_support_(min_support), require_(require) {}
  ValidatorResult Check(const std::string& answer, const std::string& context) const override {
    ValidatorResult r{"citations"};
    const std::map<std::string, std::string> sources = Sources(context);
    std::map<std::string, std::set<std::string>> source_words;
    for (const auto& [id, text] : sources) {
      for (std::string& w : ContentWords(text)) source_words[id].insert(std::move(w));
    }
    struct Sentence {
      size_t begin = 0, end = 0;
      std::string text;  // without its markers
      std::vector<std::string> cited;
    };
    std::vector<Sentence> sentences;
    std::vector<std::pair<size_t, size_t>> unknown_markers;
    std::set<std::string> unknown_ids;
    Sentence cur;
    auto close = [&](size_t at) {
      cur.end = at;
      if (ContentWords(cur.text).empty() && !sentences.empty()) {
        // "... tall. [1]": a sentence of markers alone cites for the one before it.
        for (std::string& id : cur.cited) sentences.back().cited.push_back(std::move(id));
      } else if (!cur.text.empty() || !cur.cited.empty()) {
        sentences.push_back(cur);
      }
      cur = Sentence{};
      cur.begin = at;
    };
    for (size_t i = 0; i < answer.size();) {
      std::vector<std::string> ids;
      size_t end = 0;
      if (answer[i] == '[' && ReadMarker(answer, i, ids, end)) {
        for (const std::string& id : ids) {
          if (!sources.count(id)) {
            unknown_markers.push_back({i, end});
            unknown_ids.insert(id);
          }
          cur.cited.push_back(id);
        }
        i = end;
        continue;
      }
      cur.text += answer[i];
      const bool stop = answer[i] == '\n' ||
                        ((answer[i] == '.' || answer[i] == '!' || answer[i] == '?') &&
                         (i + 1 == answer.size() || answer[i + 1] == ' ' || answer[i + 1] == '\n'));
      ++i;
      if (stop) close(i);
    }
    close(answer.size());
    size_t citing = 0, supported = 0, uncited = 0, total_markers = 0;
    std::vector<std::pair<size_t, size_t>> bad_sentences;
    for (const Sentence& s : sentences) {
      const std::vector<std::string> words = ContentWords(s.text);
      total_markers += s.cited.size();
      if (s.cited.empty()) {
        if (require_ && words.size() >= 3) {
          ++uncited;
          bad_sentences.push_back({s.begin, s.end});
        }
        continue;
      }
      ++citing;
      std::set<std::string> passage;
      for (const std::string& id : s.cited) {
        auto it = source_words.find(id);
        if (it != source_words.end()) passage.insert(it->second.begin(), it->second.end());
      }
      size_t in = 0;
      for (const std::string& w : words) in += passage.count(w) ? 1 : 0;
      const double share = words.empty() ? 1.0 : static_cast<double>(in) / static_cast<double>(words.size());
      if (share >= min_support_) {
        ++supported;
      } else {
        bad_sentences.push_back({s.begin, s.end});
      }
    }
    for (auto [b, e] : unknown_markers) AddSpan(r, b, e, answer);
    for (auto [b, e] : bad_sentences) {
      while (b < e && (answer[b] == ' ' || answer[b] == '\n')) ++b;
      while (e > b && (answer[e - 1] == ' ' || answer[e - 1] == '\n')) --e;
      AddSpan(r, b, e, answer);
    }
    std::sort(r.spans.begin(), r.spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    r.score = citing == 0 ? 0.0 : static_cast<double>(supported) / static_cast<double>(citing);
    std::vector<std::string> problems;
    if (sources.empty()) problems.push_back("the case's context names no sources (lines starting [id])");
    if (total_markers == 0) problems.push_back("the answer cites no source");
    if (!unknown_ids.empty() && !sources.empty()) {
      std::string ids;
      for (const std::string& id : unknown_ids) ids += (ids.empty() ? "[" : ", [") + id + "]";
      problems.push_back("cited sources that do not exist: " + ids);
    }
    if (citing > supported) {
      problems.push_back(std::to_string(citing - supported) + " of " + std::to_string(citing) +
                         " citing sentences are not supported by what they cite");
    }
    if (uncited) problems.push_back(std::to_string(uncited) + " sentences cite nothing");
    r.passed = problems.empty();
    if (r.passed) {
      r.message = "every citation exists and supports its sentence (" + std::to_string(citing) + " sentences)";
    } else {
      for (size_t i = 0; i < problems.size(); ++i) r.message += (i ? "; " : "") + problems[i];
    }
    return r;
  }

 private:
  double min_support_;
  bool require_;
};

}  // namespace

Result<std::unique_ptr<Validator>> MakeSourceValidator(const json& spec) {
  const std::string type = spec["type"];
  if (type == "xml") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"root"}));
    std::string root;
    if (spec.contains("root")) {
      if (!spec["root"].is_string() || spec["root"].get<std::string>().empty() ||
          spec["root"].get<std::string>().size() > 200) {
        return Status::InvalidArgument("an xml validator's \"root\" is an element name of 1 to 200 bytes");
      }
      root = spec["root"];
    }
    return std::unique_ptr<Validator>(new Xml(root));
  }
  if (type == "grounded") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"check"}));
    bool numbers = true, names = true, quotes = true;
    if (spec.contains("check")) {
      const json& c = spec["check"];
      if (!c.is_array() || c.empty()) {
        return Status::InvalidArgument("a grounded validator's \"check\" lists numbers, names and/or quotes");
      }
      numbers = names = quotes = false;
      for (const json& k : c) {
        if (k == "numbers") {
          numbers = true;
        } else if (k == "names") {
          names = true;
        } else if (k == "quotes") {
          quotes = true;
        } else {
          return Status::InvalidArgument("a grounded validator checks numbers, names or quotes, not " + k.dump());
        }
      }
    }
    return std::unique_ptr<Validator>(new Grounded(numbers, names, quotes));
  }
  if (type == "citations") {
    LOUPE_RETURN_IF_ERROR(CheckValidatorFields(spec, {"min_support", "require"}));
    double min_support = 0.5;
    if (spec.contains("min_support")) {
      if (!spec["min_support"].is_number() || !(spec["min_support"].get<double>() >= 0) ||
          spec["min_support"].get<double>() > 1) {
        return Status::InvalidArgument("a citations validator's \"min_support\" is a share from 0 to 1");
      }
      min_support = spec["min_support"];
    }
    if (spec.contains("require") && !spec["require"].is_boolean()) {
      return Status::InvalidArgument("a citations validator's \"require\" is true or false");
    }
    return std::unique_ptr<Validator>(new Citations(min_support, spec.value("require", false)));
  }
  return Status::InvalidArgument("no validator of type \"" + type + "\"");
}

}  // namespace loupe::evals
