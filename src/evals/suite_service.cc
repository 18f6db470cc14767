#include "evals/suite_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "common/time_util.h"
#include "evals/ab_compare.h"
#include "llm/feedback_service.h"
#include "llm/model_registry.h"

namespace loupe::evals {

namespace {

using nlohmann::json;

constexpr int64_t kMinuteMicros = 60'000'000;
constexpr int64_t kMaxScheduleMinutes = 525600;  // a year
constexpr int64_t kMinScheduleMinutes = 5;
constexpr size_t kMaxListed = 500;                // cases per list of a diff
constexpr size_t kMaxVersions = 100;              // points of the tracking chart
constexpr int64_t kRunsRead = 1000;               // a suite's runs read to find a baseline or a history

bool IsId(const json& v) { return v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() < 9.2e18; }

std::string Excerpt(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

std::string LastUserText(const std::string& messages_json) {
  json m = json::parse(messages_json, nullptr, false);
  if (!m.is_array()) return "";
  for (auto it = m.rbegin(); it != m.rend(); ++it) {
    if (it->is_object() && it->value("role", "") == "user") return it->value("content", "");
  }
  return "";
}

json OptScore(int64_t passed, int64_t cases) {
  return cases > 0 ? json(static_cast<double>(passed) / static_cast<double>(cases)) : json(nullptr);
}

json CaseJson(const SuiteCase& c) {
  return {{"case", c.position + 1}, {"prompt", Excerpt(c.prompt, 300)}, {"why", c.why}};
}

std::string FormatScore(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// A failure the next tick may not repeat (the store busy or full, a rate limit) leaves the
// model or run to be tried again; any other (it was removed meanwhile) is logged and
// passed over.
bool Transient(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kInternal || s.code() == Code::kNoSpace ||
         s.code() == Code::kRateLimited;
}

int64_t ModelOf(const BatchRun& r) { return r.model_ids.empty() ? 0 : r.model_ids[0]; }
std::string ModelNameOf(const BatchRun& r) { return r.model_names.empty() ? "" : r.model_names[0]; }

}  // namespace

int64_t NextScheduledRun(int64_t last, int64_t minutes) {
  if (minutes <= 0) return 0;
  if (last <= 0) return 1;  // never ran: at once
  return last + minutes * kMinuteMicros;
}

bool InLineage(int64_t model, int64_t base, const std::vector<LlmModel>& models) {
  std::map<int64_t, std::optional<int64_t>> parent;
  for (const LlmModel& m : models) parent[m.id] = m.base_model_id;
  int64_t at = model;
  for (int depth = 0; depth <= 64; ++depth) {
    if (at == base) return true;
    auto it = parent.find(at);
    if (it == parent.end() || !it->second) return false;
    at = *it->second;
  }
  return false;
}

json DiffSuiteRuns(const std::vector<SuiteCase>& now, const std::vector<SuiteCase>* before) {
  std::map<std::string, bool> was;
  if (before) {
    for (const SuiteCase& c : *before) {
      if (c.answered) was[c.key] = c.passed;
    }
  }
  json newly_failing = json::array(), newly_passing = json::array(), still_failing = json::array(),
       failing_new = json::array();
  int64_t n_failing = 0, n_passing = 0, n_still = 0, n_new = 0, n_new_failing = 0;
  auto add = [](json& list, int64_t& count, const SuiteCase& c) {
    if (list.size() < kMaxListed) list.push_back(CaseJson(c));
    ++count;
  };
  for (const SuiteCase& c : now) {
    if (!c.answered) continue;
    auto it = was.find(c.key);
    if (it == was.end()) {
      ++n_new;
      if (!c.passed) add(failing_new, n_new_failing, c);
      continue;
    }
    if (it->second && !c.passed) add(newly_failing, n_failing, c);
    if (!it->second && c.passed) add(newly_passing, n_passing, c);
    if (!it->second && !c.passed) add(still_failing, n_still, c);
  }
  return {{"newly_failing", newly_failing}, {"newly_failing_count", n_failing},
          {"newly_passing", newly_passing}, {"newly_passing_count", n_passing},
          {"still_failing", still_failing}, {"still_failing_count", n_still},
          {"new_cases_count", n_new},        {"failing_new_cases", failing_new},
          {"failing_new_cases_count", n_new_failing}};
}

SuiteService::SuiteService(SuiteStore& store, BatchStore& batches_store, LlmStore& models, BatchService& batches)
    : store_(store), batches_store_(batches_store), models_(models), batches_(batches) {}

SuiteService::~SuiteService() { Stop(); }

void SuiteService::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void SuiteService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SuiteService::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poke_ = true;
  }
  wake_.notify_all();
}

void SuiteService::SetRunEndpoint(RunEndpoint f) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    run_endpoint_ = std::move(f);
    poke_ = true;
  }
  wake_.notify_all();
}

void SuiteService::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    poke_ = false;
    lock.unlock();
    // Training runs finish without telling: a suite following a session looks often.
    const bool sessions = Tick();
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(sessions ? 5 : 60), [&] { return stopping_ || poke_; });
  }
}

void SuiteService::RunSessions(const std::vector<EvalSuite>& suites) {
  RunEndpoint endpoint;
  {
    std::lock_guard<std::mutex> lock(mu_);
    endpoint = run_endpoint_;
  }
  if (!endpoint) return;
  for (const EvalSuite& suite : suites) {
    if (!suite.session_id) continue;
    Result<std::vector<SessionRunToTest>> runs = store_.SessionRunsToTest(suite, 100);
    if (!runs.ok()) {
      spdlog::error("suite '{}': cannot read the session's runs: {}", suite.name, runs.status().message());
      continue;
    }
    for (const SessionRunToTest& t : *runs) {
      Result<int64_t> model = endpoint(*suite.session_id, t.run_id, t.experiment_id);
      Result<BatchRun> run = model.ok() ? StartRun(suite, *model, "new_run", suite.created_by, t.run_id,
                                                   std::nullopt, t.end_time)
                                        : Result<BatchRun>(model.status());
      if (run.ok()) {
        spdlog::info("suite '{}': testing no-code run {} (batch run {})", suite.name, t.run_id, run->id);
        continue;
      }
      if (Transient(run.status())) break;
      // Not tested: tried again at the next look (a run is tested once it can be), and the
      // suite says why meanwhile (logged once).
      const std::string why = "no-code run " + std::to_string(t.run_id) + " cannot be tested: " + run.status().message();
      if (why != suite.last_error) {
        spdlog::error("suite '{}': {}", suite.name, why);
        store_.SetSuiteError(suite.id, why).IgnoreError();
      }
    }
  }
}

bool SuiteService::Tick() {
  Result<std::vector<EvalSuite>> suites = store_.ListSuites();
  Result<std::vector<LlmModel>> models = models_.ListLlmModels();
  if (!suites.ok() || !models.ok()) {
    spdlog::error("suites: cannot read suites or models: {}",
                  (!suites.ok() ? suites.status() : models.status()).message());
    return false;
  }
  std::sort(models->begin(), models->end(), [](const LlmModel& a, const LlmModel& b) { return a.id < b.id; });
  RunSessions(*suites);
  for (const EvalSuite& suite : *suites) {
    if (!suite.base_model_id) continue;
    int64_t considered = suite.model_watermark;
    for (const LlmModel& m : *models) {
      if (m.id <= suite.model_watermark) continue;
      if (m.id != *suite.base_model_id && InLineage(m.id, *suite.base_model_id, *models)) {
        Result<BatchRun> run = StartRun(suite, m.id, "new_version", suite.created_by);
        if (!run.ok()) {
          spdlog::error("suite '{}': cannot run on new version '{}': {}", suite.name, m.name, run.status().message());
          if (Transient(run.status())) break;
          // Passed over, and the suite says so (its page shows it) until a run starts.
          const std::string why = "new version '" + m.name + "' was not run: " + run.status().message();
          if (Status s = store_.AdvanceSuiteWatermark(suite.id, m.id, why); !s.ok()) break;
        } else {
          spdlog::info("suite '{}': running on new version '{}' (batch run {})", suite.name, m.name, run->id);
        }
      }
      considered = m.id;
    }
    if (considered > suite.model_watermark) {
      if (Status s = store_.AdvanceSuiteWatermark(suite.id, considered); !s.ok()) {
        spdlog::error("suite '{}': cannot record the models considered: {}", suite.name, s.message());
      }
    }
  }
  const int64_t now = NowMicros();
  for (const EvalSuite& suite : *suites) {
    if (suite.schedule_minutes <= 0 || !suite.base_model_id) continue;
    if (now < NextScheduledRun(suite.last_scheduled, suite.schedule_minutes)) continue;
    // The newest version of the lineage; a scheduled run still going is not doubled.
    int64_t target = 0;
    for (const LlmModel& m : *models) {
      if (InLineage(m.id, *suite.base_model_id, *models)) target = std::max(target, m.id);
    }
    if (target == 0) continue;
    Result<std::vector<BatchRun>> recent = store_.ListSuiteRuns(suite.id, 20);
    if (!recent.ok()) continue;
    if (std::any_of(recent->begin(), recent->end(),
                    [](const BatchRun& r) { return r.reason == "schedule" && r.status == "running"; })) {
      continue;
    }
    Result<BatchRun> run = StartRun(suite, target, "schedule", suite.created_by);
    if (!run.ok()) {
      const std::string why = "the scheduled run cannot start: " + run.status().message();
      if (why != suite.last_error) {
        spdlog::error("suite '{}': {}", suite.name, why);
        store_.SetSuiteError(suite.id, why).IgnoreError();  // logged; the next tick tries again
      }
    }
  }
  return std::any_of(suites->begin(), suites->end(), [](const EvalSuite& s) { return s.session_id.has_value(); });
}

Status SuiteService::Apply(const json& body, EvalSuite& s, const std::string& by, bool creating) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  bool has_test_set = false;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name") {
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 100 ||
          llm::HasControlCharacters(v.get<std::string>()) ||
          v.get<std::string>().find_first_not_of(' ') == std::string::npos) {
        return Status::InvalidArgument("'name' must be 1 to 100 characters without control characters");
      }
      s.name = v.get<std::string>();
    } else if (k == "description") {
      if (!v.is_string() || v.get<std::string>().size() > 4000 ||
          llm::HasControlCharacters(v.get<std::string>(), true)) {
        return Status::InvalidArgument("'description' must be text of at most 4000 bytes");
      }
      s.description = v.get<std::string>();
    } else if (k == "threshold") {
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1)) {
        return Status::InvalidArgument("'threshold' must be the share of cases that must pass, 0 to 1");
      }
      s.threshold = v.get<double>();
    } else if (k == "base_model_id" || k == "session_id") {
      if (!v.is_null() && !IsId(v)) {
        return Status::InvalidArgument("'" + k + "' must be " + (k == "base_model_id" ? "a model's" : "a model session's") +
                                       " id or null");
      }
      (k == "base_model_id" ? s.base_model_id : s.session_id) =
          v.is_null() ? std::nullopt : std::optional<int64_t>(v.get<int64_t>());
    } else if (k == "schedule_minutes") {
      if (!v.is_number_integer() || (v.get<int64_t>() != 0 && (v.get<int64_t>() < kMinScheduleMinutes ||
                                                               v.get<int64_t>() > kMaxScheduleMinutes))) {
        return Status::InvalidArgument("'schedule_minutes' must be 0 (no schedule) or 5 to 525600 minutes");
      }
      s.schedule_minutes = v.get<int64_t>();
    } else if (k == "test_set") {
      if (Status st = batches_.CheckTestSet(v, by); !st.ok()) {
        if (st.code() == Code::kBadRequest) return Status::InvalidArgument("'test_set' must be an object");
        if (st.code() == Code::kInvalidArgument) return Status::InvalidArgument("the test set: " + st.message());
        return st;
      }
      s.test_set_json = v.dump(-1, ' ', false, json::error_handler_t::strict);
      s.cases = static_cast<int64_t>(v["cases"].size());
      s.judged = v.contains("judge");
      has_test_set = true;
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  if (creating && s.name.empty()) return Status::InvalidArgument("'name' is required");
  if (creating && !has_test_set) return Status::InvalidArgument("'test_set' ({cases, ...}) is required");
  if (s.schedule_minutes > 0 && !s.base_model_id) {
    return Status::InvalidArgument("a schedule needs 'base_model_id': scheduled runs test the newest version of that model");
  }
  return Status::Ok();
}

Result<EvalSuite> SuiteService::Create(const json& body, const std::string& by) {
  EvalSuite s;
  LOUPE_RETURN_IF_ERROR(Apply(body, s, by, true));
  s.created_by = by;
  s.create_time = s.update_time = NowMicros();
  LOUPE_ASSIGN_OR_RETURN(EvalSuite created, store_.CreateSuite(s));
  Wake();  // a first scheduled run is due at once; a session's runs are looked for every 5 s from now
  return created;
}

Result<EvalSuite> SuiteService::Update(int64_t id, const json& patch, const std::string& by) {
  LOUPE_ASSIGN_OR_RETURN(EvalSuite s, store_.GetSuite(id));
  LOUPE_RETURN_IF_ERROR(Apply(patch, s, by, false));
  s.update_time = NowMicros();
  LOUPE_RETURN_IF_ERROR(store_.UpdateSuite(s));
  Wake();
  return store_.GetSuite(id);
}

json SuiteService::SuiteJson(const EvalSuite& s) {
  json base = nullptr;
  if (s.base_model_id) {
    Result<LlmModel> m = models_.GetLlmModel(*s.base_model_id);
    base = {{"id", *s.base_model_id}, {"name", m.ok() ? json(m->name) : json(nullptr)}};
  }
  const int64_t next = NextScheduledRun(s.last_scheduled, s.schedule_minutes);
  return {{"id", s.id},
          {"name", s.name},
          {"description", s.description},
          {"threshold", s.threshold},
          {"base_model", base},
          {"schedule_minutes", s.schedule_minutes},
          {"last_scheduled", s.last_scheduled ? json(s.last_scheduled / 1e6) : json(nullptr)},
          {"next_scheduled", s.schedule_minutes > 0 && s.base_model_id ? json(next <= 1 ? NowMicros() / 1e6 : next / 1e6)
                                                                        : json(nullptr)},
          {"cases", s.cases},
          {"judged", s.judged},
          {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
          {"session_id", s.session_id ? json(*s.session_id) : json(nullptr)},
          {"created_by", s.created_by},
          {"create_time", s.create_time / 1e6},
          {"update_time", s.update_time / 1e6}};
}

// The bar a run is judged against: its own (`loupe eval run --fail-under`), else the suite's.
static double BarOf(const BatchRun& r, double suite_threshold) {
  const json options = json::parse(r.options_json, nullptr, false);
  if (options.is_object() && options.contains("suite_threshold") && options["suite_threshold"].is_number()) {
    return options["suite_threshold"].get<double>();
  }
  return suite_threshold;
}

static json RunSummary(const BatchRun& r, double suite_threshold) {
  const double threshold = BarOf(r, suite_threshold);
  const bool done = r.status == "done";
  json score = OptScore(r.fully_passed, r.cases);
  return {{"id", r.id},
          {"model_id", ModelOf(r)},
          {"model_name", ModelNameOf(r)},
          {"reason", r.reason},
          {"status", r.status},
          {"create_time", r.create_time / 1e6},
          {"finish_time", r.finish_time ? json(r.finish_time / 1e6) : json(nullptr)},
          {"cases", r.cases},
          {"answered", r.answered},
          {"judging", r.judging},
          {"passed", r.fully_passed},
          {"score", score},
          {"judge_mean", r.judge_mean ? json(*r.judge_mean) : json(nullptr)},
          {"threshold", threshold},
          {"met_threshold", done && score.is_number() ? json(score.get<double>() >= threshold) : json(nullptr)}};
}

Result<json> SuiteService::List() {
  LOUPE_ASSIGN_OR_RETURN(std::vector<EvalSuite> suites, store_.ListSuites());
  json items = json::array();
  for (const EvalSuite& s : suites) {
    json j = SuiteJson(s);
    LOUPE_ASSIGN_OR_RETURN(std::vector<BatchRun> last, store_.ListSuiteRuns(s.id, 1));
    j["last_run"] = last.empty() ? json(nullptr) : RunSummary(last[0], s.threshold);
    items.push_back(std::move(j));
  }
  return json{{"suites", items}};
}

Result<json> SuiteService::Get(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(EvalSuite s, store_.GetSuite(id));
  json j = SuiteJson(s);
  json test_set = json::parse(s.test_set_json, nullptr, false);
  j["test_set"] = test_set.is_discarded() ? json::object() : test_set;
  return j;
}

Result<json> SuiteService::Runs(int64_t suite_id, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(EvalSuite s, store_.GetSuite(suite_id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<BatchRun> runs, store_.ListSuiteRuns(suite_id, limit));
  json items = json::array();
  for (const BatchRun& r : runs) items.push_back(RunSummary(r, s.threshold));
  return json{{"runs", items}};
}

Result<BatchRun> SuiteService::StartRun(const EvalSuite& suite, int64_t model_id, const std::string& reason,
                                        const std::string& by, int64_t trigger_id, std::optional<double> threshold,
                                        int64_t trigger_time) {
  std::string test_set = suite.test_set_json;
  if (test_set.empty()) {  // a suite as lists read it
    LOUPE_ASSIGN_OR_RETURN(EvalSuite full, store_.GetSuite(suite.id));
    test_set = std::move(full.test_set_json);
  }
  json body = json::parse(test_set, nullptr, false);
  if (!body.is_object()) return Status::Corrupt("suite '" + suite.name + "' holds no readable test set");
  LOUPE_ASSIGN_OR_RETURN(LlmModel m, models_.GetLlmModel(model_id));
  // A regression run asks the model: an answer cached from an earlier version's endpoint
  // would hide what changed, unless the suite asked for the cache.
  if (!body.contains("cache")) body["cache"] = false;
  body["model_ids"] = json::array({model_id});
  std::string title = "suite " + suite.name + " on " + m.name;
  if (title.size() > 200) title = Excerpt(title, 190);
  body["title"] = title;
  return batches_.Create(body, by, BatchService::SuiteLink{suite.id, reason, trigger_id, trigger_time, threshold});
}

Result<BatchRun> SuiteService::Run(int64_t suite_id, int64_t model_id, const std::string& reason, const std::string& by,
                                   std::optional<double> threshold) {
  if (reason != "manual" && reason != "ci") return Status::InvalidArgument("'reason' must be manual or ci");
  if (threshold && !(*threshold >= 0 && *threshold <= 1)) {
    return Status::InvalidArgument("'threshold' must be the share of cases that must pass, 0 to 1");
  }
  LOUPE_ASSIGN_OR_RETURN(EvalSuite s, store_.GetSuite(suite_id));
  return StartRun(s, model_id, reason, by, 0, threshold);
}

Result<SuiteService::Scored> SuiteService::Score(const BatchRun& run) {
  Scored out;
  out.run = run;
  std::map<std::string, int> seen;  // the same prompt and assertions may stand in a suite twice
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<BatchResult> page, batches_store_.ListBatchResults(run.id, false, after, 5000));
    for (const BatchResult& b : page) {
      SuiteCase c;
      c.key = b.c.messages_json + '\x1f' + b.c.assertions_json;
      c.key += '\x1f' + std::to_string(seen[c.key]++);
      c.position = b.c.position;
      c.prompt = LastUserText(b.c.messages_json);
      c.answered = b.cell.prediction.has_value() && b.cell.judge != "pending";
      if (c.answered) {
        const Prediction& p = *b.cell.prediction;
        const bool checks = p.outcome == "ok" && b.cell.passed.value_or(false);
        const bool judged = b.cell.judge.empty() || b.cell.judge_passed.value_or(false);
        c.passed = checks && judged;
        c.judge_score = b.cell.judge_score;
        if (p.outcome != "ok") {
          ++out.errors;
          c.why = p.outcome + (p.error_text.empty() ? "" : ": " + Excerpt(p.error_text, 300));
        } else {
          json checks_json = json::parse(b.cell.checks_json, nullptr, false);
          if (checks_json.is_array()) {
            for (const json& k : checks_json) {
              if (k.is_object() && k.value("passed", true) == false) {
                c.why += (c.why.empty() ? "" : "; ") + k.value("type", std::string("?")) + ": " +
                         Excerpt(k.value("message", std::string()), 200);
              }
            }
          }
          if (!b.cell.judge.empty() && !b.cell.judge_passed.value_or(false)) {
            c.why += std::string(c.why.empty() ? "" : "; ") +
                     (b.cell.judge_score ? "judge: " + FormatScore(*b.cell.judge_score) + " (fail)" : "judge error");
          }
        }
      }
      out.passed += c.passed ? 1 : 0;
      out.cases.push_back(std::move(c));
    }
    if (page.size() < 5000) break;
    after = page.back().cell.id;
  }
  return out;
}

Result<std::optional<BatchRun>> SuiteService::Baseline(const EvalSuite& suite, const BatchRun& run) {
  LOUPE_ASSIGN_OR_RETURN(auto runs, store_.FinishedSuiteRuns(suite.id, kRunsRead));
  const int64_t model = ModelOf(run);
  std::vector<LlmModel> models;
  if (suite.base_model_id) {
    LOUPE_ASSIGN_OR_RETURN(models, models_.ListLlmModels());
  }
  std::optional<std::pair<int64_t, int64_t>> previous_version, same_model;  // (run, model)
  for (const auto& [id, m] : runs) {  // newest first
    if (id >= run.id) continue;
    if (!suite.base_model_id) {
      // No lineage to follow: the suite's previous finished run, whatever it tested.
      if (!previous_version) previous_version = {id, m};
    } else if (m == model) {
      if (!same_model) same_model = {id, m};
    } else if (m < model && suite.base_model_id && InLineage(m, *suite.base_model_id, models)) {
      if (!previous_version || m > previous_version->second) previous_version = {id, m};
    }
  }
  const auto chosen = previous_version ? previous_version : same_model;
  if (!chosen) return std::optional<BatchRun>();
  LOUPE_ASSIGN_OR_RETURN(BatchRun base, batches_store_.GetBatchRun(chosen->first));
  return std::optional<BatchRun>(std::move(base));
}

Result<json> SuiteService::RunResult(int64_t suite_id, int64_t run_id) {
  LOUPE_ASSIGN_OR_RETURN(EvalSuite suite, store_.GetSuite(suite_id));
  LOUPE_ASSIGN_OR_RETURN(BatchRun run, batches_store_.GetBatchRun(run_id));
  if (run.suite_id != suite_id) {
    return Status::NotFound("batch run " + std::to_string(run_id) + " is not a run of suite '" + suite.name + "'");
  }
  if (run.status != "done") {
    // While it runs: the progress from the run's counts (pollers ask every second); the
    // verdict, baseline and diff come when it ends.
    const int64_t decided = run.answered - run.judging;
    json out = {{"suite", {{"id", suite.id}, {"name", suite.name}, {"threshold", suite.threshold}}},
                {"run", RunSummary(run, suite.threshold)},
                {"done", false},
                {"cases", run.cases},
                {"decided", decided},
                {"pending", run.cases - decided},
                {"passed", run.fully_passed},
                {"failed", decided - run.fully_passed},
                {"errors", run.answered - run.ok},
                {"score", nullptr},
                {"score_ci95", nullptr},
                {"threshold", BarOf(run, suite.threshold)},
                {"met_threshold", nullptr},
                {"baseline", nullptr},
                {"change", nullptr},
                {"ab", nullptr}};
    json diff = DiffSuiteRuns({}, nullptr);
    for (auto it = diff.begin(); it != diff.end(); ++it) out[it.key()] = it.value();
    return out;
  }
  LOUPE_ASSIGN_OR_RETURN(Scored now, Score(run));
  const int64_t cases = static_cast<int64_t>(now.cases.size());
  int64_t answered = 0;
  for (const SuiteCase& c : now.cases) answered += c.answered ? 1 : 0;
  const bool done = run.status == "done";
  json score = OptScore(now.passed, cases);
  std::optional<llm::Interval> ci = llm::WilsonInterval(now.passed, cases);
  json out = {{"suite", {{"id", suite.id}, {"name", suite.name}, {"threshold", suite.threshold}}},
              {"run", RunSummary(run, suite.threshold)},
              {"done", done},
              {"cases", cases},
              {"decided", answered},
              {"pending", cases - answered},
              {"passed", now.passed},
              {"failed", answered - now.passed},
              {"errors", now.errors},
              {"score", score},
              {"score_ci95", ci ? json::array({ci->low, ci->high}) : json(nullptr)},
              {"threshold", BarOf(run, suite.threshold)},
              {"met_threshold", done && score.is_number() ? json(score.get<double>() >= BarOf(run, suite.threshold)) : json(nullptr)}};
  LOUPE_ASSIGN_OR_RETURN(std::optional<BatchRun> base, Baseline(suite, run));
  std::optional<Scored> before;
  if (base) {
    LOUPE_ASSIGN_OR_RETURN(Scored b, Score(*base));
    before = std::move(b);
    json base_score = OptScore(before->passed, static_cast<int64_t>(before->cases.size()));
    out["baseline"] = {{"run_id", base->id},
                       {"model_id", ModelOf(*base)},
                       {"model_name", ModelNameOf(*base)},
                       {"same_model", ModelOf(*base) == ModelOf(run)},
                       {"cases", before->cases.size()},
                       {"passed", before->passed},
                       {"score", base_score}};
    out["change"] = score.is_number() && base_score.is_number()
                        ? json(score.get<double>() - base_score.get<double>())
                        : json(nullptr);
  } else {
    out["baseline"] = nullptr;
    out["change"] = nullptr;
  }
  json diff = DiffSuiteRuns(now.cases, before ? &before->cases : nullptr);
  for (auto it = diff.begin(); it != diff.end(); ++it) out[it.key()] = it.value();
  out["ab"] = nullptr;
  if (before) {
    // The baseline as A, this run as B, on the cases both decided.
    std::map<std::string, const SuiteCase*> was;
    for (const SuiteCase& c : before->cases) {
      if (c.answered) was[c.key] = &c;
    }
    std::vector<PairedCase> paired;
    for (const SuiteCase& c : now.cases) {
      auto it = was.find(c.key);
      if (!c.answered || it == was.end()) continue;
      PairedCase p;
      p.a_passed = it->second->passed;
      p.b_passed = c.passed;
      p.a_score = it->second->judge_score;
      p.b_score = c.judge_score;
      paired.push_back(p);
    }
    const bool same = ModelOf(*base) == ModelOf(run);
    const std::string a = ModelNameOf(*base) + (same ? " (run " + std::to_string(base->id) + ")" : "");
    const std::string b = ModelNameOf(run) + (same ? " (run " + std::to_string(run.id) + ")" : "");
    if (!paired.empty()) out["ab"] = CompareArms(a, b, paired, 2000);
  }
  return out;
}

Result<json> SuiteService::History(int64_t suite_id) {
  LOUPE_ASSIGN_OR_RETURN(EvalSuite suite, store_.GetSuite(suite_id));
  LOUPE_ASSIGN_OR_RETURN(std::vector<BatchRun> runs, store_.ListSuiteRuns(suite_id, kRunsRead));
  LOUPE_ASSIGN_OR_RETURN(std::vector<LlmModel> models, models_.ListLlmModels());
  // The latest finished run per model (runs come newest first).
  std::map<int64_t, const BatchRun*> latest;
  std::map<int64_t, int64_t> finished_runs;
  for (const BatchRun& r : runs) {
    if (r.status != "done") continue;
    ++finished_runs[ModelOf(r)];
    latest.emplace(ModelOf(r), &r);
  }
  // The versions: the lineage's models (with or without a run), and any other model the
  // suite ran on, in registration order (ids grow with it).
  std::set<int64_t> ids;
  for (const LlmModel& m : models) {
    if (suite.base_model_id && InLineage(m.id, *suite.base_model_id, models)) ids.insert(m.id);
  }
  for (const auto& [m, r] : latest) ids.insert(m);
  std::map<int64_t, std::string> names;
  for (const LlmModel& m : models) names[m.id] = m.name;
  json versions = json::array();
  std::vector<int64_t> ordered(ids.begin(), ids.end());
  if (ordered.size() > kMaxVersions) ordered.erase(ordered.begin(), ordered.end() - kMaxVersions);
  for (int64_t id : ordered) {
    auto r = latest.find(id);
    std::string name = names.count(id) ? names[id] : (r != latest.end() ? ModelNameOf(*r->second) : "");
    json v = {{"model_id", id},
              {"model_name", name},
              {"removed", names.count(id) == 0},
              {"in_lineage", suite.base_model_id && InLineage(id, *suite.base_model_id, models)},
              {"runs", finished_runs[id]}};
    if (r != latest.end()) {
      const BatchRun& run = *r->second;
      v["run_id"] = run.id;
      v["score"] = OptScore(run.fully_passed, run.cases);
      v["passed"] = run.fully_passed;
      v["cases"] = run.cases;
      v["judge_mean"] = run.judge_mean ? json(*run.judge_mean) : json(nullptr);
      v["finish_time"] = run.finish_time / 1e6;
    } else {
      v["run_id"] = nullptr;
      v["score"] = nullptr;
      v["passed"] = nullptr;
      v["cases"] = nullptr;
      v["judge_mean"] = nullptr;
      v["finish_time"] = nullptr;
    }
    versions.push_back(std::move(v));
  }
  return json{{"suite", {{"id", suite.id}, {"name", suite.name}, {"threshold", suite.threshold}}},
              {"versions", versions}};
}

}  // namespace loupe::evals
