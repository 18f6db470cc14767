#include "evals/batch_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <sstream>

#include "auth/crypto.h"
#include "common/bounded_json.h"
#include "common/time_util.h"
#include "evals/ab_compare.h"
#include "evals/ab_stats.h"
#include "evals/validators.h"
#include "llm/feedback_service.h"
#include "llm/model_registry.h"

namespace loupe::evals {

namespace {

using nlohmann::json;

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxSystem = 32768;
constexpr size_t kMaxContext = 256 << 10;
constexpr size_t kMaxExpected = 64 << 10;
constexpr size_t kMaxLabels = 50;
constexpr size_t kMaxAssertions = 20;
constexpr int64_t kWaitMicros = 200000;

bool IsId(const json& v) { return v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() < 9.2e18; }

Status TextField(const json& v, const std::string& what, size_t max, std::string& out) {
  if (!v.is_string() || v.get<std::string>().size() > max ||
      llm::HasControlCharacters(v.get<std::string>(), /*allow_whitespace=*/true)) {
    return Status::InvalidArgument(what + " must be text of at most " + std::to_string(max) +
                                   " bytes without control characters");
  }
  out = v.get<std::string>();
  return Status::Ok();
}

// One case of a run from its JSON: InvalidArgument naming the case and the field.
Result<BatchCase> CaseFrom(const json& v, size_t index, size_t max_message_bytes) {
  const std::string at = "case " + std::to_string(index + 1);
  if (!v.is_object()) return Status::InvalidArgument(at + " must be an object");
  BatchCase c;
  c.position = static_cast<int64_t>(index);
  json messages = json::array();
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    if (k == "prompt") {
      std::string p;
      LOUPE_RETURN_IF_ERROR(TextField(*it, at + ": 'prompt'", max_message_bytes, p));
      if (p.find_first_not_of(" \t\r\n") == std::string::npos) return Status::InvalidArgument(at + ": the prompt is empty");
      messages.push_back({{"role", "user"}, {"content", p}});
    } else if (k == "messages") {
      if (!it->is_array() || it->empty() || it->size() > 200) {
        return Status::InvalidArgument(at + ": 'messages' must be a list of 1-200 {role, content}");
      }
      for (const json& m : *it) {
        if (!m.is_object() || !m.contains("role") || !m.contains("content") || m.size() != 2 ||
            (m["role"] != "user" && m["role"] != "assistant")) {
          return Status::InvalidArgument(at + ": each message must be {role: user|assistant, content}");
        }
        std::string content;
        LOUPE_RETURN_IF_ERROR(TextField(m["content"], at + ": a message's content", max_message_bytes, content));
        messages.push_back({{"role", m["role"]}, {"content", content}});
      }
      if (messages.back()["role"] != "user") return Status::InvalidArgument(at + ": the last message must be the user's");
    } else if (k == "expected") {
      LOUPE_RETURN_IF_ERROR(TextField(*it, at + ": 'expected'", kMaxExpected, c.expected));
    } else if (k == "context") {
      LOUPE_RETURN_IF_ERROR(TextField(*it, at + ": 'context'", kMaxContext, c.context));
    } else if (k == "labels") {
      json labels = json::array();
      if (it->is_string()) {
        if (!it->get<std::string>().empty()) labels.push_back(*it);
      } else if (it->is_array() && it->size() <= kMaxLabels) {
        for (const json& l : *it) {
          std::string text;
          LOUPE_RETURN_IF_ERROR(TextField(l, at + ": a label", 200, text));
          labels.push_back(text);
        }
      } else {
        return Status::InvalidArgument(at + ": 'labels' must be text or a list of at most 50 labels");
      }
      c.labels_json = labels.dump();
    } else if (k == "assertions") {
      if (!it->is_array() || it->size() > kMaxAssertions) {
        return Status::InvalidArgument(at + ": 'assertions' must be a list of at most 20 validators");
      }
      for (size_t i = 0; i < it->size(); ++i) {
        Result<std::unique_ptr<Validator>> made = MakeValidator((*it)[i]);
        if (!made.ok()) {
          return Status::InvalidArgument(at + ": assertion " + std::to_string(i + 1) + ": " + made.status().message());
        }
      }
      c.assertions_json = it->dump();
    } else {
      return Status::InvalidArgument(at + ": unknown field '" + k + "'");
    }
  }
  if (messages.empty()) return Status::InvalidArgument(at + " needs a 'prompt' or 'messages'");
  if (v.contains("prompt") && v.contains("messages")) {
    return Status::InvalidArgument(at + ": give 'prompt' or 'messages', not both");
  }
  c.messages_json = messages.dump();
  return c;
}

std::vector<std::string> SplitLabels(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text + ";") {
    if (ch == ';' || ch == '|') {
      const size_t b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

// RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks.
Result<std::vector<std::vector<std::string>>> CsvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == ',') {
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
    } else {
      field += ch;
    }
  }
  if (quoted) return Status::InvalidArgument("the CSV ends inside a quoted field");
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return QuantileOfSorted(v, q);
}

json SpanJson(const Span& s) { return {{"begin", s.begin}, {"end", s.end}, {"text", s.text}}; }

// The assertions' results for an answer, and whether all passed (an answer that failed
// passes nothing).
std::pair<json, bool> Check(const BatchCase& c, const Prediction& p, const json& options) {
  json checks = json::array();
  bool all = p.outcome == "ok";
  if (p.outcome != "ok") {
    checks.push_back({{"type", "answered"}, {"passed", false}, {"message", p.error_text.empty() ? p.outcome : p.error_text}});
    return {checks, false};
  }
  std::vector<json> specs;
  json own = json::parse(c.assertions_json, nullptr, false);
  if (own.is_array()) specs.insert(specs.end(), own.begin(), own.end());
  if (options.contains("validators") && options["validators"].is_array()) {
    specs.insert(specs.end(), options["validators"].begin(), options["validators"].end());
  }
  for (const json& spec : specs) {
    Result<std::unique_ptr<Validator>> v = MakeValidator(spec);
    if (!v.ok()) {
      checks.push_back({{"type", spec.value("type", "?")}, {"passed", false}, {"message", v.status().message()}});
      all = false;
      continue;
    }
    ValidatorResult r = (*v)->Check(p.response, c.context);
    json spans = json::array();
    for (const Span& s : r.spans) spans.push_back(SpanJson(s));
    checks.push_back({{"type", r.type}, {"passed", r.passed}, {"score", r.score ? json(*r.score) : json(nullptr)},
                      {"message", r.message}, {"spans", spans}});
    all = all && r.passed;
  }
  if (options.contains("match_expected") && !c.expected.empty()) {
    // Trimmed and ASCII case-folded: a label "Spam" matches the expected "spam".
    auto fold = [](std::string s) {
      const size_t b = s.find_first_not_of(" \t\r\n");
      const size_t e = s.find_last_not_of(" \t\r\n");
      s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    };
    const std::string got = fold(p.response), want = fold(c.expected);
    const bool exact = options["match_expected"] == "exact";
    const bool ok = exact ? got == want : got.find(want) != std::string::npos;
    checks.push_back({{"type", "expected"},
                      {"passed", ok},
                      {"score", ok ? 1.0 : 0.0},
                      {"message", ok ? std::string(exact ? "the answer is the expected output" : "the answer holds the expected output")
                                     : "expected \"" + c.expected.substr(0, 200) + "\"" + (exact ? ", the answer differs" : ", not in the answer")}});
    all = all && ok;
  }
  if (options.contains("max_latency_ms")) {
    const double max = options["max_latency_ms"].get<double>();
    const bool ok = p.latency_ms <= max;
    std::ostringstream m;
    m << "answered in " << std::llround(p.latency_ms) << " ms" << (ok ? ", within " : ", over ") << max << " ms";
    checks.push_back({{"type", "latency"}, {"passed", ok}, {"score", p.latency_ms}, {"message", m.str()}});
    all = all && ok;
  }
  if (options.contains("max_cost_usd")) {
    const double max = options["max_cost_usd"].get<double>();
    const bool ok = p.cost_usd && *p.cost_usd <= max;
    std::ostringstream m;
    if (p.cost_usd) {
      m << "cost $" << *p.cost_usd << (ok ? ", within $" : ", over $") << max;
    } else {
      m << "cost unknown (the model has no prices or the provider reported no usage)";
    }
    checks.push_back({{"type", "cost"}, {"passed", ok}, {"score", p.cost_usd ? json(*p.cost_usd) : json(nullptr)},
                      {"message", m.str()}});
    all = all && ok;
  }
  return {checks, all};
}

std::string LastUser(const std::string& messages_json) {
  json m = json::parse(messages_json, nullptr, false);
  if (!m.is_array()) return "";
  for (auto it = m.rbegin(); it != m.rend(); ++it) {
    if (it->is_object() && it->value("role", "") == "user" && (*it)["content"].is_string()) {
      return (*it)["content"].get<std::string>();
    }
  }
  return "";
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

Result<json> ParseTestSet(const std::string& file_name, const std::string& bytes, size_t max_cases) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return file_name.size() >= e.size() &&
           std::equal(e.rbegin(), e.rend(), file_name.rbegin(), [](char a, char b) { return a == std::tolower(b); });
  };
  json cases = json::array();
  if (ends(".jsonl") || ends(".ndjson")) {
    size_t line_no = 0, start = 0;
    while (start < bytes.size()) {
      size_t nl = bytes.find('\n', start);
      if (nl == std::string::npos) nl = bytes.size();
      std::string line = bytes.substr(start, nl - start);
      start = nl + 1;
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json v = ParseBoundedJson(line);
      if (v.is_discarded() || !v.is_object()) {
        return Status::InvalidArgument("line " + std::to_string(line_no) + " of " + file_name + " is not a JSON object");
      }
      if (cases.size() >= max_cases) return Status::InvalidArgument("a test set holds at most " + std::to_string(max_cases) + " cases");
      cases.push_back(std::move(v));
    }
  } else if (ends(".csv")) {
    LOUPE_ASSIGN_OR_RETURN(auto rows, CsvRecords(bytes));
    if (rows.empty()) return Status::InvalidArgument(file_name + " is empty");
    std::vector<std::string> header = rows[0];
    for (std::string& h : header) {
      std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return std::tolower(ch); });
      h.erase(0, h.find_first_not_of(' '));
      h.erase(h.find_last_not_of(' ') + 1);
    }
    static const std::set<std::string> known = {"prompt", "expected", "labels", "context", "assertions"};
    if (std::find(header.begin(), header.end(), "prompt") == header.end()) {
      return Status::InvalidArgument(file_name + " has no 'prompt' column (columns: prompt, expected, labels, context, assertions)");
    }
    for (const std::string& h : header) {
      if (!known.count(h)) return Status::InvalidArgument(file_name + ": unknown column '" + h + "'");
    }
    for (size_t r = 1; r < rows.size(); ++r) {
      if (rows[r].size() != header.size()) {
        return Status::InvalidArgument("row " + std::to_string(r + 1) + " of " + file_name + " has " +
                                       std::to_string(rows[r].size()) + " fields, the header " +
                                       std::to_string(header.size()));
      }
      json c = json::object();
      for (size_t k = 0; k < header.size(); ++k) {
        const std::string& v = rows[r][k];
        if (header[k] == "labels") {
          c["labels"] = SplitLabels(v);
        } else if (header[k] == "assertions") {
          if (v.empty()) continue;
          json a = ParseBoundedJson(v);
          if (a.is_discarded()) {
            return Status::InvalidArgument("row " + std::to_string(r + 1) + " of " + file_name +
                                           ": 'assertions' is not JSON");
          }
          c["assertions"] = a;
        } else if (!v.empty() || header[k] == "prompt") {
          c[header[k]] = v;
        }
      }
      if (cases.size() >= max_cases) return Status::InvalidArgument("a test set holds at most " + std::to_string(max_cases) + " cases");
      cases.push_back(std::move(c));
    }
  } else {
    return Status::InvalidArgument("a test set is a .csv or .jsonl file");
  }
  if (cases.empty()) return Status::InvalidArgument(file_name + " holds no cases");
  // Every case checked now, as a run would, so a bad assertion is named at upload.
  for (size_t i = 0; i < cases.size(); ++i) LOUPE_RETURN_IF_ERROR(CaseFrom(cases[i], i, 32 << 10).status());
  return cases;
}

BatchService::BatchService(BatchStore& store, ChatStore& chats, LlmStore& models, llm::ChatService& chat,
                           JudgeService& judges, BatchOptions options)
    : store_(store), chats_(chats), models_(models), chat_(chat), judges_(judges), options_(options) {
  scheduler_ = std::thread([this] { Schedule(); });
  recorder_ = std::thread([this] { RecordLoop(); });
}

BatchService::~BatchService() { Stop(); }

void BatchService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  // What is queued is written; answers that end later (the HTTP client stops after this
  // module) are written as they come.
  {
    std::lock_guard<std::mutex> lock(record_mu_);
    record_stopping_ = true;
  }
  record_wake_.notify_all();
  if (recorder_.joinable()) recorder_.join();
}

Result<BatchRun> BatchService::Create(const json& body, const std::string& by, const SuiteLink& suite) {
  LOUPE_ASSIGN_OR_RETURN(Parsed parsed, Parse(body, by, true));
  BatchRun& run = parsed.run;
  for (int64_t id : run.model_ids) {
    LOUPE_ASSIGN_OR_RETURN(LlmModel m, models_.GetLlmModel(id));
    run.model_names.push_back(m.name);
  }
  if (run.title.empty()) {
    run.title = std::to_string(parsed.cases.size()) + " cases on ";
    for (size_t i = 0; i < run.model_names.size(); ++i) run.title += (i ? ", " : "") + run.model_names[i];
    if (run.title.size() > kMaxTitle) run.title = run.title.substr(0, kMaxTitle - 3) + "...";
  }
  run.created_by = by;
  run.create_time = NowMicros();
  if (suite.suite_id > 0) {
    run.suite_id = suite.suite_id;
    run.reason = suite.reason;
    run.trigger_id = suite.trigger_id;
    run.trigger_time = suite.trigger_time;
    if (suite.threshold) {
      json options = json::parse(run.options_json, nullptr, false);
      if (options.is_object()) {
        options["suite_threshold"] = *suite.threshold;
        run.options_json = options.dump();
      }
    }
  }
  LOUPE_ASSIGN_OR_RETURN(BatchRun created, store_.CreateBatchRun(run, parsed.cases));
  {
    std::lock_guard<std::mutex> lock(mu_);
    more_ = true;
  }
  wake_.notify_all();
  return created;
}

Status BatchService::CheckTestSet(const json& body, const std::string& by) {
  if (body.is_object() && (body.contains("model_ids") || body.contains("title"))) {
    return Status::InvalidArgument("a test set names no models and no title: the suite's runs do");
  }
  return Parse(body, by, false).status();
}

Result<BatchService::Parsed> BatchService::Parse(const json& body, const std::string& by, bool need_models) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  Parsed parsed;
  BatchRun& run = parsed.run;
  std::vector<BatchCase>& cases = parsed.cases;
  json options = {{"concurrency", 8}, {"rpm", 0}, {"cache", true}, {"system", ""}, {"params", json::object()}};
  bool has_cases = false;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "title") {
      if (!v.is_string() || v.get<std::string>().size() > kMaxTitle || llm::HasControlCharacters(v.get<std::string>())) {
        return Status::InvalidArgument("'title' must be a string of at most 200 bytes without control characters");
      }
      run.title = v.get<std::string>();
    } else if (k == "model_ids") {
      if (!v.is_array() || v.empty() || v.size() > options_.max_models) {
        return Status::InvalidArgument("'model_ids' must name 1 to " + std::to_string(options_.max_models) + " models");
      }
      for (const json& m : v) {
        if (!IsId(m)) return Status::InvalidArgument("'model_ids' must hold models' ids");
        if (std::find(run.model_ids.begin(), run.model_ids.end(), m.get<int64_t>()) != run.model_ids.end()) {
          return Status::InvalidArgument("'model_ids' names model " + std::to_string(m.get<int64_t>()) + " twice");
        }
        run.model_ids.push_back(m.get<int64_t>());
      }
    } else if (k == "cases") {
      if (!v.is_array() || v.empty() || v.size() > options_.max_cases) {
        return Status::InvalidArgument("'cases' must hold 1 to " + std::to_string(options_.max_cases) + " cases");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        LOUPE_ASSIGN_OR_RETURN(BatchCase c, CaseFrom(v[i], i, options_.max_message_bytes));
        cases.push_back(std::move(c));
      }
      has_cases = true;
    } else if (k == "system") {
      std::string system;
      LOUPE_RETURN_IF_ERROR(TextField(v, "'system'", kMaxSystem, system));
      options["system"] = system;
    } else if (k == "params") {
      if (!v.is_object() || v.contains("system")) {
        return Status::InvalidArgument("'params' must be an object of temperature, top_p, max_tokens, stop, seed");
      }
      LOUPE_ASSIGN_OR_RETURN(json params, llm::CheckSamplingDefaults(v));
      options["params"] = params;
    } else if (k == "concurrency") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > options_.max_concurrency) {
        return Status::InvalidArgument("'concurrency' must be 1 to " + std::to_string(options_.max_concurrency) +
                                       " calls at once per model");
      }
      options["concurrency"] = v;
    } else if (k == "rpm") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100000) {
        return Status::InvalidArgument("'rpm' must be 0 (no limit) to 100000 requests per minute per model");
      }
      options["rpm"] = v;
    } else if (k == "cache") {
      if (!v.is_boolean()) return Status::InvalidArgument("'cache' must be true or false");
      options["cache"] = v;
    } else if (k == "validators") {
      if (!v.is_array() || v.size() > kMaxAssertions) {
        return Status::InvalidArgument("'validators' must be a list of at most 20 validators");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        Result<std::unique_ptr<Validator>> made = MakeValidator(v[i]);
        if (!made.ok()) {
          return Status::InvalidArgument("validator " + std::to_string(i + 1) + ": " + made.status().message());
        }
      }
      options["validators"] = v;
    } else if (k == "judge") {
      LOUPE_RETURN_IF_ERROR(judges_.CheckBatchJudge(v, by));
      options["judge"] = v;
    } else if (k == "match_expected") {
      if (v != "exact" && v != "contains") {
        return Status::InvalidArgument("'match_expected' must be exact or contains (the answer against each case's expected output)");
      }
      options[k] = v;
    } else if (k == "max_latency_ms" || k == "max_cost_usd") {
      if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>())) {
        return Status::InvalidArgument("'" + k + "' must be a positive number");
      }
      options[k] = v;
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  if (need_models && run.model_ids.empty()) return Status::InvalidArgument("'model_ids' must name 1 to 8 models");
  if (!has_cases) return Status::InvalidArgument("'cases' must hold at least one case");
  run.options_json = options.dump();
  return parsed;
}

Status BatchService::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    more_ = true;
  }
  wake_.notify_all();
  return Status::Ok();
}

Result<json> BatchService::OptionsOf(int64_t run_id) {
  LOUPE_ASSIGN_OR_RETURN(BatchRun run, store_.GetBatchRun(run_id));
  json o = json::parse(run.options_json, nullptr, false);
  if (!o.is_object()) o = json::object();
  o["_by"] = run.created_by;
  return o;
}

bool BatchService::Fill() {
  size_t skip = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    skip = known_.size();
    more_ = false;
  }
  Result<std::vector<PendingBatchCell>> pending =
      store_.PendingBatchCells(0, static_cast<int64_t>(skip + options_.fetch));
  if (!pending.ok()) {
    spdlog::error("batch tests: cannot read the cells to run: {}", pending.status().message());
    return false;
  }
  std::map<int64_t, std::string> providers;
  std::map<int64_t, json> options;
  std::vector<Queued> fresh;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (PendingBatchCell& p : *pending) {
      if (known_.count(p.cell_id)) continue;
      fresh.push_back({std::move(p), 0, ""});
    }
  }
  for (Queued& q : fresh) {
    if (!options.count(q.cell.run_id)) {
      Result<json> o = OptionsOf(q.cell.run_id);
      options[q.cell.run_id] = o.ok() ? *o : json::object();
    }
    const json& o = options[q.cell.run_id];
    q.model = q.cell.model_id;
    if (q.cell.judge_prediction && o.contains("judge")) q.model = o["judge"].value("judge_model_id", int64_t{0});
    auto it = providers.find(q.model);
    if (it == providers.end()) {
      Result<LlmModel> m = models_.GetLlmModel(q.model);
      it = providers.emplace(q.model, m.ok() ? m->base_url : "").first;
    }
    q.provider = it->second;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [run, o] : options) run_options_[run] = o;
  for (Queued& q : fresh) {
    if (stopped_runs_.count(q.cell.run_id)) continue;  // cancelled while its cells were read
    if (!known_.insert(q.cell.cell_id).second) continue;
    queue_.push_back(std::move(q));
  }
  more_ = more_ || pending->size() == skip + options_.fetch;
  return !fresh.empty();
}

void BatchService::Schedule() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (more_ && queue_.size() < options_.fetch / 2) {
      lock.unlock();
      Fill();
      lock.lock();
      if (stopping_) return;
    }
    const int64_t now = NowMicros();
    int64_t wake_at = now + kWaitMicros;
    std::vector<std::pair<Queued, json>> start;
    // Keys found full in this pass are not looked at again (a queue of thousands is
    // scanned only as far as the first cell of each key that may start).
    std::set<std::pair<int64_t, int64_t>> full;
    std::set<std::string> full_providers;
    for (auto it = queue_.begin(); it != queue_.end();) {
      const std::pair<int64_t, int64_t> key{it->cell.run_id, it->model};
      if (full.count(key) || full_providers.count(it->provider)) {
        ++it;
        continue;
      }
      const json& o = run_options_[it->cell.run_id];
      const int limit = o.value("concurrency", 8);
      const int64_t rpm = o.value("rpm", int64_t{0});
      if (in_flight_[key] >= limit) {
        full.insert(key);
        ++it;
        continue;
      }
      if (provider_in_flight_[it->provider] >= options_.provider_concurrency) {
        full_providers.insert(it->provider);
        ++it;
        continue;
      }
      if (rpm > 0) {
        int64_t& next = next_start_micros_[key];
        if (now < next) {
          wake_at = std::min(wake_at, next);
          full.insert(key);
          ++it;
          continue;
        }
        next = std::max(now, next) + 60000000 / rpm;
      }
      ++in_flight_[key];
      ++provider_in_flight_[it->provider];
      start.emplace_back(std::move(*it), o);
      it = queue_.erase(it);
    }
    if (!start.empty()) {
      lock.unlock();
      for (auto& [q, o] : start) {
        if (q.cell.judge_prediction) {
          StartJudge(q, o);
        } else {
          StartCell(q, o);
        }
      }
      lock.lock();
      continue;
    }
    if (more_ && queue_.size() < options_.fetch / 2) continue;
    wake_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(1000, wake_at - now)));
  }
}

void BatchService::StartCell(const Queued& q, const json& options) {
  const PendingBatchCell cell = q.cell;
  const std::string provider = q.provider;
  auto finish = [this, cell, provider] { Ended(cell.cell_id, cell.run_id, cell.model_id, provider); };
  const bool judge = options.contains("judge");
  const std::string by = options.value("_by", "");
  const std::string system = options.value("system", "");
  const std::string params = options.contains("params") ? options["params"].dump() : "{}";
  std::vector<llm::ChatMessage> messages;
  json m = json::parse(cell.c.messages_json, nullptr, false);
  if (m.is_array()) {
    for (const json& x : m) messages.push_back({x.value("role", "user"), x.value("content", "")});
  }
  // A cell that cannot be asked (the model was removed, its key cannot be read) ends with
  // the reason, as a failed call would.
  auto setup_error = [&](const Status& why) {
    Prediction p;
    p.time = NowMicros();
    p.model_id = cell.model_id;
    Result<LlmModel> model = models_.GetLlmModel(cell.model_id);
    p.model_name = model.ok() ? model->name : "model " + std::to_string(cell.model_id);
    p.api = model.ok() ? model->api : "";
    p.messages_json = cell.c.messages_json;
    p.outcome = "error";
    p.error_type = "setup";
    p.error_text = why.message();
    p.source = "batch";
    p.created_by = by;
    auto [checks, passed] = Check(cell.c, p, options);
    Record({{cell.cell_id, p, false, checks.dump(), passed, "", false}, cell.run_id, cell.model_id, provider});
  };
  Result<LlmModel> model = models_.GetLlmModel(cell.model_id);
  if (!model.ok()) return setup_error(model.status());
  std::string cache_key;
  if (options.value("cache", true)) {
    // What decides the answer: the endpoint, its defaults, the run's system prompt and
    // parameters, the messages.
    cache_key = auth::HashToken(json{{"api", model->api}, {"base_url", model->base_url}, {"model", model->model},
                                     {"defaults", model->defaults_json}, {"system", system}, {"params", params},
                                     {"messages", cell.c.messages_json}}
                                    .dump(-1, ' ', false, json::error_handler_t::replace));
    Result<std::optional<int64_t>> hit = store_.FindCachedAnswer(cache_key);
    if (hit.ok() && *hit) {
      Result<Prediction> p = chats_.GetPrediction(**hit);
      if (p.ok()) {
        auto [checks, passed] = Check(cell.c, *p, options);
        return Record({{cell.cell_id, *p, true, checks.dump(), passed, "", judge && p->outcome == "ok"},
                       cell.run_id, cell.model_id, provider});
      }
    }
  }
  // Whether the recorder ends the cell (its answer is queued for the next group write),
  // or the call's end does.
  auto queued = std::make_shared<bool>(false);
  auto record = [this, cell, cache_key, options, judge, provider, queued](const Prediction& p) -> Result<int64_t> {
    // Stopped (cancelled or the server stopping): the call is kept, the cell waits to be
    // asked again.
    if (p.outcome == "cancelled") return chats_.RecordPrediction(p);
    auto [checks, passed] = Check(cell.c, p, options);
    *queued = true;
    Record({{cell.cell_id, p, false, checks.dump(), passed, p.outcome == "ok" ? cache_key : "",
             judge && p.outcome == "ok"},
            cell.run_id, cell.model_id, provider});
    return int64_t{0};  // its id comes with the write; nobody reads it from the call
  };
  Result<std::shared_ptr<llm::ChatCall>> call =
      chat_.PrepareCall(cell.model_id, system, params, std::move(messages), by, "batch", record);
  if (!call.ok()) return setup_error(call.status());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& calls = calls_[cell.run_id];
    std::erase_if(calls, [](const std::weak_ptr<llm::ChatCall>& w) { return w.expired(); });
    calls.push_back(*call);
    if (stopping_) (*call)->Cancel();
  }
  (*call)->Start([finish, queued](const std::string& event, const json&) {
    if ((event == "done" || event == "error") && !*queued) finish();
    return true;
  });
}

void BatchService::Record(PendingWrite w) {
  // The call's place is free at once (the next call need not wait for this commit); the
  // cell stays known, so it is not read as pending again, until its answer is stored.
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_[{w.run_id, w.model}];
    --provider_in_flight_[w.provider];
  }
  wake_.notify_all();
  {
    std::lock_guard<std::mutex> lock(record_mu_);
    if (!record_stopping_) {
      record_queue_.push_back(std::move(w));
      record_wake_.notify_one();
      return;
    }
  }
  // Stopped: written at once, on the caller's thread.
  std::vector<PendingWrite> one;
  one.push_back(std::move(w));
  Write(one);
}

void BatchService::Write(std::vector<PendingWrite>& batch) {
  std::vector<BatchWrite> writes;
  writes.reserve(batch.size());
  for (PendingWrite& w : batch) writes.push_back(std::move(w.write));
  Status s = store_.RecordBatchResults(writes, NowMicros());
  // A failed write leaves the cells pending: asked again, never lost as answered.
  if (!s.ok()) spdlog::error("batch tests: cannot record {} answers: {}", writes.size(), s.message());
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const PendingWrite& w : batch) {
      known_.erase(w.write.cell_id);
      auto o = run_options_.find(w.run_id);
      if (o != run_options_.end() && o->second.contains("judge")) more_ = true;  // judge work appeared
    }
  }
  wake_.notify_all();
}

void BatchService::RecordLoop() {
  std::unique_lock<std::mutex> lock(record_mu_);
  while (true) {
    record_wake_.wait(lock, [&] { return record_stopping_ || !record_queue_.empty(); });
    if (record_queue_.empty()) return;  // stopping, and nothing left
    std::vector<PendingWrite> batch;
    batch.swap(record_queue_);
    lock.unlock();
    Write(batch);
    lock.lock();
  }
}

void BatchService::StartJudge(const Queued& q, const json& options) {
  const PendingBatchCell cell = q.cell;
  const int64_t model = q.model;
  const std::string provider = q.provider;
  auto finish = [this, cell, model, provider] { Ended(cell.cell_id, cell.run_id, model, provider); };
  const json& spec = options["judge"];
  JudgeRequest r;
  r.prediction_id = *cell.judge_prediction;
  r.judge_model_id = model;
  r.context = cell.c.context;
  r.reference = cell.c.expected;
  r.by = options.value("_by", "");
  Result<Rubric> rubric = judges_.BatchRubric(spec, !cell.c.context.empty());
  auto record = [this, cell](const Result<json>& verdict) {
    json v = verdict.ok() ? *verdict : json{{"error", verdict.status().message()}, {"passed", nullptr}, {"overall", nullptr}};
    std::optional<double> score;
    std::optional<bool> passed;
    if (v.contains("overall") && v["overall"].is_number()) score = v["overall"].get<double>();
    if (v.contains("passed") && v["passed"].is_boolean()) passed = v["passed"].get<bool>();
    v.erase("judgment_ids");
    Status s = store_.RecordBatchJudge(cell.cell_id, v.dump(-1, ' ', false, json::error_handler_t::replace), score,
                                       passed, NowMicros());
    if (!s.ok()) spdlog::error("batch cell {}: cannot record the judge's verdict: {}", cell.cell_id, s.message());
  };
  if (!rubric.ok()) {
    record(rubric.status());
    return finish();
  }
  r.rubric = *rubric;
  judges_.Start(r, [record, finish](Result<json> verdict) {
    // The server stopping is no verdict: the answer waits to be judged after the restart.
    if (!(!verdict.ok() && verdict.status().code() == Code::kUnavailable)) record(verdict);
    finish();
  });
}

void BatchService::Ended(int64_t cell_id, int64_t run_id, int64_t model_id, const std::string& provider) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    known_.erase(cell_id);
    --in_flight_[{run_id, model_id}];
    --provider_in_flight_[provider];
    // The cell may still be pending (a call a cancel stopped, ended after a resume read
    // the store and passed over it as running), or its answer may be judge work: either
    // way the next read finds it.
    more_ = true;
  }
  wake_.notify_all();
}

Status BatchService::Cancel(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.SetBatchRunStatus(id, "cancelled", NowMicros()));
  std::vector<std::shared_ptr<llm::ChatCall>> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_runs_.insert(id);
    std::erase_if(queue_, [&](const Queued& q) {
      if (q.cell.run_id != id) return false;
      known_.erase(q.cell.cell_id);
      return true;
    });
    for (const auto& w : calls_[id]) {
      if (auto c = w.lock()) running.push_back(std::move(c));
    }
    calls_.erase(id);
  }
  for (const auto& c : running) c->Cancel();
  return Status::Ok();
}

Status BatchService::Continue(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.SetBatchRunStatus(id, "running", NowMicros()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_runs_.erase(id);
    run_options_.erase(id);
    more_ = true;
  }
  wake_.notify_all();
  return Status::Ok();
}

Status BatchService::Delete(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.GetBatchRun(id).status());
  Status cancelled = Cancel(id);  // stops its calls (a done run has none)
  if (!cancelled.ok() && cancelled.code() != Code::kConflict) return cancelled;
  return store_.DeleteBatchRun(id);
}

static json RunJson(const BatchRun& r) {
  json models = json::array();
  for (size_t i = 0; i < r.model_ids.size(); ++i) {
    models.push_back({{"id", r.model_ids[i]}, {"name", i < r.model_names.size() ? r.model_names[i] : ""}});
  }
  json options = json::parse(r.options_json, nullptr, false);
  return {{"id", r.id},
          {"title", r.title},
          {"status", r.status},
          {"models", models},
          {"options", options.is_discarded() ? json::object() : options},
          {"created_by", r.created_by},
          {"create_time", r.create_time / 1e6},
          {"finish_time", r.finish_time ? json(r.finish_time / 1e6) : json(nullptr)},
          {"cases", r.cases},
          {"cells", r.cells},
          {"answered", r.answered},
          {"pending", r.cells - r.answered},
          {"ok", r.ok},
          {"failed", r.answered - r.ok},
          {"cached", r.cached},
          {"passed", r.passed},
          {"judging", r.judging},
          {"judged", r.judged},
          {"suite_id", r.suite_id ? json(*r.suite_id) : json(nullptr)},
          {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)}};
}

Result<json> BatchService::List(int64_t limit, int64_t offset) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<BatchRun> runs, store_.ListBatchRuns(limit, offset));
  json items = json::array();
  for (const BatchRun& r : runs) items.push_back(RunJson(r));
  return json{{"runs", items}};
}

Result<json> BatchService::Get(int64_t id, bool summary) {
  LOUPE_ASSIGN_OR_RETURN(BatchRun run, store_.GetBatchRun(id));
  json out = RunJson(run);
  if (!summary) return out;
  // Per model: counts, the pass rate with its Wilson interval, latency, tokens, cost.
  struct Acc {
    int64_t answered = 0, ok = 0, passed = 0, cached = 0;
    std::vector<double> latency;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    double cost = 0;
    int64_t costed = 0;
    std::vector<double> judge_scores;
    int64_t judge_passed = 0;
  };
  std::map<int64_t, Acc> acc;
  // The validator breakdown: per check type and model, answers checked and passed.
  std::map<std::string, std::map<int64_t, std::pair<int64_t, int64_t>>> by_check;
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<BatchResult> page, store_.ListBatchResults(id, true, after, 5000));
    for (const BatchResult& b : page) {
      Acc& a = acc[b.cell.model_id];
      const Prediction& p = *b.cell.prediction;
      ++a.answered;
      a.cached += b.cell.cached ? 1 : 0;
      if (b.cell.judge_score) a.judge_scores.push_back(*b.cell.judge_score);
      a.judge_passed += b.cell.judge_passed.value_or(false) ? 1 : 0;
      a.passed += b.cell.passed.value_or(false) ? 1 : 0;
      if (p.outcome != "ok") continue;
      const json checks = json::parse(b.cell.checks_json, nullptr, false);
      if (checks.is_array()) {
        for (const json& c : checks) {
          if (!c.is_object() || !c.contains("type") || !c["type"].is_string()) continue;
          auto& [checked, passed] = by_check[c["type"].get<std::string>()][b.cell.model_id];
          ++checked;
          passed += c.value("passed", false) ? 1 : 0;
        }
      }
      ++a.ok;
      if (!b.cell.cached) {
        // Latency, tokens and cost count the calls this run made (a cached answer's are
        // another run's).
        a.latency.push_back(p.latency_ms);
        a.prompt_tokens += p.prompt_tokens.value_or(0);
        a.completion_tokens += p.completion_tokens.value_or(0);
      }
      if (p.cost_usd && !b.cell.cached) {
        a.cost += *p.cost_usd;
        ++a.costed;
      }
    }
    if (page.size() < 5000) break;
    after = page.back().cell.id;
  }
  json models = json::array();
  for (size_t i = 0; i < run.model_ids.size(); ++i) {
    const Acc& a = acc[run.model_ids[i]];
    std::optional<llm::Interval> ci = llm::WilsonInterval(a.passed, a.answered);
    models.push_back({{"model_id", run.model_ids[i]},
                      {"name", i < run.model_names.size() ? run.model_names[i] : ""},
                      {"answered", a.answered},
                      {"ok", a.ok},
                      {"failed", a.answered - a.ok},
                      {"cached", a.cached},
                      {"passed", a.passed},
                      {"pass_rate", a.answered ? json(static_cast<double>(a.passed) / a.answered) : json(nullptr)},
                      {"pass_rate_ci95", ci ? json::array({ci->low, ci->high}) : json(nullptr)},
                      {"latency_ms_p50", a.latency.empty() ? json(nullptr) : json(Percentile(a.latency, 0.5))},
                      {"latency_ms_p95", a.latency.empty() ? json(nullptr) : json(Percentile(a.latency, 0.95))},
                      {"prompt_tokens", a.prompt_tokens},
                      {"completion_tokens", a.completion_tokens},
                      {"cost_usd", a.costed ? json(a.cost) : json(nullptr)},
                      {"judged", a.judge_scores.size()},
                      {"judge_mean", a.judge_scores.empty()
                                         ? json(nullptr)
                                         : json(std::accumulate(a.judge_scores.begin(), a.judge_scores.end(), 0.0) /
                                                static_cast<double>(a.judge_scores.size()))},
                      {"judge_passed", a.judge_passed}});
  }
  out["summary"] = models;
  json breakdown = json::array();
  for (const auto& [type, per_model] : by_check) {
    json cells = json::array();
    for (int64_t m : run.model_ids) {
      auto it = per_model.find(m);
      const int64_t checked = it == per_model.end() ? 0 : it->second.first;
      const int64_t passed = it == per_model.end() ? 0 : it->second.second;
      cells.push_back({{"model_id", m},
                       {"checked", checked},
                       {"passed", passed},
                       {"pass_rate", checked ? json(static_cast<double>(passed) / static_cast<double>(checked)) : json(nullptr)}});
    }
    breakdown.push_back({{"type", type}, {"models", cells}});
  }
  out["validators"] = breakdown;
  return out;
}

Result<json> BatchService::Compare(int64_t id, int64_t a, int64_t b) {
  LOUPE_ASSIGN_OR_RETURN(BatchRun run, store_.GetBatchRun(id));
  auto name_of = [&](int64_t m) -> std::optional<std::string> {
    for (size_t i = 0; i < run.model_ids.size(); ++i) {
      if (run.model_ids[i] == m) return i < run.model_names.size() ? run.model_names[i] : "";
    }
    return std::nullopt;
  };
  std::optional<std::string> a_name = name_of(a), b_name = name_of(b);
  if (!a_name || !b_name || a == b) {
    return Status::InvalidArgument("'a' and 'b' must be two different models of batch run " + std::to_string(id));
  }
  // A case's answer per arm: passed as checked; latency of calls made (a cached answer's
  // latency is another run's).
  std::map<int64_t, PairedCase> by_case;
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<BatchResult> page, store_.ListBatchResults(id, true, after, 5000));
    for (const BatchResult& r : page) {
      if (r.cell.model_id != a && r.cell.model_id != b) continue;
      PairedCase& c = by_case[r.c.id];
      const bool is_a = r.cell.model_id == a;
      (is_a ? c.a_passed : c.b_passed) = r.cell.passed.value_or(false);
      const Prediction& p = *r.cell.prediction;
      if (p.outcome == "ok" && !r.cell.cached) (is_a ? c.a_latency_ms : c.b_latency_ms) = p.latency_ms;
      if (r.cell.judge_score) (is_a ? c.a_score : c.b_score) = *r.cell.judge_score;
    }
    if (page.size() < 5000) break;
    after = page.back().cell.id;
  }
  std::vector<PairedCase> cases;
  cases.reserve(by_case.size());
  for (auto& [case_id, c] : by_case) cases.push_back(c);
  return CompareArms(*a_name, *b_name, cases, 2000);
}

Result<json> BatchService::Results(int64_t id, bool answered_only, int64_t after_cell, int64_t limit) {
  LOUPE_RETURN_IF_ERROR(store_.GetBatchRun(id).status());
  LOUPE_ASSIGN_OR_RETURN(std::vector<BatchResult> page, store_.ListBatchResults(id, answered_only, after_cell, limit));
  json items = json::array();
  for (const BatchResult& b : page) {
    json labels = json::parse(b.c.labels_json, nullptr, false);
    json checks = json::parse(b.cell.checks_json, nullptr, false);
    json item = {{"cell_id", b.cell.id},
                 {"case", b.c.position + 1},
                 {"prompt", LastUser(b.c.messages_json)},
                 {"messages", json::parse(b.c.messages_json, nullptr, false)},
                 {"expected", b.c.expected},
                 {"labels", labels.is_array() ? labels : json::array()},
                 {"model_id", b.cell.model_id},
                 {"model_name", b.cell.model_name},
                 {"cached", b.cell.cached},
                 {"passed", OrNull(b.cell.passed)},
                 {"checks", checks.is_array() ? checks : json::array()},
                 {"judge_score", OrNull(b.cell.judge_score)},
                 {"judge_passed", OrNull(b.cell.judge_passed)},
                 {"judge", b.cell.judge.empty() ? json(nullptr)
                           : b.cell.judge == "pending" ? json("pending")
                                                       : json::parse(b.cell.judge, nullptr, false)}};
    if (b.cell.prediction) {
      const Prediction& p = *b.cell.prediction;
      item["state"] = p.outcome;
      item["prediction_id"] = p.id;
      item["response"] = p.response;
      item["error_text"] = p.error_text.empty() ? json(nullptr) : json(p.error_text);
      item["latency_ms"] = p.latency_ms;
      item["ttft_ms"] = OrNull(p.ttft_ms);
      item["prompt_tokens"] = OrNull(p.prompt_tokens);
      item["completion_tokens"] = OrNull(p.completion_tokens);
      item["cost_usd"] = OrNull(p.cost_usd);
    } else {
      item["state"] = "pending";
      for (const char* k : {"prediction_id", "response", "error_text", "latency_ms", "ttft_ms", "prompt_tokens",
                            "completion_tokens", "cost_usd"}) {
        item[k] = nullptr;
      }
    }
    items.push_back(std::move(item));
  }
  return json{{"items", items},
              {"next_after", !page.empty() && static_cast<int64_t>(page.size()) == limit ? json(page.back().cell.id)
                                                                                         : json(nullptr)}};
}

}  // namespace loupe::evals
