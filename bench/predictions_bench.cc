// Predictions at scale: list, search and filter over 1,000,000 stored predictions (target
// <= 100 ms each), and the cost of recording one answer with its prediction (target
// <= 1 ms). The rows are bulk-loaded once into a fresh SqliteStore's database with the
// same columns and search index the store writes; queries go through the store.
//
//   build-bench/bench/predictions_bench [--rows=N] [--benchmark_filter=...]
// LOUPE_BENCH_KEEP=1 keeps the database afterwards.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "store/store.h"

namespace {

using namespace loupe;

int64_t g_rows = 1000000;
std::string g_dir;
std::unique_ptr<Store> g_store;
int64_t g_model = 0;
int64_t g_conversation = 0;

const char* kWords[] = {"gradient", "transformer", "attention", "loss", "token", "batch", "learning", "rate",
                        "dataset", "model", "layer", "weights", "inference", "prompt", "answer", "context",
                        "window", "embedding", "vector", "cluster", "python", "kernel", "memory", "latency"};

std::string Sentence(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + kWords[rng() % std::size(kWords)];
  return s;
}

void Check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
}

// Writes the rows straight into the database file: 3 models, 10 % errors, a third rated,
// 1 in 50 evaluated by a person with a failure tag (hallucination on a fifth of those),
// a rare word in 1 of 10,000 prompts.
void BulkLoad(const std::string& path) {
  sqlite3* db = nullptr;
  Check(sqlite3_open(path.c_str(), &db), db);
  Check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN", nullptr, nullptr, nullptr), db);
  sqlite3_stmt* p = nullptr;
  sqlite3_stmt* fts = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO predictions(time, model_id, model_name, api, provider_model, messages, params, "
                           "response, finish_reason, outcome, error_type, error_text, latency_ms, ttft_ms, prompt_tokens, "
                           "completion_tokens, cost_usd, conversation_id, trace_id, source, thumbs) "
                           "VALUES(?,?,?,'openai','m',?,'{}',?,'stop',?,'','',?,?,?,?,?,NULL,'','chat',?)",
                           -1, &p, nullptr),
        db);
  Check(sqlite3_prepare_v2(db, "INSERT INTO predictions_fts(rowid, prompt, response) VALUES(?,?,?)", -1, &fts, nullptr), db);
  sqlite3_stmt* judgment = nullptr;
  sqlite3_stmt* tag = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO judgments(prediction_id, model_id, model_name, source, criterion, score, "
                           "evidence, created_by, create_time, update_time) "
                           "VALUES(?,?,'m','human','evaluation',2,'{}','bench',1,1)",
                           -1, &judgment, nullptr),
        db);
  Check(sqlite3_prepare_v2(db, "INSERT INTO judgment_tags(judgment_id, prediction_id, tag) VALUES(?,?,?)", -1, &tag,
                           nullptr),
        db);
  const char* kTags[] = {"hallucination", "incomplete", "off_topic", "tone_issues", "format_issues"};
  std::mt19937_64 rng(42);
  const int64_t start = 1760000000LL * 1000000;
  for (int64_t i = 0; i < g_rows; ++i) {
    std::string prompt = Sentence(rng, 12);
    if (i % 10000 == 7) prompt += " zeppelin";
    const std::string response = Sentence(rng, 40);
    const std::string messages = R"([{"role":"user","content":")" + prompt + R"("}])";
    const int model = static_cast<int>(i % 3);
    sqlite3_bind_int64(p, 1, start + i * 1000000);
    sqlite3_bind_int64(p, 2, g_model + model);
    const std::string name = "model-" + std::to_string(model);
    sqlite3_bind_text(p, 3, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 4, messages.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 5, response.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 6, i % 10 == 3 ? "error" : "ok", -1, SQLITE_STATIC);
    sqlite3_bind_double(p, 7, 50 + static_cast<double>(rng() % 5000));
    sqlite3_bind_double(p, 8, 5 + static_cast<double>(rng() % 500));
    sqlite3_bind_int64(p, 9, 12);
    sqlite3_bind_int64(p, 10, 40);
    if (model == 2) {
      sqlite3_bind_null(p, 11);
    } else {
      sqlite3_bind_double(p, 11, static_cast<double>(rng() % 1000) / 1e6);
    }
    if (i % 3 == 0) {
      sqlite3_bind_int64(p, 12, i % 2 ? 1 : -1);
    } else {
      sqlite3_bind_null(p, 12);
    }
    Check(sqlite3_step(p), db);
    sqlite3_reset(p);
    sqlite3_bind_int64(fts, 1, sqlite3_last_insert_rowid(db));
    sqlite3_bind_text(fts, 2, prompt.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(fts, 3, response.c_str(), -1, SQLITE_TRANSIENT);
    Check(sqlite3_step(fts), db);
    sqlite3_reset(fts);
    if (i % 50 == 1) {
      const int64_t prediction = sqlite3_last_insert_rowid(db);
      sqlite3_bind_int64(judgment, 1, prediction);
      sqlite3_bind_int64(judgment, 2, g_model + model);
      Check(sqlite3_step(judgment), db);
      sqlite3_reset(judgment);
      sqlite3_bind_int64(tag, 1, sqlite3_last_insert_rowid(db));
      sqlite3_bind_int64(tag, 2, prediction);
      sqlite3_bind_text(tag, 3, kTags[(i / 50) % std::size(kTags)], -1, SQLITE_STATIC);
      Check(sqlite3_step(tag), db);
      sqlite3_reset(tag);
    }
  }
  sqlite3_finalize(p);
  sqlite3_finalize(fts);
  sqlite3_finalize(judgment);
  sqlite3_finalize(tag);
  Check(sqlite3_exec(db, "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), db);
  sqlite3_close(db);
}

void Setup() {
  if (g_store) return;
  g_dir = (std::filesystem::temp_directory_path() / ("loupe-predictions-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(g_dir);
  StoreOptions so;
  so.data_dir = g_dir;
  {
    std::unique_ptr<Store> s = std::move(*OpenSqliteStore(so));
    for (int i = 0; i < 3; ++i) {
      LlmModel m;
      m.name = "model-" + std::to_string(i);
      m.api = "openai";
      m.base_url = "http://h/v1";
      m.model = "m";
      const int64_t id = s->CreateLlmModel(m, 10)->id;
      if (i == 0) g_model = id;
    }
    Conversation c;
    c.title = "bench";
    g_conversation = s->CreateConversation(c)->id;
  }
  std::fprintf(stderr, "loading %lld predictions...\n", static_cast<long long>(g_rows));
  BulkLoad(g_dir + "/loupe.db");
  g_store = std::move(*OpenSqliteStore(so));
}

void Query(benchmark::State& state, PredictionFilter f, bool count) {
  Setup();
  size_t n = 0;
  for (auto _ : state) {
    Result<std::vector<PredictionRow>> rows = g_store->ListPredictions(f);
    if (!rows.ok()) state.SkipWithError(rows.status().ToString().c_str());
    n = rows->size();
    if (count) benchmark::DoNotOptimize(*g_store->CountPredictions(f));
  }
  state.counters["rows"] = static_cast<double>(n);
}

PredictionFilter With(void (*edit)(PredictionFilter&)) {
  PredictionFilter f;
  edit(f);
  return f;
}

// A page of 50 as the Predictions page asks for it: the rows and the total.
BENCHMARK_CAPTURE(Query, newest_page, PredictionFilter{}, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_common_word, With([](PredictionFilter& f) { f.text = "gradient"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_common_word_rows_only, With([](PredictionFilter& f) { f.text = "gradient"; }), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_rare_word, With([](PredictionFilter& f) { f.text = "zeppelin"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_two_words, With([](PredictionFilter& f) { f.text = "kernel zeppelin"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_rare_prefix, With([](PredictionFilter& f) { f.text = "zepp*"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_common_prefix, With([](PredictionFilter& f) { f.text = "grad*"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, model, With([](PredictionFilter& f) { f.model_id = g_model + 1; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, errors, With([](PredictionFilter& f) { f.outcome = "error"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, rated_up, With([](PredictionFilter& f) { f.rating = "up"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, tagged_hallucination, With([](PredictionFilter& f) { f.failure_tag = "hallucination"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, model_and_search, With([](PredictionFilter& f) {
  f.model_id = g_model + 2;
  f.text = "kernel";
}), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, by_latency, With([](PredictionFilter& f) { f.sort = "latency"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, by_cost, With([](PredictionFilter& f) { f.sort = "cost"; }), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, last_day, With([](PredictionFilter& f) {
  f.since = (1760000000LL + 500000) * 1000000;
  f.until = *f.since + 86400LL * 1000000;
}), true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, deep_offset_500000, With([](PredictionFilter& f) { f.offset = 500000; }), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, export_page_by_id, With([](PredictionFilter& f) {
  f.after_id = 900000;
  f.limit = 500;
}), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, export_page_of_a_search, With([](PredictionFilter& f) {
  f.text = "gradient";
  f.after_id = 900000;
  f.limit = 500;
}), false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Query, search_common_word_deep_page, With([](PredictionFilter& f) {
  f.text = "gradient";
  f.offset = 9950;
}), false)->Unit(benchmark::kMillisecond);

// A search's matches are kept for the next query of the same search (a page asks for its
// rows, then its total); these runs ask for a different common word every time, so every
// iteration pays for reading the matches, as the first look at a search does.
void FirstLook(benchmark::State& state, bool with_model) {
  Setup();
  size_t i = 0;
  for (auto _ : state) {
    PredictionFilter f;
    f.text = kWords[i++ % std::size(kWords)];
    if (with_model) f.model_id = g_model + 1;
    Result<std::vector<PredictionRow>> rows = g_store->ListPredictions(f);
    if (!rows.ok()) state.SkipWithError(rows.status().ToString().c_str());
    benchmark::DoNotOptimize(*g_store->CountPredictions(f));
  }
}
BENCHMARK_CAPTURE(FirstLook, common_word, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(FirstLook, common_word_and_model, true)->Unit(benchmark::kMillisecond);

// The feedback page: per-model counts, tag shares and the daily trend, over everything and
// over a common word's matches (kept from the previous iteration, as a page's queries share them).
void Feedback(benchmark::State& state, const char* text) {
  Setup();
  FeedbackFilter f;
  f.text = text;
  for (auto _ : state) {
    Result<FeedbackSummary> s = g_store->SummarizeFeedback(f);
    if (!s.ok()) state.SkipWithError(s.status().ToString().c_str());
  }
}
BENCHMARK_CAPTURE(Feedback, everything, "")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Feedback, common_word, "gradient")->Unit(benchmark::kMillisecond);

// Records one answer of 800 bytes with its prediction, over and over.
void WriteAnswers(benchmark::State& state, Store& store, int64_t model, int64_t conversation) {
  Prediction p;
  p.time = 1;
  p.model_id = model;
  p.model_name = "model-0";
  p.api = "openai";
  p.provider_model = "m";
  p.messages_json = R"([{"role":"user","content":"what is the learning rate of the transformer"}])";
  p.response = std::string(800, 'x');
  p.outcome = "ok";
  p.latency_ms = 100;
  p.conversation_id = conversation;
  ChatMessageRecord a;
  a.conversation_id = conversation;
  a.role = "assistant";
  a.content = p.response;
  for (auto _ : state) {
    if (!store.RecordAnswer(a, p).ok()) state.SkipWithError("write failed");
  }
}

// Recording an answer: the message, its prediction and the search index, durable.
void RecordAnswer(benchmark::State& state) {
  Setup();
  WriteAnswers(state, *g_store, g_model, g_conversation);
}
BENCHMARK(RecordAnswer)->Unit(benchmark::kMicrosecond);
BENCHMARK(RecordAnswer)->Unit(benchmark::kMicrosecond)->Threads(8)->UseRealTime();

// The same write into a store run with --no-fsync (commits survive a crash of Loupe, not
// of the machine): what the write itself costs, without waiting for the disk.
void RecordAnswerNoFsync(benchmark::State& state) {
  Setup();
  StoreOptions so;
  so.data_dir = g_dir + "/no-fsync";
  so.sync_full = false;
  std::filesystem::create_directories(so.data_dir);
  std::unique_ptr<Store> store = std::move(*OpenSqliteStore(so));
  LlmModel m;
  m.name = "m";
  m.api = "openai";
  m.base_url = "http://h/v1";
  m.model = "m";
  const int64_t model = store->CreateLlmModel(m, 10)->id;
  Conversation c;
  c.title = "bench";
  WriteAnswers(state, *store, model, store->CreateConversation(c)->id);
}
BENCHMARK(RecordAnswerNoFsync)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rows=", 7) == 0) {
      g_rows = std::atoll(argv[i] + 7);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      --i;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  g_store.reset();
  if (std::getenv("LOUPE_BENCH_KEEP")) {
    std::fprintf(stderr, "kept %s\n", g_dir.c_str());  // to try queries in the sqlite3 shell
  } else {
    std::filesystem::remove_all(g_dir);
  }
  return 0;
}
