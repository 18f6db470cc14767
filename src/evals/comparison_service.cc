#include "evals/comparison_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/time_util.h"
#include "evals/ab_compare.h"
#include "evals/ab_stats.h"
#include "evals/bradley_terry.h"
#include "llm/model_registry.h"

namespace loupe::evals {

namespace {

using nlohmann::json;

constexpr int64_t kPage = 500;
constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxSystem = 32768;
constexpr size_t kMaxLeaderboardRows = 1000000;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

bool IsId(const json& v) { return v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() < 9.2e18; }

std::string Label(size_t i) { return std::string(1, static_cast<char>('A' + i)); }

// The row's cells that hold an answer.
bool Answered(const ComparisonCell& c) { return c.prediction.has_value(); }
bool AnsweredOk(const ComparisonCell& c) { return c.prediction && c.prediction->outcome == "ok"; }

const ComparisonCell* CellOf(const ComparisonRow& row, int64_t model_id) {
  for (const ComparisonCell& c : row.cells) {
    if (c.model_id == model_id) return &c;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& RatingCriteria() {
  static const std::vector<std::string> c = {"clarity", "accuracy", "conciseness", "overall"};
  return c;
}

ComparisonService::ComparisonService(ComparisonStore& store, FeedbackStore& feedback, LlmStore& models,
                                     llm::ChatService& chat, ComparisonOptions options)
    : store_(store), feedback_(feedback), models_(models), chat_(chat), chats_(chat.chats()), options_(options) {
  scheduler_ = std::thread([this] { Schedule(); });
}

ComparisonService::~ComparisonService() { Stop(); }

void ComparisonService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

Result<Comparison> ComparisonService::Create(const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  Comparison c;
  c.blind = true;
  std::vector<std::string> prompts;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "title") {
      if (!v.is_string() || v.get<std::string>().size() > kMaxTitle ||
          llm::HasControlCharacters(v.get<std::string>())) {
        return Status::InvalidArgument("'title' must be a string of at most 200 bytes without control characters");
      }
      c.title = v.get<std::string>();
    } else if (k == "model_ids") {
      if (!v.is_array() || v.size() < 2 || v.size() > 4) {
        return Status::InvalidArgument("'model_ids' must name 2 to 4 models");
      }
      for (const json& m : v) {
        if (!IsId(m)) return Status::InvalidArgument("'model_ids' must hold models' ids");
        if (std::find(c.model_ids.begin(), c.model_ids.end(), m.get<int64_t>()) != c.model_ids.end()) {
          return Status::InvalidArgument("'model_ids' names model " + std::to_string(m.get<int64_t>()) + " twice");
        }
        c.model_ids.push_back(m.get<int64_t>());
      }
    } else if (k == "prompts") {
      if (!v.is_array() || v.empty() || v.size() > options_.max_prompts) {
        return Status::InvalidArgument("'prompts' must hold 1 to " + std::to_string(options_.max_prompts) + " prompts");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string at = "prompt " + std::to_string(i + 1);
        if (!v[i].is_string()) return Status::InvalidArgument(at + " must be a string");
        const std::string& p = v[i].get_ref<const std::string&>();
        if (p.find_first_not_of(" \t\r\n") == std::string::npos) return Status::InvalidArgument(at + " is empty");
        if (p.size() > options_.max_prompt_bytes) {
          return Status::TooLarge(at + " is over " + std::to_string(options_.max_prompt_bytes) + " bytes");
        }
        if (llm::HasControlCharacters(p, /*allow_whitespace=*/true)) {
          return Status::InvalidArgument(at + " holds control characters");
        }
        prompts.push_back(p);
      }
    } else if (k == "blind") {
      if (!v.is_boolean()) return Status::InvalidArgument("'blind' must be true or false");
      c.blind = v.get<bool>();
    } else if (k == "system") {
      if (!v.is_string() || v.get<std::string>().size() > kMaxSystem ||
          llm::HasControlCharacters(v.get<std::string>(), /*allow_whitespace=*/true)) {
        return Status::InvalidArgument("'system' must be a string of at most 32768 bytes without control characters");
      }
      c.system = v.get<std::string>();
    } else if (k == "params") {
      if (!v.is_object() || v.contains("system")) {
        return Status::InvalidArgument("'params' must be an object of temperature, top_p, max_tokens, stop, seed");
      }
      LOUPE_ASSIGN_OR_RETURN(json params, llm::CheckSamplingDefaults(v));
      c.params_json = params.dump();
    } else {
      return Status::InvalidArgument("unknown field '" + k + "'");
    }
  }
  if (c.model_ids.empty()) return Status::InvalidArgument("'model_ids' must name 2 to 4 models");
  if (prompts.empty()) return Status::InvalidArgument("'prompts' must hold at least one prompt");
  for (int64_t id : c.model_ids) {
    LOUPE_ASSIGN_OR_RETURN(LlmModel m, models_.GetLlmModel(id));
    c.model_names.push_back(m.name);
  }
  if (c.title.empty() && c.blind) {
    c.title = "Blind comparison of " + std::to_string(c.model_names.size()) + " models";  // names would give it away
  } else if (c.title.empty()) {
    for (size_t i = 0; i < c.model_names.size(); ++i) c.title += (i ? " vs " : "") + c.model_names[i];
    if (c.title.size() > kMaxTitle) c.title = "Comparison of " + std::to_string(c.model_names.size()) + " models";
  }
  c.created_by = by;
  c.create_time = NowMicros();
  std::vector<ComparisonRow> rows;
  std::mt19937_64 rng(std::random_device{}());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ComparisonRow r;
    r.position = static_cast<int64_t>(i);
    r.prompt = std::move(prompts[i]);
    r.order = c.model_ids;
    if (c.blind) std::shuffle(r.order.begin(), r.order.end(), rng);
    rows.push_back(std::move(r));
  }
  LOUPE_ASSIGN_OR_RETURN(Comparison created, store_.CreateComparison(c, rows));
  LOUPE_ASSIGN_OR_RETURN(std::vector<PendingCell> pending, store_.PendingComparisonCells(created.id));
  Enqueue(pending);
  return created;
}

Status ComparisonService::Resume() {
  LOUPE_ASSIGN_OR_RETURN(std::vector<PendingCell> pending, store_.PendingComparisonCells(0));
  if (!pending.empty()) spdlog::info("comparisons: {} answers to ask again after a restart", pending.size());
  Enqueue(pending);
  return Status::Ok();
}

void ComparisonService::Enqueue(const std::vector<PendingCell>& cells) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const PendingCell& c : cells) {
      if (known_.insert(c.cell_id).second) queue_.push_back(c);
    }
  }
  wake_.notify_all();
}

void ComparisonService::Schedule() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || (!queue_.empty() && in_flight_ < options_.max_parallel); });
    if (stopping_) return;
    PendingCell cell = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    lock.unlock();
    StartCell(cell);
    lock.lock();
  }
}

void ComparisonService::StartCell(const PendingCell& cell) {
  const int64_t cell_id = cell.cell_id;
  auto record = [this, cell_id](const Prediction& p) -> Result<int64_t> {
    // A call the server's shutdown ended is kept as a prediction, and its cell stays
    // pending so that the next start asks again.
    if (p.error_type == "shutdown") return chats_.RecordPrediction(p);
    Result<int64_t> id = store_.RecordComparisonAnswer(cell_id, p);
    // Answered twice (asked again by a resume while its first call ran): the first
    // answer stands, this call is still kept as a prediction.
    if (!id.ok() && id.status().code() == Code::kConflict) return chats_.RecordPrediction(p);
    return id;
  };
  Result<Comparison> c = store_.GetComparison(cell.comparison_id);
  Result<std::shared_ptr<llm::ChatCall>> call =
      c.ok() ? chat_.PrepareCall(cell.model_id, c->system, c->params_json, {{"user", cell.prompt}}, c->created_by,
                                 "comparison", record)
             : Result<std::shared_ptr<llm::ChatCall>>(c.status());
  if (!call.ok()) {
    // The model was removed or its key cannot be read: the cell ends with the reason,
    // as a failed call would, rather than waiting for ever.
    if (c.ok()) {
      Prediction p;
      p.time = NowMicros();
      p.model_id = cell.model_id;
      Result<LlmModel> m = models_.GetLlmModel(cell.model_id);
      p.model_name = m.ok() ? m->name : "model " + std::to_string(cell.model_id);
      p.api = m.ok() ? m->api : "";
      p.messages_json = json::array({{{"role", "user"}, {"content", cell.prompt}}}).dump();
      p.outcome = "error";
      p.error_type = "setup";
      p.error_text = call.status().message();
      p.source = "comparison";
      p.created_by = c->created_by;
      Result<int64_t> recorded = store_.RecordComparisonAnswer(cell_id, p);
      if (!recorded.ok() && recorded.status().code() != Code::kConflict) {
        spdlog::error("comparison cell {}: cannot record why it could not run: {}", cell_id,
                      recorded.status().message());
      }
    }
    Ended(cell_id);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_[cell_id] = {cell.comparison_id, *call};
  }
  (*call)->Start([this, cell_id](const std::string& event, const json&) {
    if (event == "done" || event == "error") Ended(cell_id);
    return true;
  });
}

void ComparisonService::Ended(int64_t cell_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(cell_id);
    known_.erase(cell_id);
    --in_flight_;
  }
  wake_.notify_all();
}

namespace {

// `withheld`: a blind row whose answers have not all arrived shows none of them yet (the
// order they arrive in tells fast models from slow ones).
json CellJson(const ComparisonCell& c, size_t index, bool hidden, bool withheld,
              const std::map<std::string, double>& ratings) {
  json out = {{"id", c.id}, {"label", Label(index)}};
  json r = json::object();
  for (const std::string& k : RatingCriteria()) {
    auto it = ratings.find(k);
    r[k] = it == ratings.end() ? json(nullptr) : json(it->second);
  }
  out["ratings"] = r;
  out["model_id"] = hidden ? json(nullptr) : json(c.model_id);
  out["model_name"] = hidden ? json(nullptr) : json(c.model_name);
  if (!c.prediction || withheld) {
    out["state"] = "pending";
    for (const char* k : {"response", "error_type", "error_text", "latency_ms", "ttft_ms", "prompt_tokens",
                          "completion_tokens", "cost_usd", "prediction_id"}) {
      out[k] = nullptr;
    }
    return out;
  }
  const Prediction& p = *c.prediction;
  out["state"] = p.outcome;
  out["response"] = p.response;
  out["error_type"] = p.error_type.empty() ? json(nullptr) : json(p.error_type);
  // A provider's error names its host and often the model: hidden with the name.
  out["error_text"] = p.error_text.empty() ? json(nullptr) : json(hidden ? "the call failed (" + p.error_type + ")" : p.error_text);
  // Speed, length and price tell models apart as surely as a name: hidden with it.
  out["latency_ms"] = hidden ? json(nullptr) : json(p.latency_ms);
  out["ttft_ms"] = hidden ? json(nullptr) : OrNull(p.ttft_ms);
  out["prompt_tokens"] = hidden ? json(nullptr) : OrNull(p.prompt_tokens);
  out["completion_tokens"] = hidden ? json(nullptr) : OrNull(p.completion_tokens);
  out["cost_usd"] = hidden ? json(nullptr) : OrNull(p.cost_usd);
  out["prediction_id"] = hidden ? json(nullptr) : json(p.id);
  return out;
}

}  // namespace

// Every rating of the answers of `rows`, the latest per criterion and answer (one query).
static Result<std::map<int64_t, std::map<std::string, double>>> RatingsOf(FeedbackStore& feedback,
                                                                          const std::vector<ComparisonRow>& rows) {
  std::map<int64_t, std::map<std::string, double>> out;
  std::map<int64_t, int64_t> cell_of;  // prediction -> cell
  std::vector<int64_t> ids;
  for (const ComparisonRow& r : rows) {
    for (const ComparisonCell& c : r.cells) {
      if (!c.prediction) continue;
      cell_of[c.prediction->id] = c.id;
      ids.push_back(c.prediction->id);
    }
  }
  LOUPE_ASSIGN_OR_RETURN(std::vector<Judgment> js, feedback.JudgmentsOfMany(ids, "human"));
  std::map<std::pair<int64_t, std::string>, int64_t> when;
  for (const Judgment& j : js) {
    if (!j.score) continue;
    if (std::find(RatingCriteria().begin(), RatingCriteria().end(), j.criterion) == RatingCriteria().end()) continue;
    auto it = when.find({j.prediction_id, j.criterion});
    if (it != when.end() && it->second > j.update_time) continue;
    when[{j.prediction_id, j.criterion}] = j.update_time;
    out[cell_of[j.prediction_id]][j.criterion] = *j.score;
  }
  return out;
}

static json RowJson(const ComparisonRow& r, bool hidden, const std::map<int64_t, std::map<std::string, double>>& ratings) {
  static const std::map<std::string, double> none;
  json cells = json::array();
  std::optional<int64_t> preferred_cell;
  json rejected_cells = json::array();
  const bool withheld =
      hidden && std::any_of(r.cells.begin(), r.cells.end(), [](const ComparisonCell& c) { return !c.prediction; });
  for (size_t i = 0; i < r.cells.size(); ++i) {
    const ComparisonCell& c = r.cells[i];
    auto it = ratings.find(c.id);
    cells.push_back(CellJson(c, i, hidden, withheld, it == ratings.end() ? none : it->second));
    if (r.preferred && c.model_id == *r.preferred) preferred_cell = c.id;
    if (std::find(r.rejected.begin(), r.rejected.end(), c.model_id) != r.rejected.end()) rejected_cells.push_back(c.id);
  }
  return {{"id", r.id},
          {"position", r.position},
          {"prompt", r.prompt},
          {"decision", r.decision},
          {"preferred_cell", OrNull(preferred_cell)},
          {"rejected_cells", rejected_cells},
          {"decided_blind", r.decision.empty() ? json(nullptr) : json(r.decided_blind)},
          {"decided_by", r.decision.empty() ? json(nullptr) : json(r.decided_by)},
          {"decided_time", r.decision.empty() ? json(nullptr) : json(r.decided_time / 1e6)},
          {"cells", cells}};
}

static json ComparisonJson(const Comparison& c) {
  const bool hidden = c.blind && !c.revealed;
  json models = json::array();
  for (size_t i = 0; i < c.model_ids.size(); ++i) {
    models.push_back({{"id", c.model_ids[i]}, {"name", i < c.model_names.size() ? c.model_names[i] : ""}});
  }
  return {{"id", c.id},
          {"title", c.title},
          {"blind", c.blind},
          {"revealed", c.revealed},
          {"hidden", hidden},
          {"models", hidden ? json(nullptr) : models},
          {"model_count", c.model_ids.size()},
          {"system", c.system},
          {"params", json::parse(c.params_json, nullptr, false)},
          {"created_by", c.created_by},
          {"create_time", c.create_time / 1e6},
          {"rows", c.rows},
          {"answers", c.cells},
          {"answered", c.answered},
          {"pending", c.cells - c.answered},
          {"decided", c.decided},
          {"ties", c.ties}};
}

Result<json> ComparisonService::List(int64_t limit, int64_t offset) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<Comparison> all, store_.ListComparisons(limit, offset));
  LOUPE_ASSIGN_OR_RETURN(int64_t total, store_.CountComparisons());
  json items = json::array();
  for (const Comparison& c : all) items.push_back(ComparisonJson(c));
  return json{{"comparisons", items}, {"total", total}};
}

Result<json> ComparisonService::Get(int64_t id, int64_t after_row, int64_t limit) {
  LOUPE_ASSIGN_OR_RETURN(Comparison c, store_.GetComparison(id));
  const bool hidden = c.blind && !c.revealed;
  LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> rows, store_.ListComparisonRows(id, false, after_row, limit));
  LOUPE_ASSIGN_OR_RETURN(auto ratings, RatingsOf(feedback_, rows));
  json out = ComparisonJson(c);
  json items = json::array();
  for (const ComparisonRow& r : rows) items.push_back(RowJson(r, hidden, ratings));
  out["items"] = items;
  out["next_after"] = static_cast<int64_t>(rows.size()) == limit && !rows.empty() ? json(rows.back().id) : json(nullptr);
  // Position bias: where the preferred answer stood in rows decided while names were hidden.
  std::vector<int64_t> by_position(c.model_ids.size(), 0);
  int64_t decided_blind = 0;
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> page, store_.ListComparisonRows(id, true, after, kPage));
    for (const ComparisonRow& r : page) {
      if (r.decision != "prefer" || !r.decided_blind || !r.preferred) continue;
      for (size_t i = 0; i < r.cells.size() && i < by_position.size(); ++i) {
        if (r.cells[i].model_id == *r.preferred) {
          ++by_position[i];
          ++decided_blind;
        }
      }
    }
    if (static_cast<int64_t>(page.size()) < kPage) break;
    after = page.back().id;
  }
  json bias = {{"decided_blind", decided_blind}, {"by_position", by_position}, {"p_value", nullptr}};
  // With two columns, the exact binomial test of left against right at 1/2.
  if (by_position.size() == 2 && decided_blind > 0) bias["p_value"] = McNemarExactP(by_position[0], by_position[1]);
  out["position_bias"] = bias;
  return out;
}

Result<json> ComparisonService::Rate(int64_t comparison_id, int64_t cell_id, const json& body, const std::string& by) {
  if (!body.is_object() || body.empty()) {
    return Status::InvalidArgument("the body must be an object of clarity, accuracy, conciseness, overall (1-5 or null)");
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(RatingCriteria().begin(), RatingCriteria().end(), it.key()) == RatingCriteria().end()) {
      return Status::InvalidArgument("unknown rating '" + it.key() + "' (clarity, accuracy, conciseness, overall)");
    }
    const json& v = it.value();
    if (!v.is_null() && !(v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 5)) {
      return Status::InvalidArgument("'" + it.key() + "' must be a whole number from 1 to 5, or null");
    }
  }
  LOUPE_ASSIGN_OR_RETURN(Comparison c, store_.GetComparison(comparison_id));
  // The cell's row, found through the comparison's rows (a cell id of another
  // comparison is not found here).
  std::optional<ComparisonRow> row;
  for (int64_t after = 0; !row;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> page, store_.ListComparisonRows(comparison_id, false, after, kPage));
    for (ComparisonRow& r : page) {
      for (const ComparisonCell& x : r.cells) {
        if (x.id == cell_id) row = r;
      }
    }
    if (static_cast<int64_t>(page.size()) < kPage) break;
    after = page.back().id;
  }
  if (!row) {
    return Status::NotFound("answer " + std::to_string(cell_id) + " is not in comparison " + std::to_string(comparison_id));
  }
  const ComparisonCell* cell = nullptr;
  for (const ComparisonCell& x : row->cells) {
    if (x.id == cell_id) cell = &x;
  }
  if (!cell->prediction) return Status::Conflict("this answer has not arrived yet");
  const bool hidden = c.blind && !c.revealed;
  std::vector<Judgment> given;  // written together
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.value().is_null()) {
      Status s = feedback_.RemoveJudgment(cell->prediction->id, it.key(), by);
      if (!s.ok() && s.code() != Code::kNotFound) return s;
      continue;
    }
    Judgment j;
    j.prediction_id = cell->prediction->id;
    j.source = "human";
    j.criterion = it.key();
    j.score = it.value().get<double>();
    j.evidence_json = json{{"comparison_id", comparison_id}, {"row_id", row->id}, {"blind", hidden}, {"scale", "1-5"}}.dump();
    j.created_by = by;
    j.create_time = j.update_time = NowMicros();
    given.push_back(std::move(j));
  }
  if (!given.empty()) {
    LOUPE_RETURN_IF_ERROR(feedback_.PutJudgments(given).status());
  }
  LOUPE_ASSIGN_OR_RETURN(ComparisonRow fresh, store_.GetComparisonRow(row->id));
  std::vector<ComparisonRow> one = {fresh};
  LOUPE_ASSIGN_OR_RETURN(auto ratings, RatingsOf(feedback_, one));
  return RowJson(fresh, hidden, ratings);
}

Result<json> ComparisonService::Decide(int64_t comparison_id, int64_t row_id, const json& body, const std::string& by) {
  if (!body.is_object()) return Status::BadRequest("the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "decision" && it.key() != "preferred" && it.key() != "rejected") {
      return Status::InvalidArgument("unknown field '" + it.key() + "'");
    }
  }
  if (!body.contains("decision") || !body["decision"].is_string()) {
    return Status::InvalidArgument("'decision' must be \"prefer\", \"tie\" or \"\" (undecided)");
  }
  const std::string decision = body["decision"].get<std::string>();
  if (decision != "prefer" && decision != "tie" && !decision.empty()) {
    return Status::InvalidArgument("'decision' must be \"prefer\", \"tie\" or \"\" (undecided)");
  }
  if (decision != "prefer" && (body.contains("preferred") || body.contains("rejected"))) {
    return Status::InvalidArgument("'preferred' and 'rejected' go with \"prefer\" only");
  }
  LOUPE_ASSIGN_OR_RETURN(Comparison c, store_.GetComparison(comparison_id));
  LOUPE_ASSIGN_OR_RETURN(ComparisonRow row, store_.GetComparisonRow(row_id));
  if (row.comparison_id != comparison_id) {
    return Status::NotFound("row " + std::to_string(row_id) + " is not in comparison " + std::to_string(comparison_id));
  }
  auto cell_by_id = [&](int64_t id) -> const ComparisonCell* {
    for (const ComparisonCell& x : row.cells) {
      if (x.id == id) return &x;
    }
    return nullptr;
  };
  RowDecision d;
  d.decision = decision;
  d.blind = c.blind && !c.revealed;
  d.by = by;
  d.time = NowMicros();
  if (decision == "prefer") {
    if (!body.contains("preferred") || !IsId(body["preferred"])) {
      return Status::InvalidArgument("'preferred' must be the id of one of the row's answers");
    }
    const ComparisonCell* pref = cell_by_id(body["preferred"].get<int64_t>());
    if (!pref) return Status::InvalidArgument("'preferred' is not an answer of this row");
    if (!Answered(*pref)) return Status::Conflict("the preferred answer has not arrived yet");
    d.preferred = pref->model_id;
    if (body.contains("rejected")) {
      const json& rj = body["rejected"];
      if (!rj.is_array() || rj.empty()) {
        return Status::InvalidArgument("'rejected' must list at least one of the row's other answers");
      }
      for (const json& x : rj) {
        const ComparisonCell* cell = IsId(x) ? cell_by_id(x.get<int64_t>()) : nullptr;
        if (!cell) return Status::InvalidArgument("'rejected' names an answer that is not in this row");
        if (cell == pref) return Status::InvalidArgument("an answer cannot be both preferred and rejected");
        if (std::find(d.rejected.begin(), d.rejected.end(), cell->model_id) != d.rejected.end()) {
          return Status::InvalidArgument("'rejected' names an answer twice");
        }
        d.rejected.push_back(cell->model_id);
      }
    } else {
      for (const ComparisonCell& x : row.cells) {
        if (&x != pref) d.rejected.push_back(x.model_id);
      }
    }
    for (int64_t m : d.rejected) {
      if (!Answered(*CellOf(row, m))) return Status::Conflict("a rejected answer has not arrived yet");
    }
  } else if (decision == "tie") {
    for (const ComparisonCell& x : row.cells) {
      if (!Answered(x)) return Status::Conflict("wait for every answer of the row before calling a tie");
    }
  }
  if (decision.empty()) {
    d.blind = false;
    d.by.clear();
    d.time = 0;
  }
  LOUPE_RETURN_IF_ERROR(store_.DecideComparisonRow(row_id, d));
  LOUPE_ASSIGN_OR_RETURN(ComparisonRow fresh, store_.GetComparisonRow(row_id));
  std::vector<ComparisonRow> one = {fresh};
  LOUPE_ASSIGN_OR_RETURN(auto ratings, RatingsOf(feedback_, one));
  return RowJson(fresh, c.blind && !c.revealed, ratings);
}

Status ComparisonService::Reveal(int64_t id) { return store_.RevealComparison(id); }

Status ComparisonService::Delete(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.DeleteComparison(id));
  std::vector<std::shared_ptr<llm::ChatCall>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(queue_, [&](const PendingCell& c) {
      if (c.comparison_id != id) return false;
      known_.erase(c.cell_id);
      return true;
    });
    for (auto& [cell, entry] : running_) {
      if (entry.first != id) continue;
      if (auto call = entry.second.lock()) calls.push_back(std::move(call));
    }
  }
  // Their predictions are still recorded (as cancelled), without a comparison.
  for (const auto& call : calls) call->Cancel();
  return Status::Ok();
}

Result<json> ComparisonService::Ab(int64_t comparison_id, std::optional<int64_t> a, std::optional<int64_t> b) {
  LOUPE_ASSIGN_OR_RETURN(Comparison c, store_.GetComparison(comparison_id));
  if (c.blind && !c.revealed) {
    return Status::Conflict("comparison " + std::to_string(comparison_id) +
                            " is blind: its A/B statistics would name the models; reveal them first");
  }
  const int64_t ma = a.value_or(c.model_ids.empty() ? 0 : c.model_ids[0]);
  const int64_t mb = b.value_or(c.model_ids.size() < 2 ? 0 : c.model_ids[1]);
  auto name_of = [&](int64_t m) -> std::optional<std::string> {
    for (size_t i = 0; i < c.model_ids.size(); ++i) {
      if (c.model_ids[i] == m) return i < c.model_names.size() ? c.model_names[i] : "";
    }
    return std::nullopt;
  };
  if (!name_of(ma) || !name_of(mb) || ma == mb) {
    return Status::InvalidArgument("'a' and 'b' must be two different models of comparison " +
                                   std::to_string(comparison_id));
  }
  std::vector<PairedRating> paired;
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> page, store_.ListComparisonRows(comparison_id, false, after, kPage));
    LOUPE_ASSIGN_OR_RETURN(auto ratings, RatingsOf(feedback_, page));
    for (const ComparisonRow& r : page) {
      const ComparisonCell* ca = CellOf(r, ma);
      const ComparisonCell* cb = CellOf(r, mb);
      if (!ca || !cb) continue;
      PairedRating p;
      if (r.decision == "tie") {
        p.preference = 0;
      } else if (r.decision == "prefer" && r.preferred) {
        auto rejected = [&](int64_t m) { return std::find(r.rejected.begin(), r.rejected.end(), m) != r.rejected.end(); };
        if (*r.preferred == mb && rejected(ma)) p.preference = 1;
        if (*r.preferred == ma && rejected(mb)) p.preference = -1;
      }
      if (auto it = ratings.find(ca->id); it != ratings.end()) p.a = it->second;
      if (auto it = ratings.find(cb->id); it != ratings.end()) p.b = it->second;
      paired.push_back(std::move(p));
    }
    if (static_cast<int64_t>(page.size()) < kPage) break;
    after = page.back().id;
  }
  json out = CompareRatings(*name_of(ma), *name_of(mb), paired, RatingCriteria(), options_.bootstrap);
  out["a"]["model_id"] = ma;
  out["b"]["model_id"] = mb;
  out["rows"] = paired.size();
  return out;
}

Result<json> ComparisonService::Leaderboard(int64_t comparison_id) {
  if (comparison_id > 0) {
    LOUPE_ASSIGN_OR_RETURN(Comparison c, store_.GetComparison(comparison_id));
    if (c.blind && !c.revealed) {
      return Status::Conflict("comparison " + std::to_string(comparison_id) +
                              " is blind: its leaderboard would name the models; reveal them first");
    }
  }
  // Rows of blind comparisons not yet revealed stay out of every leaderboard.
  std::map<int64_t, bool> hidden_comparison;
  auto hidden = [&](int64_t id) -> bool {
    auto it = hidden_comparison.find(id);
    if (it != hidden_comparison.end()) return it->second;
    Result<Comparison> c = store_.GetComparison(id);
    return hidden_comparison[id] = !c.ok() || (c->blind && !c->revealed);
  };
  std::map<int64_t, int> index;  // model id -> player
  std::vector<int64_t> ids;
  std::vector<std::string> names;
  auto player = [&](int64_t model, const std::string& name) {
    auto [it, added] = index.emplace(model, static_cast<int>(ids.size()));
    if (added) {
      ids.push_back(model);
      names.push_back(name);
    } else {
      names[it->second] = name;  // the latest name
    }
    return it->second;
  };
  std::vector<Battle> battles;
  int64_t rows_used = 0;
  size_t rows_read = 0;
  for (int64_t after = 0;;) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> page,
                           store_.ListComparisonRows(comparison_id, true, after, kPage));
    for (const ComparisonRow& r : page) {
      if (hidden(r.comparison_id)) continue;
      const size_t before = battles.size();
      if (r.decision == "prefer" && r.preferred) {
        const ComparisonCell* p = CellOf(r, *r.preferred);
        if (!p) continue;
        const int a = player(p->model_id, p->model_name);
        for (int64_t m : r.rejected) {
          const ComparisonCell* x = CellOf(r, m);
          if (x) battles.push_back({a, player(x->model_id, x->model_name), 1.0});
        }
      } else if (r.decision == "tie") {
        for (size_t i = 0; i < r.cells.size(); ++i) {
          for (size_t j = i + 1; j < r.cells.size(); ++j) {
            battles.push_back({player(r.cells[i].model_id, r.cells[i].model_name),
                               player(r.cells[j].model_id, r.cells[j].model_name), 0.5});
          }
        }
      }
      if (battles.size() > before) ++rows_used;
    }
    rows_read += page.size();
    if (static_cast<int64_t>(page.size()) < kPage || rows_read >= kMaxLeaderboardRows) break;
    after = page.back().id;
  }
  LeaderboardOptions lo;
  lo.bootstrap = options_.bootstrap;
  const int players = static_cast<int>(ids.size());
  json models = json::array();
  json order_names = json::array();
  json win = json::array();
  json counts = json::array();
  if (players >= 2) {
    LOUPE_ASSIGN_OR_RETURN(::loupe::evals::Leaderboard board, FitLeaderboard(players, battles, lo));
    std::vector<int> order(players);
    for (int i = 0; i < players; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int x, int y) { return board.rating[x] > board.rating[y]; });
    std::vector<int64_t> wins(players, 0), played(players, 0), ties(players, 0);
    for (const Battle& b : battles) {
      played[b.a] += 1;
      played[b.b] += 1;
      if (b.a_score == 0.5) {
        ties[b.a] += 1;
        ties[b.b] += 1;
      } else if (b.a_score == 1) {
        wins[b.a] += 1;
      } else {
        wins[b.b] += 1;
      }
    }
    for (int rank = 0; rank < players; ++rank) {
      const int i = order[rank];
      json m = {{"rank", rank + 1},
                {"model_id", ids[i]},
                {"name", names[i]},
                {"rating", board.rating[i]},
                {"ci_low", nullptr},
                {"ci_high", nullptr},
                {"battles", played[i]},
                {"wins", wins[i]},
                {"ties", ties[i]},
                {"losses", played[i] - wins[i] - ties[i]}};
      if (static_cast<size_t>(i) < board.rating_ci95.size()) {
        m["ci_low"] = board.rating_ci95[i].low;
        m["ci_high"] = board.rating_ci95[i].high;
      }
      models.push_back(m);
      order_names.push_back(names[i]);
      json wr = json::array();
      json ct = json::array();
      for (int rank2 = 0; rank2 < players; ++rank2) {
        const int j = order[rank2];
        const double w = board.win_rate[i][j];
        wr.push_back(std::isnan(w) ? json(nullptr) : json(w));
        ct.push_back(board.battles[i][j]);
      }
      win.push_back(wr);
      counts.push_back(ct);
    }
  } else {
    for (int i = 0; i < players; ++i) order_names.push_back(names[i]);
  }
  return json{{"models", models},
              {"matrix_models", order_names},
              {"win_rate", win},
              {"battle_counts", counts},
              {"battles", battles.size()},
              {"rows", rows_used},
              {"bootstrap", options_.bootstrap}};
}

std::vector<llm::PreferencePair> RowPreferencePairs(const ComparisonRow& row) {
  std::vector<llm::PreferencePair> out;
  if (row.decision != "prefer" || !row.preferred) return out;
  const ComparisonCell* chosen = CellOf(row, *row.preferred);
  if (!chosen || !AnsweredOk(*chosen)) return out;
  for (int64_t m : row.rejected) {
    const ComparisonCell* rejected = CellOf(row, m);
    if (!rejected || !AnsweredOk(*rejected)) continue;
    llm::PreferencePair pair;
    pair.messages_json = chosen->prediction->messages_json;
    pair.chosen = chosen->prediction->response;
    pair.rejected = rejected->prediction->response;
    pair.chosen_prediction = chosen->prediction->id;
    pair.rejected_prediction = rejected->prediction->id;
    out.push_back(std::move(pair));
  }
  return out;
}

ComparisonPreferenceReader::ComparisonPreferenceReader(ComparisonStore& store, int64_t comparison_id,
                                                       llm::PreferenceFormat format)
    : store_(store), comparison_id_(comparison_id), format_(format) {}

Result<bool> ComparisonPreferenceReader::Next(std::string& out) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<ComparisonRow> page, store_.ListComparisonRows(comparison_id_, true, after_, kPage));
  for (const ComparisonRow& r : page) {
    for (const llm::PreferencePair& pair : RowPreferencePairs(r)) {
      std::optional<std::string> line = llm::PreferenceLine(pair, format_);
      if (!line) continue;
      out += *line;
      out += '\n';
      ++lines_;
    }
  }
  if (!page.empty()) after_ = page.back().id;
  return static_cast<int64_t>(page.size()) == kPage;
}

}  // namespace loupe::evals
