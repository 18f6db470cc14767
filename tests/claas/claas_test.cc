#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "claas/claas_importer.h"
#include "claas/claas_json.h"
#include "claas/eval_results.h"
#include "claas/feedback_log.h"
#include "common/path_rule.h"
#include "common/pagination.h"
#include "common/temp_dir.h"
#include "common/test_store.h"
#include "store/store.h"

namespace loupe::claas {
namespace {

// Tracking for an importer test: its data folder, and no heartbeat monitor.
TrackingOptions QuietTracking(const std::string& dir) {
  TrackingOptions to;
  to.data_dir = dir;
  to.heartbeat_timeout_seconds = 0;
  return to;
}

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string LocalLog(const std::string& id, const std::string& ts, double loss) {
  return R"({"request_id":")" + id + R"(","timestamp_utc":")" + ts +
         R"(","status":"ok","phase":"done","lora_id":"user/a",
  "batch_samples":[{"prompt":"<chat>","user_prompt":"hi","response":"yo","feedback":"shorter"}],
  "distill_result":{"lora_id":"user/a","metadata":{"distill_loss":)" + std::to_string(loss) +
         R"(,"kl_reg":0.5,"mean_is_ratio":1.0,"clip_fraction":0.25,"teacher_scored_texts":["t0"],"new_key":7}},
  "timing_ms":{"total":100,"distill":60,"sleep":10,"wake":5},"vllm":{"slept":true,"woke":false},"error":null})";
}

// Python's json writes non-finite floats as bare tokens; CLaaS's files are read with them
// as numbers, and only there. Text that merely looks like them is left alone.
TEST(ClaasJson, ReadsPythonsNonFiniteTokens) {
  nlohmann::json j = ParseClaasJson(R"({"a": NaN, "b": [Infinity, -Infinity, 1], "s": "NaN is not a number",
                                        "t": "x\" NaN", "NaN": {"c": NaN}})");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(std::isnan(j["a"].get<double>()));
  EXPECT_EQ(j["b"][0].get<double>(), INFINITY);
  EXPECT_EQ(j["b"][1].get<double>(), -INFINITY);
  EXPECT_EQ(j["s"], "NaN is not a number");
  EXPECT_EQ(j["t"], "x\" NaN");
  EXPECT_TRUE(std::isnan(j["NaN"]["c"].get<double>()));
  EXPECT_TRUE(ParseClaasJson(R"({"a": NaNa})").is_discarded());
  EXPECT_TRUE(ParseClaasJson(R"({NaN: 1, "a": NaN})").is_discarded());  // a key, which Python refuses
  EXPECT_TRUE(ParseClaasJson(R"({"a": 1, Infinity: 2})").is_discarded());
  // A string that holds what a marker would be stays a string (Python reads it so).
  nlohmann::json marked = ParseClaasJson(R"({"s": "\u0001NaN", "t": "\u0002Inf", "v": [NaN]})");
  ASSERT_FALSE(marked.is_discarded());
  EXPECT_EQ(marked["s"], std::string("\x01NaN"));
  EXPECT_EQ(marked["t"], std::string("\x02Inf"));
  EXPECT_TRUE(std::isnan(marked["v"][0].get<double>()));
  EXPECT_TRUE(ParseClaasJson(R"({"a": nan})").is_discarded());  // Python writes NaN only
  EXPECT_TRUE(ParseClaasJson(R"({"a": 1,})").is_discarded());
}

TEST(Pagination, ClampsLikeClaas) {
  Page p = Paginate(45, 9, 20);
  EXPECT_EQ(p.page, 3);
  EXPECT_EQ(p.total_pages, 3);
  EXPECT_EQ(p.offset, 40);
  EXPECT_TRUE(p.has_prev);
  EXPECT_FALSE(p.has_next);
  p = Paginate(0, 5, 0);
  EXPECT_EQ(p.page, 1);
  EXPECT_EQ(p.per_page, 1);
  EXPECT_EQ(p.total_pages, 1);
  EXPECT_EQ(Paginate(1000, 1, 5000).per_page, 200);
  EXPECT_EQ(ParsePageNumber(nullptr, 7), 7);
  std::string junk = "3x";
  EXPECT_EQ(ParsePageNumber(&junk, 1), 1);
}

TEST(FeedbackLog, ParsesLocalModeWithNamedMetrics) {
  auto b = ParseFeedbackLog("f.json", LocalLog("abc", "2026-02-24T19:35:12Z", 0.41));
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->mode, EngineMode::kLocal);
  ASSERT_EQ(b->metrics.size(), 4u);
  EXPECT_EQ(b->metrics[0].name, "Loss");
  EXPECT_DOUBLE_EQ(*b->metrics[0].value, 0.41);
  EXPECT_DOUBLE_EQ(*b->metrics[3].value, 0.25);
  EXPECT_EQ(b->samples.at(0).prompt, "hi");
  EXPECT_EQ(b->samples[0].chat_prompt, "<chat>");
  EXPECT_EQ(b->samples[0].teacher_scored_text, "t0");
  EXPECT_EQ(b->metadata["new_key"], 7);              // unknown keys kept
  EXPECT_FALSE(b->metadata.contains("teacher_scored_texts"));
  EXPECT_EQ(*b->Timing("distill"), 60);
  EXPECT_FALSE(b->Timing("save").has_value());
  EXPECT_FALSE(*b->vllm_woke);
}

TEST(FeedbackLog, DetectsTinkerAndToleratesMissingFields) {
  auto b = ParseFeedbackLog("t.json", R"({"distill_result":{"metadata":{"adv_mean":0.1,"kl_mean":0.02}}})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->mode, EngineMode::kTinker);
  EXPECT_DOUBLE_EQ(*b->metrics[0].value, 0.1);
  EXPECT_FALSE(b->metrics[2].value.has_value());  // effective_kl_coef missing
  EXPECT_TRUE(b->samples.empty());
}

// The oldest logs (2026-02-10 to 02-14) hold one `request` object: its sample is shown.
TEST(FeedbackLog, OldestShapeWithOneRequestShowsItsSample) {
  auto b = ParseFeedbackLog("old.json", R"({"request_id": "r1", "status": "ok", "lora_id": "user/a",
    "request": {"prompt": "hi", "response": "yo", "feedback": "shorter", "lora_id": "user/a"}})");
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->samples.size(), 1u);
  EXPECT_EQ(b->samples[0].prompt, "hi");
  EXPECT_EQ(b->samples[0].response, "yo");
  EXPECT_EQ(b->samples[0].feedback, "shorter");
  auto bad = ParseFeedbackLog("old.json", R"({"request": {"prompt": 7}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("request.prompt"), std::string::npos) << bad.status().message();
}

TEST(FeedbackLog, NamesTheBadField) {
  EXPECT_EQ(ParseFeedbackLog("x", "{").status().message(), "not valid JSON");
  EXPECT_EQ(ParseFeedbackLog("x", "[]").status().message(), "expected a JSON object at the top level");
  EXPECT_EQ(ParseFeedbackLog("x", R"({"status": 3})").status().message(), "status: expected a string");
  EXPECT_EQ(ParseFeedbackLog("x", R"({"timing_ms": {"total": "1"}})").status().message(),
            "timing_ms.total: expected a number");
  EXPECT_EQ(ParseFeedbackLog("x", R"({"batch_samples": [{"prompt": 1}]})").status().message(),
            "batch_samples[0].prompt: expected a string");
  // Found by fuzz/claas_feedback: converting 1e30 to an integer was undefined behaviour.
  EXPECT_EQ(ParseFeedbackLog("x", R"({"timing_ms": {"total": 1e30}})").status().message(),
            "timing_ms.total: out of range");
  EXPECT_EQ(*ParseFeedbackLog("x", R"({"timing_ms": {"total": -1.5e3}})")->Timing("total"), -1500);
}

TEST(FeedbackLog, PageParsesOnlyItsFilesNewestFirst) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    Write(fs::path(dir.path()) / ("2026022" + std::to_string(i) + "T000000-x.json"),
          LocalLog("id" + std::to_string(i), "2026-02-24T00:00:00Z", i));
  }
  Write(fs::path(dir.path()) / "20260229T000000-bad.json", "{oops");
  auto page = ReadFeedbackPage(dir.path(), 1, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->page.total, 6);
  ASSERT_EQ(page->skipped.size(), 1u);
  EXPECT_EQ(page->skipped[0].name, "20260229T000000-bad.json");
  ASSERT_EQ(page->batches.size(), 1u);
  EXPECT_EQ(page->batches[0].request_id, "id4");
  auto missing = ReadFeedbackPage(dir.path() + "/nope", 1, 20);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->folder_missing);
}

TEST(ResultsPath, StaysInsideTheRootByComponent) {
  TempDir dir;
  fs::path root = fs::path(dir.path()) / "data" / "evals";
  fs::create_directories(root / "run1");
  fs::create_directories(fs::path(dir.path()) / "data" / "evals2");
  fs::create_directories(fs::path(dir.path()) / "outside");
  fs::create_directory_symlink(fs::path(dir.path()) / "outside", root / "escape");
  fs::create_directory_symlink(root / "run1", fs::path(dir.path()) / "into");
  const std::string r = root.string();
  EXPECT_TRUE(ResolveInsideRoot(r, r).ok());
  EXPECT_TRUE(ResolveInsideRoot(r + "/", r).ok());
  EXPECT_TRUE(ResolveInsideRoot(r + "/run1/../run1", r).ok());
  EXPECT_TRUE(ResolveInsideRoot(r + "/not-yet", r).ok());
  EXPECT_TRUE(ResolveInsideRoot(dir.path() + "/into", r).ok());
  for (const std::string& bad : {r + "/..", r + "2", r + "/../evals2", r + "/escape", r + "/escape/x", std::string("/"),
                                 std::string("/etc"), std::string("")}) {
    auto res = ResolveInsideRoot(bad, r);
    EXPECT_FALSE(res.ok()) << bad;
    if (!res.ok()) {
      EXPECT_EQ(res.status().code(), Code::kBadRequest);
    }
  }
}

TEST(EvalResults, Base64MatchesKnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(EvalResults, DiscoversFinishedAndRunningRunsNewestFirst) {
  TempDir dir;
  fs::path root(dir.path());
  Write(root / "old" / "summary.json", R"({"p": {"preference": "p", "lora_id": "l", "logprob_margin_delta": 1.5,
        "final_compliance": null, "capability_ratio": 0.9}})");
  Write(root / "old" / "p" / "steps.jsonl",
        R"({"step": 1, "eval": {"logprob_margin": {"margin": 2.0}}, "sdpo_metrics": {"adv_mean": 0.3}})" "\n"
        R"({"step": 0, "eval": {"preference_compliance": 0.5}, "sdpo_metrics": {"distill_loss": 0.7}})" "\n"
        "not json\n");
  Write(root / "running" / "p" / "steps.jsonl", "{\"step\": 0}\n");
  Write(root / "empty" / "readme.txt", "no run here");
  fs::last_write_time(root / "old" / "summary.json", fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto refs = DiscoverEvalRuns(root.string());
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].id, "running");
  EXPECT_TRUE((*refs)[0].in_progress);
  EvalRun run = ReadEvalRun((*refs)[1]);
  ASSERT_EQ(run.summary.size(), 1u);
  EXPECT_DOUBLE_EQ(*run.summary[0].margin_delta, 1.5);
  EXPECT_FALSE(run.summary[0].compliance.has_value());
  ASSERT_EQ(run.preferences.size(), 1u);
  const auto& steps = run.preferences[0].steps;
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].step, 0);  // sorted by step
  EXPECT_DOUBLE_EQ(*steps[0].loss, 0.7);
  EXPECT_EQ(steps[1].sdpo_mode, EngineMode::kTinker);
  EXPECT_DOUBLE_EQ(*steps[1].loss, 0.3);
  ASSERT_EQ(run.skipped.size(), 1u);
  EXPECT_EQ(run.skipped[0].name, "p/steps.jsonl line 3");
}

// results_dir may itself be a run, finished or in progress, named by its folder; a run
// still measuring its baseline (metadata and baseline, no steps yet) is in progress.
TEST(EvalResults, AResultsDirThatIsARunAndABaselineOnlyRunAreListed) {
  TempDir dir;
  fs::path root(dir.path());
  Write(root / "my-run" / "p" / "steps.jsonl", "{\"step\": 0}\n");
  auto own = DiscoverEvalRuns((root / "my-run").string() + "/");
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].id, ".");  // the importer's run ids stay as they were
  EXPECT_EQ((*own)[0].label, "my-run");
  EXPECT_TRUE((*own)[0].in_progress);
  Write(root / "my-run" / "summary.json", "{}");
  own = DiscoverEvalRuns((root / "my-run").string());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].label, "my-run");
  EXPECT_FALSE((*own)[0].in_progress);
  Write(root / "measuring" / "p" / "metadata.json", R"({"lora_id": "l"})");
  Write(root / "measuring" / "p" / "baseline.json", R"({"preference_compliance": 0.2})");
  auto refs = DiscoverEvalRuns(root.string());
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 2u);
  const auto measuring = std::find_if(refs->begin(), refs->end(), [](const EvalRunRef& r) { return r.id == "measuring"; });
  ASSERT_NE(measuring, refs->end());
  EXPECT_TRUE(measuring->in_progress);
  EvalRun run = ReadEvalRun(*measuring);
  ASSERT_EQ(run.preferences.size(), 1u);
  ASSERT_TRUE(run.preferences[0].baseline.has_value());
  EXPECT_TRUE(run.preferences[0].steps.empty());
}

// Found by fuzz/claas_eval: a step of 1e30 was converted to an integer (undefined
// behaviour); a step outside 0..2^53 would also fail every import pass. Such lines are
// skipped, naming the reason.
TEST(EvalResults, SkipsStepsOutOfRange) {
  TempDir dir;
  fs::path root(dir.path());
  Write(root / "r" / "p" / "steps.jsonl", R"({"step": 1e30})" "\n" R"({"step": -1})" "\n"
        R"({"step": 2, "sub_step_count": 1e300})" "\n");
  auto refs = DiscoverEvalRuns(root.string());
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 1u);
  EvalRun run = ReadEvalRun((*refs)[0]);
  ASSERT_EQ(run.preferences.size(), 1u);
  ASSERT_EQ(run.preferences[0].steps.size(), 1u);
  EXPECT_EQ(run.preferences[0].steps[0].step, 2);
  EXPECT_FALSE(run.preferences[0].steps[0].sub_step_count.has_value());
  ASSERT_EQ(run.skipped.size(), 2u);
  EXPECT_EQ(run.skipped[0].name, "p/steps.jsonl line 1");
  EXPECT_EQ(run.skipped[1].reason, "step must be an integer from 0 to 2^53");
}

TEST(ClaasImporter, ImportsOnceAndPicksUpNewFiles) {
  TempDir dir;
  fs::path fb = fs::path(dir.path()) / "feedback";
  Write(fb / "20260224T000001-a.json", LocalLog("a", "2026-02-24T00:00:01Z", 0.5));
  Write(fb / "20260224T000002-b.json", LocalLog("b", "2026-02-24T00:00:02Z", 0.25));
  fs::path ev = fs::path(dir.path()) / "evals";
  Write(ev / "r1" / "p" / "steps.jsonl", R"({"step": 0, "eval": {"preference_compliance": 0.5}})" "\n");

  auto store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  TrackingService tracking(*store, QuietTracking(dir.path()));
  {
    ClaasImporter importer(tracking, {fb.string(), ev.string(), 0});
    auto stats = importer.ImportOnce();
    ASSERT_TRUE(stats.ok()) << stats.status().message();
    EXPECT_EQ(stats->feedback_batches, 2);
    EXPECT_EQ(stats->eval_steps, 1);
    EXPECT_EQ(importer.ImportOnce()->feedback_batches, 0);
    Write(fb / "20260224T000003-c.json", LocalLog("c", "2026-02-24T00:00:03Z", 0.125));
    Write(ev / "r1" / "summary.json", "{}");
    auto again = importer.ImportOnce();
    EXPECT_EQ(again->feedback_batches, 1);
  }
  // A new importer (a restart) writes the same steps again: nothing changes.
  ClaasImporter restarted(tracking, {fb.string(), ev.string(), 0});
  ASSERT_TRUE(restarted.ImportOnce().ok());
  auto projects = tracking.ListProjects();
  ASSERT_EQ(projects->size(), 2u);
  auto exps = tracking.ListExperiments((*projects)[0].id);
  ASSERT_EQ(exps->size(), 1u);
  EXPECT_EQ((*exps)[0].name, "user/a");
  auto loss = tracking.GetSeries((*exps)[0].id, "sdpo/distill_loss");
  ASSERT_TRUE(loss.ok());
  EXPECT_EQ(loss->last_step, 2);
  EXPECT_DOUBLE_EQ(loss->last_value, 0.125);
  auto q = tracking.QuerySeries(loss->id, SeriesQuery{});
  EXPECT_EQ(q->count, 3);
  auto evals = tracking.ListExperiments((*projects)[1].id);
  ASSERT_EQ(evals->size(), 1u);
  EXPECT_EQ((*evals)[0].name, "r1/p");
  EXPECT_EQ((*evals)[0].status, RunStatus::kFinished);
}

// Imported runs start and end when CLaaS's files say (a LoRA's batches 5 h 01 m apart; an
// eval's steps 3 min 59.5 s apart, in Python's isoformat with an offset), not when they
// were read; an eval without summary.json stays running however long it is silent.
TEST(ClaasImporter, TimesComeFromTheFilesAndStatusFromClaas) {
  TempDir dir;
  fs::path fb = fs::path(dir.path()) / "feedback";
  Write(fb / "20260224T000001-a.json", LocalLog("a", "2026-02-24T00:00:01Z", 0.5));
  Write(fb / "20260224T050102-b.json", LocalLog("b", "2026-02-24T05:01:02Z", 0.25));
  fs::path ev = fs::path(dir.path()) / "evals";
  Write(ev / "done" / "p" / "steps.jsonl",
        R"({"step": 0, "timestamp": "2026-02-24T10:00:00.500000+00:00", "eval": {"preference_compliance": 0.5}})" "\n"
        R"({"step": 1, "timestamp": "2026-02-24T12:04:00+02:00", "eval": {"preference_compliance": 0.7}})" "\n");
  Write(ev / "done" / "summary.json", "{}");
  Write(ev / "going" / "p" / "steps.jsonl",
        R"({"step": 0, "timestamp": "2026-02-24 11:00:00", "eval": {"preference_compliance": 0.5}})" "\n");

  auto store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  TrackingService tracking(*store, QuietTracking(dir.path()));
  ClaasImporter importer(tracking, {fb.string(), ev.string(), 0});
  ASSERT_TRUE(importer.ImportOnce().ok());
  // A run of the SDK's in the same store, silent as long: the monitor does end that one.
  NewExperiment sdk;
  sdk.project = "sdk";
  auto silent = tracking.StartRun(sdk);
  ASSERT_TRUE(silent.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(tracking.CrashSilentRuns().ok());

  const int64_t t0 = int64_t{1771891201} * 1000000;  // 2026-02-24T00:00:01Z
  auto by_name = [&](const std::string& project) {
    std::map<std::string, Experiment> out;
    auto projects = tracking.ListProjects();
    for (const Project& p : *projects) {
      if (p.name != project) continue;
      auto exps = tracking.ListExperiments(p.id);
      for (const Experiment& e : *exps) out[e.name] = e;
    }
    return out;
  };
  auto lora = by_name("claas-feedback").at("user/a");
  EXPECT_EQ(lora.create_time, t0);
  EXPECT_EQ(lora.finish_time - lora.create_time, int64_t{5 * 3600 + 61} * 1000000);  // 5 h 01 m 01 s
  EXPECT_EQ(lora.status, RunStatus::kFinished);
  auto evals = by_name("claas-evals");
  const Experiment& done = evals.at("done/p");
  EXPECT_EQ(done.create_time, t0 + (int64_t{10 * 3600 - 1} * 1000000) + 500000);  // 10:00:00.5
  EXPECT_EQ(done.finish_time - done.create_time, int64_t{239} * 1000000 + 500000);  // to 10:04:00 UTC
  EXPECT_EQ(done.status, RunStatus::kFinished);
  const Experiment& going = evals.at("going/p");
  EXPECT_EQ(going.create_time, t0 + int64_t{11 * 3600 - 1} * 1000000);
  EXPECT_EQ(going.status, RunStatus::kRunning);
  EXPECT_EQ((*tracking.GetExperiment(silent->experiment.id)).status, RunStatus::kCrashed);

  // The series' points carry the files' times too, so relative time starts at 0.
  auto q = tracking.QuerySeries(tracking.GetSeries(done.id, "eval/compliance")->id, SeriesQuery{});
  ASSERT_EQ(q->points.size(), 2u);
  EXPECT_EQ(q->points[0].ts, done.create_time);
  EXPECT_EQ(q->points[1].ts, done.finish_time);

  // An SDK script resuming the running eval makes it its own: when the script goes silent,
  // the monitor ends it like any run.
  NewExperiment resume;
  resume.project = "claas-evals";
  resume.run_id = going.run_id;
  ASSERT_TRUE(tracking.StartRun(resume).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(tracking.CrashSilentRuns().ok());
  EXPECT_EQ((*tracking.GetExperiment(going.id)).status, RunStatus::kCrashed);
  // An importer starting afresh (a restart, or an upgrade from a version that kept no
  // mark and read start times as the import time) sets both back from the files.
  ClaasImporter restarted(tracking, {fb.string(), ev.string(), 0});
  ASSERT_TRUE(restarted.ImportOnce().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(tracking.CrashSilentRuns().ok());
  auto again = by_name("claas-evals").at("going/p");
  EXPECT_EQ(again.status, RunStatus::kRunning);
  EXPECT_EQ(again.create_time, going.create_time);
}

// A NaN CLaaS measured is kept as a NaN point, visible on the chart, not a lost line.
TEST(ClaasImporter, NonFiniteValuesBecomeNaNPoints) {
  TempDir dir;
  fs::path ev = fs::path(dir.path()) / "evals";
  Write(ev / "r" / "p" / "steps.jsonl",
        R"({"step": 0, "eval": {"preference_compliance": 0.5}})" "\n"
        R"({"step": 1, "eval": {"preference_compliance": NaN}, "timing_s": Infinity})" "\n");
  auto store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  TrackingService tracking(*store, QuietTracking(dir.path()));
  ClaasImporter importer(tracking, {"", ev.string(), 0});
  auto stats = importer.ImportOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->eval_steps, 2);
  EXPECT_EQ(stats->skipped_files, 0);
  auto projects = tracking.ListProjects();
  auto exps = tracking.ListExperiments((*projects)[0].id);
  auto q = tracking.QuerySeries(tracking.GetSeries((*exps)[0].id, "eval/compliance")->id, SeriesQuery{});
  ASSERT_EQ(q->points.size(), 2u);
  EXPECT_EQ(q->points[0].value, 0.5);
  EXPECT_TRUE(std::isnan(q->points[1].value));
  auto timing = tracking.QuerySeries(tracking.GetSeries((*exps)[0].id, "eval/timing_s")->id, SeriesQuery{});
  ASSERT_EQ(timing->points.size(), 1u);
  EXPECT_EQ(timing->points[0].value, INFINITY);
}

// A file whose content tracking refuses (a LoRA name or an experiment name over 255
// bytes) failed every import pass and kept all later files out; a key too long failed
// its whole batch. Now the file is skipped, the key dropped, and the rest imported.
TEST(ClaasImporter, SkipsWhatTrackingRefusesAndImportsTheRest) {
  TempDir dir;
  fs::path fb = fs::path(dir.path()) / "feedback";
  std::string long_lora(300, 'l');
  Write(fb / "20260224T000001-a.json", R"({"lora_id": ")" + long_lora + R"(", "timing_ms": {"total": 5}})");
  Write(fb / "20260224T000002-b.json",
        R"({"lora_id": "user/a", "distill_result": {"metadata": {"distill_loss": 0.5, ")" + std::string(300, 'k') +
            R"(": 1}}})");
  fs::path ev = fs::path(dir.path()) / "evals";
  Write(ev / std::string(200, 'r') / std::string(100, 'p') / "steps.jsonl", R"({"step": 0, "timing_s": 1})" "\n");
  Write(ev / "r2" / "p" / "steps.jsonl", R"({"step": 0, "timing_s": 2})" "\n");

  auto store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  TrackingService tracking(*store, QuietTracking(dir.path()));
  ClaasImporter importer(tracking, {fb.string(), ev.string(), 0});
  auto stats = importer.ImportOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->feedback_batches, 1);
  EXPECT_EQ(stats->eval_steps, 1);
  EXPECT_EQ(stats->skipped_files, 2);
  auto again = importer.ImportOnce();  // nothing is retried
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->skipped_files, 0);
  auto projects = tracking.ListProjects();
  ASSERT_EQ(projects->size(), 2u);
  auto exps = tracking.ListExperiments((*projects)[0].id);
  ASSERT_EQ(exps->size(), 1u);
  EXPECT_TRUE(tracking.GetSeries((*exps)[0].id, "sdpo/distill_loss").ok());
}

// Found by fuzz/claas_import: a run or preference folder whose name is not UTF-8
// ("caf\xe9" in Latin-1) made the config's dump() throw on the importer's thread,
// which ended the server at every start.
TEST(ClaasImporter, ImportsFoldersWhoseNamesAreNotUtf8) {
  TempDir dir;
  fs::path ev = fs::path(dir.path()) / "evals";
  Write(ev / "caf\xe9" / "p\xff" / "steps.jsonl", R"({"step": 0, "timing_s": 1})" "\n");
  auto store = OpenTestStore(dir.path());
  ASSERT_NE(store, nullptr);
  TrackingService tracking(*store, QuietTracking(dir.path()));
  ClaasImporter importer(tracking, {"", ev.string(), 0});
  auto stats = importer.ImportOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->eval_steps, 1);
}

}  // namespace
}  // namespace loupe::claas
