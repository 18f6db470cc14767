// Predictions found again (filters, FTS5 search, sorting, keyset pages) and judgments:
// one per person and criterion, the latest rating on the prediction, tags, summaries.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <tuple>

#include "common/temp_dir.h"
#include "store/store.h"

namespace loupe {
namespace {

class FeedbackStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions so;
    so.data_dir = dir_.path();
    so.sync_full = false;
    store_ = std::move(*OpenSqliteStore(so));
    for (const char* name : {"base", "tuned"}) {
      LlmModel m;
      m.name = name;
      m.api = "openai";
      m.base_url = "http://h/v1";
      m.model = name;
      models_.push_back(store_->CreateLlmModel(m, 10)->id);
    }
    Conversation c;
    c.title = "t";
    conversation_ = store_->CreateConversation(c)->id;
  }
  // Records an answer of model `m` (0 base, 1 tuned) to `prompt`.
  int64_t Answer(int m, const std::string& prompt, const std::string& response, int64_t time, double latency,
                 std::optional<double> cost = std::nullopt, const std::string& outcome = "ok") {
    ChatMessageRecord user;
    user.conversation_id = conversation_;
    user.content = prompt;
    user.create_time = time;
    user = *store_->AddUserMessage(user);
    Prediction p;
    p.time = time;
    p.model_id = models_[m];
    p.model_name = m ? "tuned" : "base";
    p.api = "openai";
    p.provider_model = p.model_name;
    p.messages_json = nlohmann_messages(prompt);
    p.response = response;
    p.outcome = outcome;
    p.latency_ms = latency;
    p.cost_usd = cost;
    p.conversation_id = conversation_;
    ChatMessageRecord a;
    a.conversation_id = conversation_;
    a.content = response;
    a.reply_to = user.id;
    a.model_id = models_[m];
    a.create_time = time;
    return *store_->RecordAnswer(a, p)->prediction_id;
  }
  static std::string nlohmann_messages(const std::string& prompt) {
    return R"([{"role":"system","content":"be brief"},{"role":"user","content":")" + prompt + R"("}])";
  }
  Judgment Thumbs(int64_t prediction, bool up, const std::string& by, int64_t time) {
    Judgment j;
    j.prediction_id = prediction;
    j.criterion = "thumbs";
    j.passed = up;
    j.score = up ? 1 : 0;
    j.created_by = by;
    j.update_time = time;
    return *store_->PutJudgment(j);
  }
  std::vector<int64_t> Ids(const PredictionFilter& f) {
    std::vector<int64_t> out;
    std::vector<PredictionRow> rows = *store_->ListPredictions(f);
    for (const PredictionRow& r : rows) out.push_back(r.p.id);
    return out;
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<int64_t> models_;
  int64_t conversation_ = 0;
};

// A search matching more than 20,000 predictions is answered another way (its matches read
// into a bitmap the rows are tested against, or the index leading in id order for export
// pages): the same rows must come back as a brute-force reading of the data says, in the
// same order, and the same counts.
TEST_F(FeedbackStoreTest, SearchesMatchingManyRowsGiveTheSameRowsInTheSameOrder) {
  constexpr int kRows = 30000;
  struct Row {
    int64_t id, time, model;
    double latency;
    bool extra;
  };
  std::vector<Row> rows;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/loupe.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_stmt* p = nullptr;
    sqlite3_stmt* fts = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO predictions(time, model_id, model_name, api, provider_model, messages, "
                                 "params, response, finish_reason, outcome, error_type, error_text, latency_ms, trace_id, "
                                 "source) VALUES(?,?,'m','openai','m','[]','{}','answer','stop','ok','','',?,'','chat')",
                                 -1, &p, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO predictions_fts(rowid, prompt, response) VALUES(?,?,'answer')", -1,
                                 &fts, nullptr),
              SQLITE_OK);
    for (int i = 0; i < kRows; ++i) {
      // Times out of id order (as calls that overlap are recorded), latencies that tie.
      Row r{0, 1000000 + (static_cast<int64_t>(i) * 7919) % kRows, models_[i % 2], static_cast<double>(i % 1000),
            i % 3 == 0};
      sqlite3_bind_int64(p, 1, r.time);
      sqlite3_bind_int64(p, 2, r.model);
      sqlite3_bind_double(p, 3, r.latency);
      ASSERT_EQ(sqlite3_step(p), SQLITE_DONE);
      sqlite3_reset(p);
      r.id = sqlite3_last_insert_rowid(db);
      const std::string prompt = "common word" + std::to_string(i % 10) + (r.extra ? " extra" : "");
      sqlite3_bind_int64(fts, 1, r.id);
      sqlite3_bind_text(fts, 2, prompt.c_str(), -1, SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(fts), SQLITE_DONE);
      sqlite3_reset(fts);
      rows.push_back(r);
    }
    sqlite3_finalize(p);
    sqlite3_finalize(fts);
    ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto expect = [&](auto keep, auto before, size_t offset, size_t limit) {
    std::vector<Row> all;
    for (const Row& r : rows) {
      if (keep(r)) all.push_back(r);
    }
    std::sort(all.begin(), all.end(), before);
    std::vector<int64_t> ids;
    for (size_t i = offset; i < all.size() && ids.size() < limit; ++i) ids.push_back(all[i].id);
    return ids;
  };
  auto newest = [](const Row& a, const Row& b) { return std::tie(a.time, a.id) > std::tie(b.time, b.id); };
  auto slowest = [](const Row& a, const Row& b) { return std::tie(a.latency, a.id) > std::tie(b.latency, b.id); };
  auto by_id = [](const Row& a, const Row& b) { return a.id < b.id; };
  auto any = [](const Row&) { return true; };
  const int64_t base = models_[0];
  auto of_base = [&](const Row& r) { return r.model == base; };

  PredictionFilter f;
  f.text = "common";  // every row
  EXPECT_EQ(Ids(f), expect(any, newest, 0, 50));
  EXPECT_EQ(*store_->CountPredictions(f), kRows);
  f.offset = 4321;
  EXPECT_EQ(Ids(f), expect(any, newest, 4321, 50));
  f.offset = 0;
  f.sort = "latency";
  EXPECT_EQ(Ids(f), expect(any, slowest, 0, 50));
  f.sort = "time";
  f.model_id = base;  // 15,000 rows
  EXPECT_EQ(Ids(f), expect(of_base, newest, 0, 50));
  EXPECT_EQ(*store_->CountPredictions(f), kRows / 2);
  f.text = "extra";  // 10,000 rows, 5,000 of base: few, collected by SQLite
  EXPECT_EQ(Ids(f), expect([&](const Row& r) { return r.extra && r.model == base; }, newest, 0, 50));
  EXPECT_EQ(*store_->CountPredictions(f), kRows / 6);
  f.text = "comm*";  // a prefix
  EXPECT_EQ(Ids(f), expect(of_base, newest, 0, 50));
  EXPECT_EQ(*store_->CountPredictions(f), kRows / 2);
  // A new match is found at once: the matches kept for a search are keyed by the newest id.
  f.text = "common";
  f.model_id.reset();
  ASSERT_EQ(*store_->CountPredictions(f), kRows);
  const int64_t newest_id = Answer(0, "common and new", "answer", 9000000000, 1);
  EXPECT_EQ(*store_->CountPredictions(f), kRows + 1);
  EXPECT_EQ(Ids(f).front(), newest_id);
  rows.push_back(Row{newest_id, 9000000000, base, 1, false});
  f.model_id = base;
  f.text = "common extra";
  f.offset = 1234;
  EXPECT_EQ(Ids(f), expect([&](const Row& r) { return r.extra && r.model == base; }, newest, 1234, 50));

  // Feedback over a search that matches many: the same bitmap, the same numbers.
  Thumbs(rows[10].id, true, "ann", 1);   // base
  Thumbs(rows[11].id, false, "ann", 2);  // tuned
  Thumbs(rows[12].id, false, "bob", 3);  // base, "extra": counted under "common" too
  FeedbackFilter ff;
  ff.text = "common";
  FeedbackSummary summary = *store_->SummarizeFeedback(ff);
  int64_t calls = 0, up = 0, down = 0;
  for (const ModelFeedback& m : summary.models) {
    calls += m.predictions;
    up += m.thumbs_up;
    down += m.thumbs_down;
    if (m.model_id == base) {
      EXPECT_EQ(m.thumbs_up, 1);
      EXPECT_EQ(m.thumbs_down, 1);
    }
  }
  EXPECT_EQ(calls, kRows + 1);
  EXPECT_EQ(up, 1);
  EXPECT_EQ(down, 2);
  EXPECT_EQ(store_->ListJudgments(ff, 0, 100)->size(), 3u);
  PredictionFilter judged;
  judged.text = "common";
  EXPECT_EQ(store_->ListJudgedByPrompt(judged, std::nullopt, 100)->size(), 3u);

  // Export pages: the index leads in id order; together the pages hold every match once.
  PredictionFilter page;
  page.text = "common";
  page.model_id = base;
  page.limit = 500;
  page.after_id = rows[20000].id;
  EXPECT_EQ(Ids(page), expect([&](const Row& r) { return r.model == base && r.id > rows[20000].id; }, by_id, 0, 500));
  std::vector<int64_t> all;
  page.after_id = 0;
  for (;;) {
    std::vector<int64_t> got = Ids(page);
    all.insert(all.end(), got.begin(), got.end());
    if (got.size() < 500) break;
    page.after_id = got.back();
  }
  EXPECT_EQ(all, expect(of_base, by_id, 0, kRows));
}

TEST_F(FeedbackStoreTest, SearchFindsWordsOfThePromptAndTheAnswerAndKeepsUserTextOutOfFts5Syntax) {
  int64_t a = Answer(0, "How do transformers attend", "Attention weighs tokens", 10, 5);
  int64_t b = Answer(1, "Explain gradient descent", "It follows the slope", 20, 7);
  PredictionFilter f;
  f.text = "transformers";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({a}));
  f.text = "slope";  // the answer
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f.text = "grad";  // whole words
  EXPECT_TRUE(Ids(f).empty());
  f.text = "grad*";  // a prefix where asked for
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f.text = "explain grad*";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f.text = "explain slope";  // every word
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f.text = "explain attention";
  EXPECT_TRUE(Ids(f).empty());
  // FTS5 operators and quotes are text here, not syntax errors.
  for (const char* hostile : {"\"", "a OR b", "NEAR(x y)", "col:x", "*", "-x", "(", "\"\"\"", "a AND"}) {
    f.text = hostile;
    EXPECT_TRUE(store_->ListPredictions(f).ok()) << hostile;
  }
  EXPECT_EQ(*store_->CountPredictions(PredictionFilter{}), 2);
}

TEST_F(FeedbackStoreTest, FiltersSortAndPages) {
  int64_t a = Answer(0, "one", "x", 100, 30, 0.5);
  int64_t b = Answer(1, "two", "y", 200, 10, std::nullopt);
  int64_t c = Answer(1, "three", "", 300, 20, 0.1, "error");
  PredictionFilter f;
  EXPECT_EQ(Ids(f), std::vector<int64_t>({c, b, a}));  // newest first
  f.ascending = true;
  EXPECT_EQ(Ids(f), std::vector<int64_t>({a, b, c}));
  f.sort = "latency";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b, c, a}));
  f.sort = "cost";  // unknown costs last either way
  EXPECT_EQ(Ids(f), std::vector<int64_t>({c, a, b}));
  f.ascending = false;
  EXPECT_EQ(Ids(f), std::vector<int64_t>({a, c, b}));
  f = PredictionFilter{};
  f.model_id = models_[1];
  EXPECT_EQ(Ids(f), std::vector<int64_t>({c, b}));
  f.outcome = "error";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({c}));
  EXPECT_EQ(*store_->CountPredictions(f), 1);
  f = PredictionFilter{};
  f.since = 150;
  f.until = 300;  // exclusive
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f = PredictionFilter{};
  f.limit = 1;
  f.offset = 1;
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b}));
  f = PredictionFilter{};
  f.after_id = a;
  f.limit = 10;
  EXPECT_EQ(Ids(f), std::vector<int64_t>({b, c}));  // keyset pages go by id
  f = PredictionFilter{};
  f.ids = {a, c};
  EXPECT_EQ(Ids(f), std::vector<int64_t>({c, a}));
}

TEST_F(FeedbackStoreTest, APersonsSecondThumbsReplacesTheFirstAndTheLatestRatesThePrediction) {
  int64_t p = Answer(0, "q", "a", 10, 5);
  Judgment first = Thumbs(p, true, "ann", 100);
  Judgment again = Thumbs(p, false, "ann", 200);
  EXPECT_EQ(first.id, again.id);
  EXPECT_EQ(again.create_time, 100);
  EXPECT_EQ(store_->JudgmentsOf(p)->size(), 1u);
  EXPECT_EQ(store_->ListPredictions(PredictionFilter{})->front().thumbs, -1);
  Thumbs(p, true, "bob", 300);  // another person: another judgment, and now the latest
  EXPECT_EQ(store_->JudgmentsOf(p)->size(), 2u);
  PredictionFilter f;
  f.rating = "up";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({p}));
  ASSERT_TRUE(store_->RemoveJudgment(p, "thumbs", "bob").ok());
  EXPECT_EQ(store_->ListPredictions(PredictionFilter{})->front().thumbs, -1);  // ann's again
  ASSERT_TRUE(store_->RemoveJudgment(p, "thumbs", "ann").ok());
  f.rating = "unrated";
  EXPECT_EQ(Ids(f), std::vector<int64_t>({p}));
  EXPECT_EQ(store_->RemoveJudgment(p, "thumbs", "ann").code(), Code::kNotFound);
  Judgment missing;
  missing.prediction_id = 999;
  missing.criterion = "thumbs";
  EXPECT_EQ(store_->PutJudgment(missing).status().code(), Code::kNotFound);
}

TEST_F(FeedbackStoreTest, SeveralJudgmentsAreWrittenTogetherOrNotAtAll) {
  int64_t p = Answer(0, "q", "a", 10, 5);
  int64_t q = Answer(1, "q", "b", 11, 5);
  auto judged = [](int64_t prediction, const std::string& criterion, const std::string& source, double score) {
    Judgment j;
    j.prediction_id = prediction;
    j.criterion = criterion;
    j.source = source;
    j.score = score;
    j.created_by = "ann";
    j.create_time = j.update_time = 50;
    return j;
  };
  Result<std::vector<Judgment>> stored =
      store_->PutJudgments({judged(p, "accuracy", "llm", 8), judged(p, "clarity", "llm", 6), judged(q, "overall", "human", 4)});
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_GT((*stored)[0].id, 0);
  EXPECT_EQ((*stored)[0].model_name, "base");  // the judged prediction's model
  EXPECT_EQ((*stored)[2].model_name, "tuned");
  // One missing prediction refuses the whole batch: nothing of it is written.
  Result<std::vector<Judgment>> refused =
      store_->PutJudgments({judged(p, "safety", "llm", 9), judged(999999, "safety", "llm", 9)});
  EXPECT_EQ(refused.status().code(), Code::kNotFound);
  EXPECT_EQ(store_->JudgmentsOf(p)->size(), 2u);
  // Many predictions' judgments of one source in one read.
  std::vector<Judgment> llm = *store_->JudgmentsOfMany({p, q}, "llm");
  ASSERT_EQ(llm.size(), 2u);
  EXPECT_EQ(llm[0].criterion, "accuracy");
  EXPECT_EQ(llm[1].criterion, "clarity");
  std::vector<Judgment> human = *store_->JudgmentsOfMany({p, q}, "human");
  ASSERT_EQ(human.size(), 1u);
  EXPECT_EQ(human[0].prediction_id, q);
  EXPECT_TRUE(store_->JudgmentsOfMany({}, "llm")->empty());
}

TEST_F(FeedbackStoreTest, EvaluationsCarryTagsStarsAndTheirEvidence) {
  int64_t p = Answer(1, "q", "a", 10, 5);
  Judgment e;
  e.prediction_id = p;
  e.criterion = "evaluation";
  e.score = 2;
  e.passed = false;
  e.tags = {"hallucination", "incomplete"};
  e.evidence_json = R"({"stars":2,"expected":"better"})";
  e.created_by = "ann";
  e.update_time = 50;
  e = *store_->PutJudgment(e);
  EXPECT_EQ(e.model_id, models_[1]);  // the model version judged
  PredictionFilter f;
  f.failure_tag = "hallucination";
  std::vector<PredictionRow> rows = *store_->ListPredictions(f);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].stars, 2);
  EXPECT_EQ(rows[0].failure_tags, std::vector<std::string>({"hallucination", "incomplete"}));
  EXPECT_EQ(rows[0].evaluation_json, R"({"stars":2,"expected":"better"})");
  e.tags = {"off_topic"};  // re-evaluated: the tags are replaced
  ASSERT_TRUE(store_->PutJudgment(e).ok());
  EXPECT_TRUE(Ids(f).empty());
  // Automated judges add, never replace.
  Judgment rule;
  rule.prediction_id = p;
  rule.source = "rule";
  rule.criterion = "json_valid";
  rule.passed = true;
  ASSERT_TRUE(store_->PutJudgment(rule).ok());
  ASSERT_TRUE(store_->PutJudgment(rule).ok());
  EXPECT_EQ(store_->JudgmentsOf(p)->size(), 3u);
}

TEST_F(FeedbackStoreTest, SummaryCountsThumbsStarsAndTagSharesPerModelAndBucket) {
  const int64_t day = 86400LL * 1000000;
  int64_t b1 = Answer(0, "q1", "a", 0 * day + 5, 5);
  int64_t b2 = Answer(0, "q2", "b", 1 * day + 5, 5);
  int64_t t1 = Answer(1, "q1", "c", 0 * day + 7, 5);
  Answer(1, "q3", "d", 1 * day + 7, 5);
  Thumbs(b1, true, "ann", 1);
  Thumbs(b2, false, "ann", 2);
  Thumbs(t1, true, "ann", 3);
  Thumbs(t1, true, "bob", 4);
  for (auto [pred, stars, tags] : {std::tuple{b1, 4.0, std::vector<std::string>{"hallucination"}},
                                   std::tuple{b2, 1.0, std::vector<std::string>{"hallucination", "tone_issues"}}}) {
    Judgment e;
    e.prediction_id = pred;
    e.criterion = "evaluation";
    e.score = stars;
    e.tags = tags;
    e.created_by = "ann";
    ASSERT_TRUE(store_->PutJudgment(e).ok());
  }
  FeedbackFilter f;
  FeedbackSummary s = *store_->SummarizeFeedback(f);
  ASSERT_EQ(s.models.size(), 2u);
  const ModelFeedback& base = s.models[0].model_name == "base" ? s.models[0] : s.models[1];
  const ModelFeedback& tuned = s.models[0].model_name == "base" ? s.models[1] : s.models[0];
  EXPECT_EQ(base.predictions, 2);
  EXPECT_EQ(base.thumbs_up, 1);
  EXPECT_EQ(base.thumbs_down, 1);
  EXPECT_EQ(base.evaluations, 2);
  EXPECT_DOUBLE_EQ(base.stars_sum, 5);
  EXPECT_EQ(base.stars_count, 2);
  ASSERT_EQ(base.tags.size(), 2u);
  EXPECT_EQ(base.tags[0], std::make_pair(std::string("hallucination"), int64_t{2}));
  EXPECT_EQ(base.tags[1], std::make_pair(std::string("tone_issues"), int64_t{1}));
  EXPECT_EQ(tuned.predictions, 2);
  EXPECT_EQ(tuned.thumbs_up, 2);
  EXPECT_EQ(tuned.evaluations, 0);
  // Day buckets by the answer's time: base has one up on day 0 and one down on day 1.
  int found = 0;
  for (const FeedbackBucket& b : s.trend) {
    if (b.model_name == "base" && b.start == 0) {
      ++found;
      EXPECT_EQ(b.thumbs_up, 1);
    }
    if (b.model_name == "base" && b.start == day) {
      ++found;
      EXPECT_EQ(b.thumbs_down, 1);
    }
  }
  EXPECT_EQ(found, 2);
  f.failure_tag = "tone_issues";
  s = *store_->SummarizeFeedback(f);
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_EQ(s.models[0].predictions, 1);
  f = FeedbackFilter{};
  f.model_id = models_[1];
  f.since = day;
  s = *store_->SummarizeFeedback(f);
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_EQ(s.models[0].predictions, 1);
  EXPECT_EQ(s.models[0].thumbs_up, 0);
  // History in judgment order with the predictions.
  auto all = *store_->ListJudgments(FeedbackFilter{}, 0, 100);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].second.id, b1);
  EXPECT_EQ(store_->ListJudgments(FeedbackFilter{}, all[4].first.id, 100)->size(), 1u);
}

TEST_F(FeedbackStoreTest, JudgedAnswersComeGroupedByPrompt) {
  int64_t a = Answer(0, "same", "bad", 1, 5);
  int64_t b = Answer(1, "same", "good", 2, 5);
  int64_t c = Answer(0, "other", "x", 3, 5);
  Answer(1, "unjudged", "y", 4, 5);
  Thumbs(a, false, "ann", 1);
  Thumbs(c, true, "ann", 2);
  Thumbs(b, true, "ann", 3);
  std::vector<PredictionRow> rows = *store_->ListJudgedByPrompt(PredictionFilter{}, std::nullopt, 100);
  ASSERT_EQ(rows.size(), 3u);
  // "other" < "same" as text; within a prompt by id.
  EXPECT_EQ(rows[0].p.id, c);
  EXPECT_EQ(rows[1].p.id, a);
  EXPECT_EQ(rows[2].p.id, b);
  std::vector<PredictionRow> rest =
      *store_->ListJudgedByPrompt(PredictionFilter{}, std::make_pair(rows[1].p.messages_json, rows[1].p.id), 100);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].p.id, b);
}

}  // namespace
}  // namespace loupe
