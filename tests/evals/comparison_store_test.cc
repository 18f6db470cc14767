// The comparison lab's store (rows, cells in shown order, answers recorded once,
// decisions, delete) and the preference pairs decided rows give.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "evals/comparison_service.h"
#include "store/store.h"

namespace loupe {
namespace {

class ComparisonStoreTest : public ::testing::Test {
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
  }
  // A comparison of the two models over `prompts`, rows shown in `orders` (default as chosen).
  Comparison Make(int prompts, bool reverse_odd_rows = false) {
    Comparison c;
    c.title = "t";
    c.blind = true;
    c.model_ids = models_;
    c.model_names = {"base", "tuned"};
    c.create_time = 1;
    std::vector<ComparisonRow> rows;
    for (int i = 0; i < prompts; ++i) {
      ComparisonRow r;
      r.position = i;
      r.prompt = "prompt " + std::to_string(i);
      r.order = models_;
      if (reverse_odd_rows && i % 2 == 1) std::swap(r.order[0], r.order[1]);
      rows.push_back(r);
    }
    return *store_->CreateComparison(c, rows);
  }
  Prediction Answer(int64_t model, const std::string& prompt, const std::string& text, const std::string& outcome = "ok") {
    Prediction p;
    p.time = 1;
    p.model_id = model;
    p.model_name = model == models_[0] ? "base" : "tuned";
    p.api = "openai";
    p.provider_model = p.model_name;
    p.messages_json = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}}).dump();
    p.response = text;
    p.outcome = outcome;
    p.source = "comparison";
    return p;
  }
  // Answers every pending cell: "<model name> on <prompt>".
  void AnswerAll(int64_t comparison) {
    std::vector<PendingCell> pending = *store_->PendingComparisonCells(comparison);
    for (const PendingCell& cell : pending) {
      const std::string name = cell.model_id == models_[0] ? "base" : "tuned";
      ASSERT_TRUE(store_->RecordComparisonAnswer(cell.cell_id, Answer(cell.model_id, cell.prompt, name + " on " + cell.prompt)).ok());
    }
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<int64_t> models_;
};

TEST_F(ComparisonStoreTest, RowsKeepTheirShownOrderAndEveryCellStartsPending) {
  Comparison c = Make(3, /*reverse_odd_rows=*/true);
  EXPECT_EQ(c.rows, 3);
  EXPECT_EQ(c.cells, 6);
  EXPECT_EQ(c.answered, 0);
  EXPECT_EQ(c.model_names, (std::vector<std::string>{"base", "tuned"}));
  std::vector<ComparisonRow> rows = *store_->ListComparisonRows(c.id, false, 0, 100);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].order, (std::vector<int64_t>{models_[1], models_[0]}));
  // Cells come in the shown order, and their ids grow in it (they say nothing of the model).
  EXPECT_EQ(rows[1].cells[0].model_id, models_[1]);
  EXPECT_LT(rows[1].cells[0].id, rows[1].cells[1].id);
  EXPECT_FALSE(rows[1].cells[0].prediction.has_value());
  EXPECT_EQ(store_->PendingComparisonCells(c.id)->size(), 6u);
  EXPECT_EQ(store_->PendingComparisonCells(0)->size(), 6u);
}

TEST_F(ComparisonStoreTest, AnAnswerIsRecordedOnceWithItsPrediction) {
  Comparison c = Make(1);
  PendingCell cell = store_->PendingComparisonCells(c.id)->front();
  Result<int64_t> id = store_->RecordComparisonAnswer(cell.cell_id, Answer(cell.model_id, cell.prompt, "first"));
  ASSERT_TRUE(id.ok()) << id.status().message();
  Result<int64_t> again = store_->RecordComparisonAnswer(cell.cell_id, Answer(cell.model_id, cell.prompt, "second"));
  EXPECT_EQ(again.status().code(), Code::kConflict);
  ComparisonRow row = store_->ListComparisonRows(c.id, false, 0, 10)->front();
  ASSERT_TRUE(row.cells[0].prediction.has_value());
  EXPECT_EQ(row.cells[0].prediction->id, *id);
  EXPECT_EQ(row.cells[0].prediction->response, "first");
  EXPECT_EQ(store_->GetComparison(c.id)->answered, 1);
  EXPECT_EQ(store_->PendingComparisonCells(c.id)->size(), 1u);
  // The second call's prediction was not written either (the transaction rolled back).
  PredictionFilter all;
  EXPECT_EQ(*store_->CountPredictions(all), 1);
  // A cell that is gone (its comparison was deleted): the prediction alone.
  ASSERT_TRUE(store_->RecordComparisonAnswer(999999, Answer(cell.model_id, cell.prompt, "")).ok());
  EXPECT_EQ(*store_->CountPredictions(all), 2);
}

TEST_F(ComparisonStoreTest, DecisionsAreStoredAndCleared) {
  Comparison c = Make(2);
  AnswerAll(c.id);
  std::vector<ComparisonRow> rows = *store_->ListComparisonRows(c.id, false, 0, 10);
  RowDecision d;
  d.decision = "prefer";
  d.preferred = models_[1];
  d.rejected = {models_[0]};
  d.blind = true;
  d.by = "ana";
  d.time = 7;
  ASSERT_TRUE(store_->DecideComparisonRow(rows[0].id, d).ok());
  RowDecision tie;
  tie.decision = "tie";
  ASSERT_TRUE(store_->DecideComparisonRow(rows[1].id, tie).ok());
  Comparison after = *store_->GetComparison(c.id);
  EXPECT_EQ(after.decided, 2);
  EXPECT_EQ(after.ties, 1);
  ComparisonRow r0 = *store_->GetComparisonRow(rows[0].id);
  EXPECT_EQ(r0.decision, "prefer");
  EXPECT_EQ(r0.preferred, models_[1]);
  EXPECT_EQ(r0.rejected, (std::vector<int64_t>{models_[0]}));
  EXPECT_TRUE(r0.decided_blind);
  EXPECT_EQ(r0.decided_by, "ana");
  EXPECT_EQ(store_->ListComparisonRows(c.id, true, 0, 10)->size(), 2u);
  ASSERT_TRUE(store_->DecideComparisonRow(rows[1].id, RowDecision{}).ok());
  EXPECT_EQ(store_->ListComparisonRows(c.id, true, 0, 10)->size(), 1u);
  EXPECT_EQ(store_->DecideComparisonRow(999999, d).code(), Code::kNotFound);
}

TEST_F(ComparisonStoreTest, DeletingKeepsThePredictions) {
  Comparison c = Make(2);
  AnswerAll(c.id);
  ASSERT_TRUE(store_->RevealComparison(c.id).ok());
  EXPECT_TRUE(store_->GetComparison(c.id)->revealed);
  ASSERT_TRUE(store_->DeleteComparison(c.id).ok());
  EXPECT_EQ(store_->GetComparison(c.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListComparisonRows(c.id, false, 0, 10)->size(), 0u);
  EXPECT_EQ(store_->PendingComparisonCells(0)->size(), 0u);
  PredictionFilter all;
  EXPECT_EQ(*store_->CountPredictions(all), 4);
  EXPECT_EQ(store_->DeleteComparison(c.id).code(), Code::kNotFound);
}

TEST_F(ComparisonStoreTest, FiftyDecidedRowsOfTwoModelsGiveFiftyPairs) {
  Comparison c = Make(60, /*reverse_odd_rows=*/true);
  AnswerAll(c.id);
  std::vector<ComparisonRow> rows = *store_->ListComparisonRows(c.id, false, 0, 100);
  for (int i = 0; i < 60; ++i) {
    RowDecision d;
    if (i < 50) {
      d.decision = "prefer";
      d.preferred = models_[i % 3 == 0 ? 0 : 1];
      d.rejected = {models_[i % 3 == 0 ? 1 : 0]};
    } else if (i < 55) {
      d.decision = "tie";  // no pair
    }  // the last five stay undecided
    ASSERT_TRUE(store_->DecideComparisonRow(rows[i].id, d).ok());
  }
  for (llm::PreferenceFormat f : {llm::PreferenceFormat::kTrl, llm::PreferenceFormat::kOpenAi}) {
    evals::ComparisonPreferenceReader reader(*store_, c.id, f);
    std::string out;
    for (int guard = 0; guard < 10; ++guard) {
      Result<bool> more = reader.Next(out);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
    }
    EXPECT_EQ(reader.lines(), 50);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 50);
    // Row 0 preferred base (i % 3 == 0); row 1 preferred tuned, shown in swapped order.
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(out.substr(at, nl - at));
    nlohmann::json first = nlohmann::json::parse(lines[0]);
    nlohmann::json second = nlohmann::json::parse(lines[1]);
    if (f == llm::PreferenceFormat::kTrl) {
      EXPECT_EQ(first["prompt"], nlohmann::json::parse(R"([{"role":"user","content":"prompt 0"}])"));
      EXPECT_EQ(first["chosen"][0]["content"], "base on prompt 0");
      EXPECT_EQ(first["rejected"][0]["content"], "tuned on prompt 0");
      EXPECT_EQ(second["chosen"][0]["content"], "tuned on prompt 1");
      EXPECT_EQ(second["rejected"][0]["content"], "base on prompt 1");
    } else {
      EXPECT_EQ(first["input"]["messages"][0]["content"], "prompt 0");
      EXPECT_EQ(first["preferred_output"][0]["content"], "base on prompt 0");
      EXPECT_EQ(first["non_preferred_output"][0]["content"], "tuned on prompt 0");
    }
  }
}

TEST_F(ComparisonStoreTest, AFailedAnswerGivesNoPair) {
  Comparison c;
  c.title = "three";
  LlmModel m;
  m.name = "third";
  m.api = "openai";
  m.base_url = "http://h/v1";
  m.model = "third";
  const int64_t third = store_->CreateLlmModel(m, 10)->id;
  c.model_ids = {models_[0], models_[1], third};
  c.model_names = {"base", "tuned", "third"};
  ComparisonRow r;
  r.prompt = "p";
  r.order = c.model_ids;
  c = *store_->CreateComparison(c, {r});
  std::vector<PendingCell> pending = *store_->PendingComparisonCells(c.id);
  for (const PendingCell& cell : pending) {
    ASSERT_TRUE(store_->RecordComparisonAnswer(
                         cell.cell_id, Answer(cell.model_id, "p", "answer " + std::to_string(cell.model_id),
                                              cell.model_id == third ? "error" : "ok"))
                    .ok());
  }
  ComparisonRow row = store_->ListComparisonRows(c.id, false, 0, 10)->front();
  row.decision = "prefer";
  row.preferred = models_[1];
  row.rejected = {models_[0], third};
  std::vector<llm::PreferencePair> pairs = evals::RowPreferencePairs(row);
  ASSERT_EQ(pairs.size(), 1u);  // tuned over base; the failed third answer is no training data
  EXPECT_EQ(pairs[0].chosen, "answer " + std::to_string(models_[1]));
  EXPECT_EQ(pairs[0].rejected, "answer " + std::to_string(models_[0]));
  row.decision = "tie";
  EXPECT_TRUE(evals::RowPreferencePairs(row).empty());
}

}  // namespace
}  // namespace loupe
