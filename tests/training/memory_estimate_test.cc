// Training memory estimates against values computed by hand from the libraries'
// allocations, and the refusals built on them (issue 9, item 6).
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "training/memory_estimate.h"
#include "training/model_catalog.h"

namespace loupe::training {
namespace {

using nlohmann::json;

constexpr uint64_t kGiB = 1ull << 30;

ValidatedParams Params(const std::string& model, const json& input) {
  Result<ValidatedParams> v = ValidateAndTransform(FindModel(model)->params, input);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : ValidatedParams{};
}

DataShape TextShape() {
  DataShape s;
  s.train_rows = 700;
  s.held_rows = 1000;
  s.classes = 3;
  s.text_bytes = 250'000;
  s.words = 40'000;
  s.vocabulary = 12'345;
  return s;
}

TEST(MemoryEstimate, FastTextIsItsMatricesAndDictionary) {
  const DataShape s = TextShape();
  MemoryEstimate e = EstimateTrainingMemory("FastTextClassifier", s, {{"dim", 100}, {"word_ngrams", 2}});
  // Input matrix: (12,345 words + the end-of-line token + 2,000,000 buckets) x 100 x 4 bytes.
  const uint64_t input = (12'346ull + 2'000'000) * 100 * 4;
  ASSERT_EQ(input, 804'938'400u);
  const uint64_t output = 3 * 100 * 4;
  const uint64_t dictionary = 30'000'000ull * 4 + (12'346 + 3) * 160;  // word table + entries
  const uint64_t texts = 250'000 + 1000 * 40;
  EXPECT_EQ(e.bytes, input + output + dictionary + texts);
  EXPECT_EQ(e.bytes, 927'205'440u);
  EXPECT_EQ(e.parts[0].bytes, input);
  EXPECT_EQ(e.parts[0].what, "input matrix: (12,346 words + 2,000,000 hash buckets for word_ngrams 2) x dim 100 x 4 bytes");
  EXPECT_EQ(e.drivers, (std::vector<std::string>{"dim", "word_ngrams"}));

  // Unigrams only: no buckets (fasttext_model.cc sets bucket 0), so the words alone.
  MemoryEstimate uni = EstimateTrainingMemory("FastTextClassifier", s, {{"dim", 100}, {"word_ngrams", 1}});
  EXPECT_EQ(uni.bytes, 12'346ull * 100 * 4 + output + dictionary + texts);
  EXPECT_EQ(uni.drivers, (std::vector<std::string>{"dim"}));
  // Negative sampling adds its 10 M-entry table, which peaks near 72 MiB as it grows.
  MemoryEstimate ns = EstimateTrainingMemory("FastTextClassifier", s, {{"dim", 100}, {"word_ngrams", 1}, {"loss", "ns"}});
  EXPECT_EQ(ns.bytes, uni.bytes + (72 << 20));
}

TEST(MemoryEstimate, FastTextDim1000WithWordNgramsIsRefusedAndTheDefaultsAreNot) {
  const DataShape s = TextShape();
  Status st = CheckTrainingMemory("FastTextClassifier", s, Params("FastTextClassifier", {{"dim", 1000}, {"word_ngrams", 2}}),
                                  4 * kGiB);
  ASSERT_EQ(st.code(), Code::kInvalidArgument);
  // (12,346 + 2,000,000) x 1000 x 4 = 8,049,384,000 bytes, plus the dictionary and texts.
  EXPECT_EQ(st.message(),
            "FastTextClassifier needs about 7.6 GiB of memory to train with these parameters, above the training "
            "memory budget of 4.0 GiB (loupe serve --training-memory-mb). Most of it is the input matrix: (12,346 "
            "words + 2,000,000 hash buckets for word_ngrams 2) x dim 1000 x 4 bytes (7.5 GiB). It grows with dim "
            "and word_ngrams; with the other parameters unchanged, dim at most 518 or word_ngrams 1 fits.");
  // dim 518 is the largest that fits: check the suggestion is right on both sides.
  EXPECT_TRUE(CheckTrainingMemory("FastTextClassifier", s,
                                  Params("FastTextClassifier", {{"dim", 518}, {"word_ngrams", 2}}), 4 * kGiB).ok());
  EXPECT_FALSE(CheckTrainingMemory("FastTextClassifier", s,
                                   Params("FastTextClassifier", {{"dim", 519}, {"word_ngrams", 2}}), 4 * kGiB).ok());
  EXPECT_TRUE(CheckTrainingMemory("FastTextClassifier", s, Params("FastTextClassifier", json::object()), 4 * kGiB).ok());
  // No budget, no limit.
  EXPECT_TRUE(CheckTrainingMemory("FastTextClassifier", s, Params("FastTextClassifier", {{"dim", 1000}, {"word_ngrams", 5}}),
                                  0).ok());
}

TEST(MemoryEstimate, ASearchIsCheckedAtItsUpperBounds) {
  const DataShape s = TextShape();
  ValidatedParams p = Params("FastTextClassifier",
                             {{"word_ngrams", 2}, {"dim", {{"optimize", true}, {"lower_bound", 10}, {"upper_bound", 1000}}}});
  EXPECT_EQ(WorstCaseParams(p)["dim"], 1000);
  Status st = CheckTrainingMemory("FastTextClassifier", s, p, 4 * kGiB);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("to train at the search's upper bounds"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("dim's upper_bound at most 518"), std::string::npos) << st.message();
  p = Params("FastTextClassifier",
             {{"word_ngrams", 2}, {"dim", {{"optimize", true}, {"lower_bound", 10}, {"upper_bound", 300}}}});
  EXPECT_TRUE(CheckTrainingMemory("FastTextClassifier", s, p, 4 * kGiB).ok());
}

// The part whose description starts with `prefix`.
std::string Part(const MemoryEstimate& e, const std::string& prefix) {
  for (const MemoryPart& p : e.parts) {
    if (p.what.rfind(prefix, 0) == 0) return p.what;
  }
  return "";
}

TEST(MemoryEstimate, XGBoostIsItsMatricesHistogramsAndTrees) {
  DataShape s;
  s.train_rows = 1000;
  s.held_rows = 1500;
  s.classes = 3;
  s.features = 20;
  s.bins = 2000;
  MemoryEstimate e = EstimateTrainingMemory("XGBoostClassifier", s,
                                            {{"max_depth", 4}, {"n_estimators", 10}, {"tree_method", "hist"}});
  const uint64_t leaves = 16;  // 2^4
  const uint64_t data = 1500 * 20 * 4 + 1500 * 8;
  const uint64_t dmatrix = 1500 * (20 * 8 + 8);
  const uint64_t quantised = 1000 * 20 + 2000 * 8;
  const uint64_t histograms = leaves * 2000 * 16;
  const uint64_t buffers = 32 << 20;
  const uint64_t gradients = (1000 * 12 + 500 * 4) * 3;
  const uint64_t trees = 10 * 3 * (2 * leaves - 1) * 160;
  EXPECT_EQ(e.bytes, data + dmatrix + quantised + histograms + buffers + gradients + trees);
  EXPECT_EQ(Part(e, "histograms"), "histograms: 16 nodes (max_depth 4) x 2,000 bins x 16 bytes");
  EXPECT_EQ(Part(e, "trees"), "trees: 10 rounds x 3 classes x up to 31 nodes");
  // Deep trees on few rows: not 2^30 leaves. A leaf needs min_child_weight (1) of
  // hessian and a row gives at most 1/2 under softmax: 100 rows, 50 leaves.
  s.train_rows = 100;
  s.held_rows = 100;
  MemoryEstimate deep = EstimateTrainingMemory("XGBoostClassifier", s, {{"max_depth", 30}, {"n_estimators", 1}});
  EXPECT_EQ(Part(deep, "histograms"), "histograms: 50 nodes (max_depth 30) x 2,000 bins x 16 bytes");
  // Binary logistic: at most 1/4 a row, so 25 leaves; min_child_weight 0 lets every row be one.
  s.classes = 2;
  EXPECT_EQ(Part(EstimateTrainingMemory("XGBoostClassifier", s, {{"max_depth", 30}}), "histograms"),
            "histograms: 25 nodes (max_depth 30) x 2,000 bins x 16 bytes");
  EXPECT_EQ(Part(EstimateTrainingMemory("XGBoostClassifier", s, {{"max_depth", 30}, {"min_child_weight", 0.0}}),
                 "histograms"),
            "histograms: 100 nodes (max_depth 30) x 2,000 bins x 16 bytes");
  // The exact method sorts columns instead of building histograms.
  EXPECT_EQ(Part(EstimateTrainingMemory("XGBoostClassifier", s, {{"tree_method", "exact"}}), "histograms"), "");
}

TEST(MemoryEstimate, LinearModelsAreTheirRowsAndWeights) {
  DataShape s;
  s.train_rows = 1000;
  s.held_rows = 1000;
  s.classes = 0;
  s.features = 10;
  MemoryEstimate e = EstimateTrainingMemory("LinearSVR", s, {{"C", 1.0}});
  const uint64_t data = 1000 * 10 * 4 + 1000 * 8;
  const uint64_t rows = (1000 * 10 + 2 * 1000) * 16 + 1000 * 16;
  const uint64_t solver = (10 * 8 + 1000 * 4) * 8;
  const uint64_t weights = 11 * 1 * (8 + 72);
  EXPECT_EQ(e.bytes, data + rows + solver + weights);
  // Text: TF-IDF terms (words and word pairs), capped by max_features, one weight
  // vector per class.
  DataShape t = TextShape();
  MemoryEstimate text = EstimateTrainingMemory("LogisticRegression", t, {{"max_features", 1000}, {"bigrams", true}});
  const uint64_t terms = 12'345 + 40'000;
  EXPECT_EQ(text.bytes, (250'000 + 1000 * 40) + terms * 120 + (40'000 * 2 + 700 * 2) * 16 + 700 * 16 +
                            (1000 * 8 + 700 * 4) * 8 + 1001 * 3 * (8 + 72));
  EXPECT_EQ(text.drivers, (std::vector<std::string>{"max_features", "bigrams"}));
}

TEST(MemoryEstimate, MeasuresWordsVocabularyAndBins) {
  Examples text;
  text.rows = 2;
  text.texts = {"Free money  FREE", "money\tnow"};
  DataShape s = MeasureShape(text, 2);
  EXPECT_EQ(s.words, 5u);
  EXPECT_EQ(s.vocabulary, 3u);  // free, money, now
  EXPECT_EQ(s.text_bytes, 25u);
  Examples tab;
  tab.rows = 3;
  tab.cols = 2;
  tab.x = {1, 0, 2, 1, 1, std::nanf("")};
  Examples other;
  other.rows = 4;
  DataShape t = MeasureShape(tab, 0, {&other});
  EXPECT_EQ(t.bins, 2u + 2u);  // {1, 2} and {0, 1}: missing values are no bin
  EXPECT_EQ(t.features, 2u);
  EXPECT_EQ(t.train_rows, 3u);
  EXPECT_EQ(t.held_rows, 7u);
  EXPECT_EQ(DataShape::FromJson(t.ToJson()).ToJson(), t.ToJson());
}

TEST(MemoryEstimate, EncodedInputsNameTheWidestOneHotColumns) {
  FeatureSpec spec;
  spec.task = TaskKind::kTabularClassification;
  spec.inputs = {{"x", datasets::ColumnType::kNumeric, {}},
                 {"city", datasets::ColumnType::kCategorical, std::vector<std::string>(200, "c")}};
  EXPECT_TRUE(CheckEncodedSize(spec, 1000, 1 << 20).ok());  // 1000 x 201 x 4 = 804,000 bytes
  Status st = CheckEncodedSize(spec, 10'000, 1 << 20);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "the encoded inputs would take 7.7 MiB (10,000 rows x 201 features x 4 bytes), above the training memory "
            "budget of 1.0 MiB (loupe serve --training-memory-mb); choose fewer input columns (one-hot columns count "
            "once per category: \"city\" 200)");
}

TEST(MemoryEstimate, DefaultBudgetIsHalfTheMemoryAtMost4GiB) {
  EXPECT_EQ(DefaultTrainingMemoryBudget(16 * kGiB), 4 * kGiB);
  EXPECT_EQ(DefaultTrainingMemoryBudget(6 * kGiB), 3 * kGiB);
  EXPECT_EQ(DefaultTrainingMemoryBudget(0), 4 * kGiB);  // unknown
  EXPECT_GT(PhysicalMemoryBytes(), 0u);
  EXPECT_EQ(FormatBytes(512), "512 bytes");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(8'049'384'000), "7.5 GiB");
}

}  // namespace
}  // namespace loupe::training
