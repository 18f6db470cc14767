#include "training/memory_estimate.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <optional>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "training/fasttext_model.h"
#include "training/model_catalog.h"

namespace loupe::training {

namespace {

using nlohmann::json;

// fastText 0.9.2 (Debian's libfasttext): the dictionary's word -> id hash table is
// MAX_VOCAB_SIZE int32s whatever the vocabulary; a word's entry (string, count, type,
// subword list) is about 72 bytes, with the vector's growth and the subword list's own
// allocation about 160; negative sampling draws from a table of 10 M int32s, which
// peaks near 72 MiB as it grows (measured: bench/training_memory).
constexpr uint64_t kFastTextWordTable = 30'000'000ull * 4;
constexpr uint64_t kFastTextBytesPerWord = 160;
constexpr uint64_t kFastTextNegativeTable = 72ull << 20;  // 10 M entries, grown by doubling
constexpr uint64_t kFloat = 4;
// XGBoost 1.7 (Debian's libxgboost): a DMatrix entry is (u32 feature, f32 value); the
// hist and approx methods keep a histogram of (f64 gradient, f64 hessian) per bin for
// the nodes of the tree being grown (about 2^max_depth of them in a full tree,
// measured); a tree node costs up to about 160 bytes held and written as JSON; its
// own buffers about 32 MiB (bench/training_memory, docs/benchmarks.md).
constexpr uint64_t kXgbEntry = 8;
constexpr uint64_t kXgbHistogramBin = 16;
constexpr uint64_t kXgbBytesPerTreeNode = 160;
constexpr uint64_t kXgbBuffers = 32ull << 20;
constexpr uint64_t kMaxBins = 256;
// liblinear: a feature_node is (int index, double value); a weight is written as text
// of about 24 bytes, held as a JSON string and its dump while the model file is saved
// (72 bytes a weight in all, measured).
constexpr uint64_t kFeatureNode = 16;
constexpr uint64_t kSavedWeight = 72;
// TF-IDF's document-frequency map: a term's node, hash slot and string.
constexpr uint64_t kTfidfBytesPerTerm = 120;

// Saturating arithmetic: a shape read from a corrupt spec must not wrap around.
uint64_t Mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}
uint64_t Mul(uint64_t a, uint64_t b, uint64_t c) { return Mul(Mul(a, b), c); }
uint64_t Add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

std::string Count(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int64_t Int(const json& params, const char* name, int64_t fallback) {
  auto it = params.find(name);
  return it != params.end() && it->is_number() ? it->get<int64_t>() : fallback;
}

class Builder {
 public:
  void Add(std::string what, uint64_t bytes) { e_.parts.push_back({std::move(what), bytes}); }
  void Driver(const std::string& name) { e_.drivers.push_back(name); }
  MemoryEstimate Done() {
    std::stable_sort(e_.parts.begin(), e_.parts.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
    for (const MemoryPart& p : e_.parts) e_.bytes = training::Add(e_.bytes, p.bytes);
    return std::move(e_);
  }

 private:
  MemoryEstimate e_;
};

void AddTabularData(Builder& b, const DataShape& s) {
  b.Add("encoded inputs: " + Count(s.held_rows) + " rows x " + Count(s.features) + " features x 4 bytes",
        Add(Mul(s.held_rows, s.features, kFloat), Mul(s.held_rows, 8)));
}

void AddTextData(Builder& b, const DataShape& s) {
  b.Add("texts: " + Count(s.text_bytes) + " bytes in " + Count(s.held_rows) + " rows",
        Add(s.text_bytes, Mul(s.held_rows, 40)));
}

MemoryEstimate FastText(const DataShape& s, const json& p) {
  Builder b;
  const uint64_t dim = static_cast<uint64_t>(Int(p, "dim", 100));
  const int64_t ngrams = Int(p, "word_ngrams", 1);
  const uint64_t words = s.vocabulary + 1;  // + the end-of-line token
  // Word n-grams are hashed into buckets, rows of the input matrix like the words
  // (fasttext_model.cc: no buckets for unigrams).
  const uint64_t buckets = ngrams > 1 ? static_cast<uint64_t>(FastTextParams{}.bucket) : 0;
  const uint64_t classes = std::max<uint64_t>(s.classes, 2);
  std::string rows = buckets ? "(" + Count(words) + " words + " + Count(buckets) + " hash buckets for word_ngrams " +
                                   std::to_string(ngrams) + ")"
                             : Count(words) + " words";
  b.Add("input matrix: " + rows + " x dim " + std::to_string(dim) + " x 4 bytes", Mul(words + buckets, dim, kFloat));
  b.Add("output matrix: " + Count(classes) + " classes x dim " + std::to_string(dim) + " x 4 bytes",
        Mul(classes, dim, kFloat));
  b.Add("dictionary: a 30,000,000-slot word table and " + Count(words) + " words",
        Add(kFastTextWordTable, Mul(words + classes, kFastTextBytesPerWord)));
  if (p.value("loss", std::string("softmax")) == "ns") b.Add("negative sampling table", kFastTextNegativeTable);
  AddTextData(b, s);
  b.Driver("dim");
  if (ngrams > 1) b.Driver("word_ngrams");
  return b.Done();
}

MemoryEstimate XGBoost(const DataShape& s, const json& p) {
  Builder b;
  const uint64_t depth = static_cast<uint64_t>(std::clamp<int64_t>(Int(p, "max_depth", 6), 0, 62));
  const uint64_t rounds = static_cast<uint64_t>(std::max<int64_t>(Int(p, "n_estimators", 100), 1));
  const uint64_t groups = s.classes > 2 ? s.classes : 1;  // one tree per class and round
  const uint64_t other_rows = s.held_rows > s.train_rows ? s.held_rows - s.train_rows : 0;
  // A tree of depth d has at most 2^d leaves, and no more than its rows allow: a leaf
  // needs min_child_weight of hessian, and a row's hessian is at most 1/4 (logistic),
  // 1/2 (softmax) or 1 (squared error). It has 2 leaves - 1 nodes.
  const double max_hessian = s.classes == 0 ? 1.0 : s.classes == 2 ? 0.25 : 0.5;
  const double min_child_weight = p.value("min_child_weight", 1.0);
  const uint64_t rows_per_leaf = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(min_child_weight / max_hessian)));
  const uint64_t leaves = std::max<uint64_t>(1, std::min(uint64_t{1} << depth, s.train_rows / rows_per_leaf));
  const uint64_t nodes = 2 * leaves - 1;
  const std::string method = p.value("tree_method", std::string("hist"));
  AddTabularData(b, s);
  b.Add("DMatrix: " + Count(s.train_rows + other_rows) + " rows x " + Count(s.features) + " features x 8 bytes",
        Mul(s.train_rows + other_rows, Add(Mul(s.features, kXgbEntry), 8)));
  if (method == "exact") {
    b.Add("column-sorted copy for the exact method", Mul(s.train_rows, s.features, kXgbEntry));
  } else {
    const uint64_t bins = s.bins ? s.bins : Mul(s.features, kMaxBins);
    b.Add("quantised matrix: " + Count(s.train_rows) + " rows x " + Count(s.features) + " features",
          Add(Mul(s.train_rows, s.features), Mul(bins, 8)));
    b.Add("histograms: " + Count(leaves) + " nodes (max_depth " + std::to_string(depth) + ") x " + Count(bins) +
              " bins x 16 bytes",
          Mul(leaves, bins, kXgbHistogramBin));
  }
  b.Add("XGBoost's buffers", kXgbBuffers);
  b.Add("gradients and predictions", Mul(Add(Mul(s.train_rows, 12), Mul(other_rows, 4)), groups));
  b.Add("trees: " + Count(rounds) + " rounds x " + Count(groups) + (groups > 1 ? " classes" : " tree") + " x up to " +
            Count(nodes) + " nodes",
        Mul(Mul(rounds, groups), nodes, kXgbBytesPerTreeNode));
  b.Driver("max_depth");
  b.Driver("n_estimators");
  return b.Done();
}

MemoryEstimate Linear(const DataShape& s, const json& p) {
  Builder b;
  const bool text = s.features == 0 && (s.text_bytes > 0 || s.vocabulary > 0);
  const uint64_t weights_per_feature = s.classes > 2 ? s.classes : 1;  // one-vs-rest
  uint64_t n = s.features;
  uint64_t nonzeros = Mul(s.train_rows, s.features);
  if (text) {
    const bool bigrams = p.value("bigrams", true);
    const uint64_t terms = Add(s.vocabulary, bigrams ? s.words : 0);
    const uint64_t max_features = static_cast<uint64_t>(std::max<int64_t>(Int(p, "max_features", 50000), 1));
    n = std::min(terms, max_features);
    nonzeros = Mul(s.words, bigrams ? 2 : 1);
    AddTextData(b, s);
    b.Add("TF-IDF term counts: up to " + Count(terms) + " terms" + (bigrams ? " (words and word pairs)" : ""),
          Mul(terms, kTfidfBytesPerTerm));
    b.Driver("max_features");
    if (bigrams) b.Driver("bigrams");
  } else {
    AddTabularData(b, s);
  }
  b.Add("liblinear rows: " + Count(nonzeros) + " values x 16 bytes",
        Add(Mul(Add(nonzeros, Mul(s.train_rows, 2)), kFeatureNode), Mul(s.train_rows, 16)));
  b.Add("solver vectors", Mul(Add(Mul(n, 8), Mul(s.train_rows, 4)), 8));
  b.Add("weights: " + Count(n + 1) + " features x " + Count(weights_per_feature) +
            (weights_per_feature > 1 ? " classes" : "") + ", held and saved as text",
        Mul(n + 1, weights_per_feature, 8 + kSavedWeight));
  return b.Done();
}

// dlib's convolutional network (cnn_classifier.cc: 16 then 32 5x5 filters, 2x2 pooling
// after each, 128 hidden units): the training images once more as dlib matrices; the
// weights with their gradients and Adam's two moments; and a mini-batch's layer outputs
// and their gradients.
MemoryEstimate ConvNet(const DataShape& s, const json& p) {
  Builder b;
  AddTabularData(b, s);
  const uint64_t pixels = s.features, quarter = pixels / 4, sixteenth = pixels / 16;
  const uint64_t classes = std::max<uint64_t>(s.classes, 2);
  b.Add("training images as dlib matrices: " + Count(s.train_rows) + " x " + Count(pixels) + " pixels x 4 bytes",
        Mul(s.train_rows, pixels, 4));
  const uint64_t weights = Add(Add(16 * 26, 32 * (16 * 25 + 1)), Add(Mul(Add(Mul(sixteenth, 32), 1), 128), 129 * classes));
  b.Add("weights, gradients and Adam's moments: " + Count(weights) + " parameters x 4 x 4 bytes", Mul(weights, 16));
  const uint64_t batch = static_cast<uint64_t>(std::max<int64_t>(Int(p, "batch_size", 64), 1));
  const uint64_t per_image = Add(Add(Mul(pixels, 16 * 2), Mul(quarter, 16 + 32 * 2)), Add(Mul(sixteenth, 32), 128 * 2 + classes));
  b.Add("a mini-batch of " + Count(batch) + " images' layer outputs and gradients", Mul(batch, per_image, 4 * 2));
  b.Driver("batch_size");
  return b.Done();
}

// The largest value of integer parameter `name` from its schema minimum up to its
// current value with which the estimate fits `budget`; nullopt if none does.
std::optional<int64_t> LargestFitting(const std::string& model, const ParamSpec& spec, const DataShape& shape,
                                      json params, uint64_t budget) {
  int64_t lo = spec.min ? static_cast<int64_t>(*spec.min) : 0;
  int64_t hi = Int(params, spec.name.c_str(), lo);
  auto fits = [&](int64_t v) {
    params[spec.name] = v;
    return EstimateTrainingMemory(model, shape, params).bytes <= budget;
  };
  if (!fits(lo)) return std::nullopt;
  while (lo < hi) {  // fits(lo) holds
    int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// "dim at most 480 fits" / "bigrams false fits", for each driver that can.
std::string Suggestions(const std::string& model, const DataShape& shape, const json& params,
                        const std::vector<SearchDimension>& space, uint64_t budget) {
  const ModelInfo* info = FindModel(model);
  if (!info) return "";
  const std::vector<std::string> drivers = EstimateTrainingMemory(model, shape, params).drivers;
  std::vector<std::string> out;
  for (const ParamSpec& spec : info->params) {
    if (std::find(drivers.begin(), drivers.end(), spec.name) == drivers.end()) continue;
    const bool searched = std::any_of(space.begin(), space.end(), [&](const auto& d) { return d.name == spec.name; });
    const std::string name = searched ? spec.name + "'s upper_bound" : spec.name;
    if (spec.type == ParamType::kBoolean) {
      json p = params;
      p[spec.name] = false;
      if (params.value(spec.name, false) && EstimateTrainingMemory(model, shape, p).bytes <= budget) {
        out.push_back(name + " false");
      }
    } else if (spec.type == ParamType::kInteger) {
      std::optional<int64_t> v = LargestFitting(model, spec, shape, params, budget);
      if (v && *v < Int(params, spec.name.c_str(), 0)) {
        out.push_back(*v == (spec.min ? static_cast<int64_t>(*spec.min) : 0) ? name + " " + std::to_string(*v)
                                                                               : name + " at most " + std::to_string(*v));
      }
    }
  }
  if (out.empty()) return "no value of them fits this data: use fewer rows or input columns, or raise the budget";
  std::string s;
  for (size_t i = 0; i < out.size(); ++i) s += (i == 0 ? "" : " or ") + out[i];
  return "with the other parameters unchanged, " + s + " fits";
}

}  // namespace

json DataShape::ToJson() const {
  return {{"train_rows", train_rows}, {"held_rows", held_rows}, {"classes", classes}, {"features", features},
          {"bins", bins}, {"text_bytes", text_bytes}, {"words", words}, {"vocabulary", vocabulary}};
}

DataShape DataShape::FromJson(const json& j) {
  DataShape s;
  if (!j.is_object()) return s;
  auto get = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t{0};
  };
  s.train_rows = get("train_rows");
  s.held_rows = get("held_rows");
  s.classes = get("classes");
  s.features = get("features");
  s.bins = get("bins");
  s.text_bytes = get("text_bytes");
  s.words = get("words");
  s.vocabulary = get("vocabulary");
  return s;
}

DataShape MeasureShape(const Examples& x, size_t classes, const std::vector<const Examples*>& also_held) {
  DataShape s;
  s.train_rows = s.held_rows = x.rows;
  for (const Examples* e : also_held) {
    s.held_rows += e->rows;
    for (const std::string& t : e->texts) s.text_bytes += t.size();
  }
  s.classes = classes;
  s.features = x.cols;
  // Histogram bins: a feature's distinct values, at most 256 (XGBoost's max_bin).
  for (size_t c = 0; c < x.cols; ++c) {
    std::unordered_set<float> distinct;
    for (size_t r = 0; r < x.rows && distinct.size() < kMaxBins; ++r) {
      float v = x.x[r * x.cols + c];
      if (!std::isnan(v)) distinct.insert(v);
    }
    s.bins += std::max<size_t>(1, distinct.size());
  }
  // Words as fastText reads them: lower-cased, split on whitespace.
  std::unordered_set<std::string> vocabulary;
  for (const std::string& t : x.texts) {
    s.text_bytes += t.size();
    const std::string norm = NormalizeText(t);
    size_t i = 0;
    while (i < norm.size()) {
      while (i < norm.size() && norm[i] == ' ') ++i;
      size_t j = norm.find(' ', i);
      if (j == std::string::npos) j = norm.size();
      if (j > i) {
        ++s.words;
        vocabulary.emplace(norm, i, j - i);
      }
      i = j;
    }
  }
  s.vocabulary = vocabulary.size();
  return s;
}

MemoryEstimate EstimateTrainingMemory(const std::string& model, const DataShape& shape, const json& params) {
  if (model == "FastTextClassifier") return FastText(shape, params);
  if (model == "XGBoostClassifier" || model == "XGBoostRegressor") return XGBoost(shape, params);
  if (model == "LogisticRegression" || model == "LinearSVM" || model == "LinearSVR") return Linear(shape, params);
  if (model == "ConvNetClassifier") return ConvNet(shape, params);
  return {};
}

json WorstCaseParams(const ValidatedParams& params) {
  json p = params.values;
  for (const SearchDimension& d : params.search_space) {
    if (d.integer) p[d.name] = static_cast<int64_t>(std::floor(d.upper));
    else p[d.name] = d.upper;
  }
  return p;
}

Status CheckTrainingMemory(const std::string& model, const DataShape& shape, const ValidatedParams& params,
                           uint64_t budget) {
  if (budget == 0) return Status::Ok();
  const json p = WorstCaseParams(params);
  const MemoryEstimate e = EstimateTrainingMemory(model, shape, p);
  if (e.bytes <= budget) return Status::Ok();
  std::string msg = model + " needs about " + FormatBytes(e.bytes) + " of memory to train" +
                    (params.search_space.empty() ? " with these parameters" : " at the search's upper bounds") +
                    ", above the training memory budget of " + FormatBytes(budget) +
                    " (loupe serve --training-memory-mb). Most of it is the " + e.parts[0].what + " (" +
                    FormatBytes(e.parts[0].bytes) + ").";
  if (!e.drivers.empty()) {
    std::string names;
    for (size_t i = 0; i < e.drivers.size(); ++i) names += (i == 0 ? "" : " and ") + e.drivers[i];
    msg += " It grows with " + names + "; " + Suggestions(model, shape, p, params.search_space, budget) + ".";
  }
  return Status::InvalidArgument(msg);
}

Status CheckEncodedSize(const FeatureSpec& spec, uint64_t rows, uint64_t budget) {
  if (budget == 0 || spec.task == TaskKind::kTextClassification) return Status::Ok();
  const uint64_t bytes = Mul(rows, spec.NumFeatures(), kFloat);
  if (bytes <= budget) return Status::Ok();
  std::vector<const FeatureColumn*> wide;
  for (const FeatureColumn& c : spec.inputs) {
    if (c.type == datasets::ColumnType::kCategorical && c.categories.size() > 1) wide.push_back(&c);  // one-hot
  }
  std::stable_sort(wide.begin(), wide.end(),
                   [](const auto* a, const auto* b) { return a->categories.size() > b->categories.size(); });
  std::string msg = "the encoded inputs would take " + FormatBytes(bytes) + " (" + Count(rows) + " rows x " +
                    Count(spec.NumFeatures()) + " features x 4 bytes), above the training memory budget of " +
                    FormatBytes(budget) + " (loupe serve --training-memory-mb); choose fewer input columns";
  if (!wide.empty()) {
    msg += " (one-hot columns count once per category:";
    for (size_t i = 0; i < wide.size() && i < 3; ++i) {
      msg += std::string(i == 0 ? " " : ", ") + "\"" + wide[i]->name + "\" " + Count(wide[i]->categories.size());
    }
    msg += ")";
  }
  return Status::InvalidArgument(msg);
}

uint64_t DefaultTrainingMemoryBudget(uint64_t physical_bytes) {
  constexpr uint64_t kCap = 4ull << 30;
  if (physical_bytes == 0) return kCap;
  return std::min(physical_bytes / 2, kCap);
}

uint64_t PhysicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

}  // namespace loupe::training
