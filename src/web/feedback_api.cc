// The predictions and feedback API under /api/v1/llm: predictions found again (filters,
// search, paging), people's thumbs and evaluations, automated verdicts, feedback per
// model over time, and the exports (predictions, judgments, SFT and preference data),
// streamed as they are read.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>

#include "common/csv.h"
#include "common/time_util.h"
#include "llm/chat_service.h"
#include "llm/dataset_export.h"
#include "llm/export_readers.h"
#include "llm/training_export.h"
#include "web/json_util.h"
#include "web/llm_api.h"

namespace loupe {

namespace {

using nlohmann::json;

constexpr size_t kMaxJudgmentBody = 256 << 10;
constexpr size_t kMaxIds = 1000;
using llm::kExportPage;

Status Unknown(const HttpRequest& req, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : req.query) {
    if (!allowed.count(k)) return Status::InvalidArgument("unknown query parameter '" + k + "'");
  }
  return Status::Ok();
}

// "2026-12-01" (a UTC day's start) or seconds since the epoch.
Result<int64_t> ParseTime(const std::string& text, const std::string& name) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  // Digits only where digits belong ("-001-01-01" and "0x10" once passed), years 1970-9999.
  const bool date_shape = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                          std::all_of(text.begin(), text.end(), [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
  if (date_shape && std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1970 && m >= 1 &&
      m <= 12 && d >= 1 && d <= 31) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    const time_t t = timegm(&tm);
    std::tm back{};
    gmtime_r(&t, &back);
    if (back.tm_mday == d) return static_cast<int64_t>(t) * 1000000;
  }
  const bool number_shape = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c == '.' || (c >= '0' && c <= '9');
  });
  try {
    size_t used = 0;
    const double secs = number_shape ? std::stod(text, &used) : -1;
    if (number_shape && used == text.size() && secs >= 0 && secs < 1e11) return static_cast<int64_t>(secs * 1e6);
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument("'" + name + "' must be a date (2026-12-01) or seconds since 1970");
}

Status OneOf(const HttpRequest& req, const std::string& name, const std::vector<std::string>& allowed, std::string& out) {
  const std::string* v = req.Query(name);
  if (!v || v->empty()) return Status::Ok();
  for (const std::string& a : allowed) {
    if (*v == a) {
      out = *v;
      return Status::Ok();
    }
  }
  std::string names;
  for (const std::string& a : allowed) names += (names.empty() ? "" : ", ") + a;
  return Status::InvalidArgument("'" + name + "' must be one of " + names);
}

Status OptionalId(const HttpRequest& req, const std::string& name, std::optional<int64_t>& out) {
  const std::string* v = req.Query(name);
  if (!v || v->empty()) return Status::Ok();
  LOUPE_ASSIGN_OR_RETURN(int64_t id, ParseId(v, name));
  out = id;
  return Status::Ok();
}

Status TimeRange(const HttpRequest& req, std::optional<int64_t>& since, std::optional<int64_t>& until) {
  for (auto [name, target] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    const std::string* v = req.Query(name);
    if (!v || v->empty()) continue;
    LOUPE_ASSIGN_OR_RETURN(int64_t t, ParseTime(*v, name));
    *target = t;
  }
  if (since && until && *since >= *until) return Status::InvalidArgument("'since' must be before 'until'");
  return Status::Ok();
}

Status SearchText(const HttpRequest& req, std::string& out) {
  const std::string* q = req.Query("q");
  if (!q) return Status::Ok();
  if (q->size() > 500) return Status::InvalidArgument("'q' is at most 500 bytes");
  if (llm::HasControlCharacters(*q)) return Status::InvalidArgument("'q' must not contain control characters");
  out = *q;
  return Status::Ok();
}

const std::set<std::string> kFilterParams = {"q", "model_id", "conversation_id", "outcome", "rating", "tag",
                                             "source", "since", "until", "ids"};

Result<PredictionFilter> FilterFromQuery(const HttpRequest& req, std::set<std::string> extra) {
  extra.insert(kFilterParams.begin(), kFilterParams.end());
  LOUPE_RETURN_IF_ERROR(Unknown(req, extra));
  PredictionFilter f;
  LOUPE_RETURN_IF_ERROR(SearchText(req, f.text));
  LOUPE_RETURN_IF_ERROR(OptionalId(req, "model_id", f.model_id));
  LOUPE_RETURN_IF_ERROR(OptionalId(req, "conversation_id", f.conversation_id));
  LOUPE_RETURN_IF_ERROR(OneOf(req, "outcome", {"ok", "error", "refused", "cancelled"}, f.outcome));
  LOUPE_RETURN_IF_ERROR(OneOf(req, "rating", {"up", "down", "rated", "unrated"}, f.rating));
  LOUPE_RETURN_IF_ERROR(OneOf(req, "tag", FailureTags(), f.failure_tag));
  LOUPE_RETURN_IF_ERROR(OneOf(req, "source", {"chat", "comparison", "batch", "judge"}, f.source));
  LOUPE_RETURN_IF_ERROR(TimeRange(req, f.since, f.until));
  if (const std::string* ids = req.Query("ids"); ids && !ids->empty()) {
    size_t start = 0;
    while (start <= ids->size()) {
      size_t comma = ids->find(',', start);
      if (comma == std::string::npos) comma = ids->size();
      std::string one = ids->substr(start, comma - start);
      LOUPE_ASSIGN_OR_RETURN(int64_t id, ParseId(&one, "ids"));
      if (f.ids.size() >= kMaxIds) return Status::InvalidArgument("'ids' names at most " + std::to_string(kMaxIds));
      f.ids.push_back(id);
      start = comma + 1;
    }
  }
  return f;
}

Status Paging(const HttpRequest& req, PredictionFilter& f) {
  LOUPE_RETURN_IF_ERROR(OneOf(req, "sort", {"time", "latency", "cost", "ttft"}, f.sort));
  std::string order;
  LOUPE_RETURN_IF_ERROR(OneOf(req, "order", {"asc", "desc"}, order));
  f.ascending = order == "asc";
  for (auto [name, target, max] : {std::tuple{"limit", &f.limit, int64_t{500}},
                                   std::tuple{"offset", &f.offset, int64_t{100000000}}}) {
    if (const std::string* v = req.Query(name); v && !v->empty()) {
      LOUPE_ASSIGN_OR_RETURN(int64_t n, ParseId(v, name));
      if (n > max) return Status::InvalidArgument(std::string(name) + " is at most " + std::to_string(max));
      *target = n;
    }
  }
  if (f.limit == 0) return Status::InvalidArgument("limit is at least 1");
  return Status::Ok();
}

Result<FeedbackFilter> FeedbackFilterFromQuery(const HttpRequest& req, std::set<std::string> extra) {
  extra.insert({"q", "model_id", "since", "until", "tag"});
  LOUPE_RETURN_IF_ERROR(Unknown(req, extra));
  FeedbackFilter f;
  LOUPE_RETURN_IF_ERROR(SearchText(req, f.text));
  LOUPE_RETURN_IF_ERROR(OptionalId(req, "model_id", f.model_id));
  LOUPE_RETURN_IF_ERROR(OneOf(req, "tag", FailureTags(), f.failure_tag));
  LOUPE_RETURN_IF_ERROR(TimeRange(req, f.since, f.until));
  return f;
}

json RowJson(const PredictionRow& r, bool full) {
  json j = llm::PredictionJson(r.p, full);
  j["thumbs"] = r.thumbs ? json(*r.thumbs > 0 ? "up" : "down") : json(nullptr);
  j["stars"] = r.stars ? json(*r.stars) : json(nullptr);
  j["failure_tags"] = r.failure_tags;
  if (!full) j["prompt"] = llm::LastUserText(r.p.messages_json);
  return j;
}

// Shortest text that reads back as the same double.
std::string FormatJsonNumber(double v) { return json(v).dump(); }
std::string Num(const std::optional<double>& v) { return v ? FormatJsonNumber(*v) : ""; }
std::string Num(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : ""; }

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ";") + s;
  return out;
}

constexpr const char* kPredictionCsvHeader =
    "id,time,model_id,model_name,outcome,finish_reason,error_type,error_text,latency_ms,ttft_ms,prompt_tokens,"
    "completion_tokens,total_tokens,cost_usd,conversation_id,source,thumbs,stars,failure_tags,prompt,response,"
    "messages\n";

std::string PredictionCsvLine(const PredictionRow& r) {
  const Prediction& p = r.p;
  std::optional<int64_t> total;
  if (p.prompt_tokens && p.completion_tokens) total = *p.prompt_tokens + *p.completion_tokens;
  return std::to_string(p.id) + "," + FormatIsoMicros(p.time) + "," + Num(p.model_id) + "," + CsvField(p.model_name) +
         "," + p.outcome + "," + CsvField(p.finish_reason) + "," + CsvField(p.error_type) + "," +
         CsvField(p.error_text) + "," + FormatJsonNumber(p.latency_ms) + "," + Num(p.ttft_ms) + "," +
         Num(p.prompt_tokens) + "," + Num(p.completion_tokens) + "," + Num(total) + "," + Num(p.cost_usd) + "," +
         Num(p.conversation_id) + "," + CsvField(p.source) + "," +
         (r.thumbs ? std::string(*r.thumbs > 0 ? "up" : "down") : "") + "," + Num(r.stars) + "," +
         CsvField(Joined(r.failure_tags)) + "," + CsvField(llm::LastUserText(p.messages_json)) + "," + CsvField(p.response) +
         "," + CsvField(p.messages_json) + "\n";
}

constexpr const char* kJudgmentCsvHeader =
    "judgment_id,time,model_id,model_name,prediction_id,source,criterion,score,passed,tags,notes,expected,"
    "strengths,groundedness,prompt,response,created_by\n";

json JudgmentExportJson(const Judgment& j, const Prediction& p) {
  json out = llm::JudgmentJson(j);
  out["prompt"] = llm::LastUserText(p.messages_json);
  out["response"] = p.response;
  out["time"] = FormatIsoMicros(j.update_time);
  return out;
}

std::string JudgmentCsvLine(const Judgment& j, const Prediction& p) {
  json e = json::parse(j.evidence_json, nullptr, false);
  auto text = [&](const char* k) { return e.is_object() && e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : ""; };
  std::string grounded = e.is_object() && e.contains("groundedness") && e["groundedness"].is_number()
                             ? FormatJsonNumber(e["groundedness"].get<double>())
                             : "";
  return std::to_string(j.id) + "," + FormatIsoMicros(j.update_time) + "," + Num(j.model_id) + "," +
         CsvField(j.model_name) + "," + std::to_string(j.prediction_id) + "," + j.source + "," + CsvField(j.criterion) +
         "," + Num(j.score) + "," + (j.passed ? (*j.passed ? "true" : "false") : "") + "," + CsvField(Joined(j.tags)) +
         "," + CsvField(text("notes")) + "," + CsvField(text("expected")) + "," + CsvField(text("strengths")) + "," +
         grounded + "," + CsvField(llm::LastUserText(p.messages_json)) + "," + CsvField(p.response) + "," +
         CsvField(j.created_by) + "\n";
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// SFT examples come from answered calls only.
Result<PredictionFilter> SftFilter(const HttpRequest& req, std::set<std::string> extra) {
  LOUPE_ASSIGN_OR_RETURN(PredictionFilter f, FilterFromQuery(req, std::move(extra)));
  if (!f.outcome.empty() && f.outcome != "ok") {
    return Status::InvalidArgument("training examples come from answered calls (outcome ok)");
  }
  return f;
}

// Pages through every prediction a filter matches, by id.
struct PredictionPager {
  FeedbackStore* store;
  PredictionFilter filter;
  int64_t after = 0;
  Result<std::vector<PredictionRow>> Next() {
    PredictionFilter f = filter;
    f.after_id = after;
    f.limit = kExportPage;
    Result<std::vector<PredictionRow>> rows = store->ListPredictions(f);
    if (rows.ok() && !rows->empty()) after = rows->back().p.id;
    return rows;
  }
};

}  // namespace

Result<PredictionFilter> PredictionListFilter(const HttpRequest& req) {
  LOUPE_ASSIGN_OR_RETURN(PredictionFilter f, FilterFromQuery(req, {"sort", "order", "limit", "offset"}));
  LOUPE_RETURN_IF_ERROR(Paging(req, f));
  return f;
}

Result<FeedbackFilter> FeedbackSummaryFilter(const HttpRequest& req, std::string* bucket) {
  LOUPE_ASSIGN_OR_RETURN(FeedbackFilter f, FeedbackFilterFromQuery(req, {"bucket"}));
  *bucket = "day";
  LOUPE_RETURN_IF_ERROR(OneOf(req, "bucket", {"day", "week"}, *bucket));
  if (*bucket == "week") {
    f.bucket_micros = 7 * 86400LL * 1000000;
    f.bucket_offset_micros = 4 * 86400LL * 1000000;  // 1970-01-05, a Monday
  }
  return f;
}

std::vector<Route> FeedbackApiRoutes(llm::FeedbackService& feedback, ChatStore& chats, StreamWorkers& workers,
                                     DatasetSaving saving) {
  std::vector<Route> r;
  FeedbackStore& store = feedback.store();

  r.push_back(Offload({"GET", "/api/v1/llm/predictions", [&store](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(PredictionFilter f, PredictionListFilter(req));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<PredictionRow> rows, store.ListPredictions(f));
    LOUPE_ASSIGN_OR_RESPOND(int64_t total, store.CountPredictions(f));
    json out = json::array();
    for (const PredictionRow& row : rows) out.push_back(RowJson(row, false));
    return JsonOk({{"predictions", out}, {"total", total}, {"limit", f.limit}, {"offset", f.offset}});
  }}));
  r.push_back({"GET", "/api/v1/llm/predictions/:id", WithPathId("prediction id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(Prediction p, chats.GetPrediction(id));
    PredictionFilter f;
    f.ids = {id};
    f.limit = 1;
    LOUPE_ASSIGN_OR_RESPOND(std::vector<PredictionRow> rows, store.ListPredictions(f));
    PredictionRow row = rows.empty() ? PredictionRow{p} : rows.front();
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Judgment> judgments, store.JudgmentsOf(id));
    json out = RowJson(row, true);
    out["judgments"] = json::array();
    for (const Judgment& j : judgments) out["judgments"].push_back(llm::JudgmentJson(j));
    return JsonOk(out);
  })});
  r.push_back({"GET", "/api/v1/llm/predictions/:id/judgments", WithPathId("prediction id", [&](const HttpRequest&, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(Prediction p, chats.GetPrediction(id));
    LOUPE_ASSIGN_OR_RESPOND(std::vector<Judgment> judgments, store.JudgmentsOf(p.id));
    json out = json::array();
    for (const Judgment& j : judgments) out.push_back(llm::JudgmentJson(j));
    return JsonOk({{"judgments", out}});
  })});
  r.push_back({"PUT", "/api/v1/llm/predictions/:id/thumbs", WithPathId("prediction id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxJudgmentBody));
    LOUPE_ASSIGN_OR_RESPOND(Judgment j, feedback.Thumbs(id, body, req.caller.user));
    return JsonOk(llm::JudgmentJson(j));
  })});
  r.push_back({"PUT", "/api/v1/llm/predictions/:id/evaluation", WithPathId("prediction id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxJudgmentBody));
    LOUPE_ASSIGN_OR_RESPOND(Judgment j, feedback.Evaluate(id, body, req.caller.user));
    return JsonOk(llm::JudgmentJson(j));
  })});
  for (const char* criterion : {"thumbs", "evaluation"}) {
    r.push_back({"DELETE", std::string("/api/v1/llm/predictions/:id/") + criterion,
                 WithPathId("prediction id", [&feedback, criterion = std::string(criterion)](const HttpRequest& req, int64_t id) {
                   if (Status s = feedback.Remove(id, criterion, req.caller.user); !s.ok()) return JsonError(s);
                   return JsonOk(nullptr);
                 })});
  }
  r.push_back({"POST", "/api/v1/llm/predictions/:id/judgments", WithPathId("prediction id", [&](const HttpRequest& req, int64_t id) {
    LOUPE_ASSIGN_OR_RESPOND(json body, ParseJsonObject(req, kMaxJudgmentBody));
    LOUPE_ASSIGN_OR_RESPOND(Judgment j, feedback.Judge(id, body, req.caller.user));
    HttpResponse resp = JsonOk(llm::JudgmentJson(j));
    resp.status = 201;
    return resp;
  })});

  r.push_back(Offload({"GET", "/api/v1/llm/judgments", [&store](const HttpRequest& req) {
    LOUPE_ASSIGN_OR_RESPOND(FeedbackFilter f, FeedbackFilterFromQuery(req, {"after_id", "limit"}));
    int64_t after = 0, limit = 100;
    if (const std::string* v = req.Query("after_id"); v && !v->empty()) {
      LOUPE_ASSIGN_OR_RESPOND(after, ParseId(v, "after_id"));
    }
    if (const std::string* v = req.Query("limit"); v && !v->empty()) {
      LOUPE_ASSIGN_OR_RESPOND(limit, ParseId(v, "limit"));
      if (limit < 1 || limit > 1000) return JsonError(Status::InvalidArgument("limit is from 1 to 1000"));
    }
    LOUPE_ASSIGN_OR_RESPOND(auto rows, store.ListJudgments(f, after, limit));
    json out = json::array();
    for (const auto& [j, p] : rows) out.push_back(JudgmentExportJson(j, p));
    return JsonOk({{"judgments", out},
                   {"next_after_id", static_cast<int64_t>(rows.size()) == limit ? json(rows.back().first.id) : json(nullptr)}});
  }}));
  r.push_back(Offload({"GET", "/api/v1/llm/feedback", [&feedback](const HttpRequest& req) {
    std::string bucket;
    LOUPE_ASSIGN_OR_RESPOND(FeedbackFilter f, FeedbackSummaryFilter(req, &bucket));
    LOUPE_ASSIGN_OR_RESPOND(json out, feedback.Summary(f));
    out["bucket"] = bucket;
    return JsonOk(out);
  }}));

  // Exports: the status line goes out once the request is checked; rows follow page by page.
  Route predictions{"GET", "/api/v1/llm/exports/predictions", nullptr};
  predictions.stream = [&store, &workers](const HttpRequest& req) {
    Result<PredictionFilter> f = FilterFromQuery(req, {"format"});
    if (!f.ok()) return RefuseStream(f.status());
    std::string format = "csv";
    if (Status s = OneOf(req, "format", {"csv", "json", "jsonl"}, format); !s.ok()) return RefuseStream(s);
    auto pager = std::make_shared<PredictionPager>(PredictionPager{&store, *f});
    auto started = std::make_shared<bool>(false);
    const std::string type = format == "csv" ? "text/csv; charset=utf-8" : format == "json" ? "application/json" : "application/x-ndjson";
    return DownloadStream(workers, type, "predictions." + format, [pager, started, format](std::string& chunk) -> Result<bool> {
      if (!*started) chunk += format == "csv" ? kPredictionCsvHeader : format == "json" ? "[" : "";
      LOUPE_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows, pager->Next());
      for (const PredictionRow& row : rows) {
        if (format == "csv") {
          chunk += PredictionCsvLine(row);
        } else {
          if (format == "json") chunk += *started ? ",\n" : "\n";
          chunk += Dump(RowJson(row, true));
          if (format == "jsonl") chunk += "\n";
        }
        *started = true;
      }
      *started = true;
      if (rows.size() < static_cast<size_t>(kExportPage)) {
        if (format == "json") chunk += "\n]\n";
        return false;
      }
      return true;
    });
  };
  r.push_back(std::move(predictions));

  Route judgments{"GET", "/api/v1/llm/exports/judgments", nullptr};
  judgments.stream = [&store, &workers](const HttpRequest& req) {
    Result<FeedbackFilter> f = FeedbackFilterFromQuery(req, {"format"});
    if (!f.ok()) return RefuseStream(f.status());
    std::string format = "csv";
    if (Status s = OneOf(req, "format", {"csv", "jsonl"}, format); !s.ok()) return RefuseStream(s);
    auto after = std::make_shared<int64_t>(-1);
    return DownloadStream(workers, format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson", "judgments." + format,
                    [&store, filter = *f, after, format](std::string& chunk) -> Result<bool> {
                      if (*after < 0) {
                        if (format == "csv") chunk += kJudgmentCsvHeader;
                        *after = 0;
                      }
                      LOUPE_ASSIGN_OR_RETURN(auto rows, store.ListJudgments(filter, *after, kExportPage));
                      for (const auto& [j, p] : rows) {
                        chunk += format == "csv" ? JudgmentCsvLine(j, p) : Dump(JudgmentExportJson(j, p)) + "\n";
                        *after = j.id;
                      }
                      return rows.size() == static_cast<size_t>(kExportPage);
                    });
  };
  r.push_back(std::move(judgments));

  // SFT: each answered call as one example (its prompt and answer; a person's expected
  // behaviour replaces an answer they corrected unless use_expected=false).
  Route sft{"GET", "/api/v1/llm/exports/sft", nullptr};
  sft.stream = [&store, &workers](const HttpRequest& req) {
    Result<PredictionFilter> f = SftFilter(req, {"format", "use_expected"});
    if (!f.ok()) return RefuseStream(f.status());
    std::string format = "openai", use_expected = "true";
    if (Status s = OneOf(req, "format", {"openai", "sharegpt", "table"}, format); !s.ok()) return RefuseStream(s);
    if (Status s = OneOf(req, "use_expected", {"true", "false"}, use_expected); !s.ok()) return RefuseStream(s);
    auto reader = std::make_shared<llm::SftReader>(store, *f, *llm::ParseSftFormat(format), use_expected == "true");
    return DownloadStream(workers, "application/x-ndjson", "sft-" + format + ".jsonl",
                    [reader](std::string& chunk) { return reader->Next(chunk); });
  };
  r.push_back(std::move(sft));

  // Preference pairs among the judged answers to each prompt.
  Route prefs{"GET", "/api/v1/llm/exports/preferences", nullptr};
  prefs.stream = [&store, &workers](const HttpRequest& req) {
    Result<PredictionFilter> f = FilterFromQuery(req, {"format"});
    if (!f.ok()) return RefuseStream(f.status());
    std::string format = "trl";
    if (Status s = OneOf(req, "format", {"trl", "openai", "table"}, format); !s.ok()) return RefuseStream(s);
    auto reader = std::make_shared<llm::PreferenceReader>(store, *f, *llm::ParsePreferenceFormat(format));
    return DownloadStream(workers, "application/x-ndjson", "preferences-" + format + ".jsonl",
                    [reader](std::string& chunk) { return reader->Next(chunk); });
  };
  r.push_back(std::move(prefs));

  // The same data kept as a Loupe dataset (its flat table form), to train on or explore.
  r.push_back(Offload({"POST", "/api/v1/llm/exports/dataset", [&store, saving](const HttpRequest& req) {
    if (!req.body.empty()) {
      return JsonError(Status::InvalidArgument("the filters, kind and name go in the query string; the body must be empty"));
    }
    std::string kind = "sft", use_expected = "true";
    if (Status s = OneOf(req, "kind", {"sft", "preferences"}, kind); !s.ok()) return JsonError(s);
    if (Status s = OneOf(req, "use_expected", {"true", "false"}, use_expected); !s.ok()) return JsonError(s);
    llm::DatasetExportRequest request;
    request.kind = kind == "sft" ? llm::DatasetKind::kSft : llm::DatasetKind::kPreferences;
    request.use_expected = use_expected == "true";
    const std::string* name = req.Query("name");
    request.name = name ? *name : "";
    // The datasets subsystem checks the name as it does an upload's.
    if (request.name.empty()) return JsonError(Status::InvalidArgument("name is required: what to call the dataset"));
    if (kind == "sft") {
      LOUPE_ASSIGN_OR_RESPOND(request.filter, SftFilter(req, {"kind", "name", "use_expected"}));
    } else {
      if (use_expected != "true" || req.Query("use_expected")) {
        return JsonError(Status::InvalidArgument("use_expected is for kind=sft (preference pairs use expected behaviour as a chosen answer)"));
      }
      LOUPE_ASSIGN_OR_RESPOND(request.filter, FilterFromQuery(req, {"kind", "name"}));
    }
    LOUPE_ASSIGN_OR_RESPOND(llm::SavedDataset saved, llm::SaveAsDataset(store, saving.sink, request, saving.max_bytes));
    HttpResponse resp = JsonOk({{"dataset_id", saved.id}, {"name", request.name}, {"kind", kind}, {"rows", saved.rows},
                                {"bytes", saved.bytes}, {"href", "/datasets/" + std::to_string(saved.id)}});
    resp.status = 201;
    return resp;
  }}));
  return r;
}

}  // namespace loupe
