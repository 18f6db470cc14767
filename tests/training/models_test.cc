// Tasks, parameter schemas, TF-IDF, the XGBoost and liblinear models, the
// hyperparameter search and its plots, on scikit-learn's bundled data sets (Debian
// python3-sklearn, installed by scripts/install-deps).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "common/file_util.h"
#include "common/temp_dir.h"
#include "datasets/column_types.h"
#include "datasets/samples.h"
#include "datasets/table_parser.h"
#include "training/evaluation.h"
#include "training/model_catalog.h"
#include "training/params.h"
#include "training/search.h"
#include "training/table_from_csv.h"
#include "training/search_plots.h"
#include "training/splits.h"
#include "training/task.h"
#include "training/tfidf.h"

namespace loupe::training {
namespace {

using datasets::ColumnType;
using nlohmann::json;

datasets::Table Sample(const std::string& name) {
  for (const auto& s : datasets::BuiltinSamples()) {
    if (s.name != name) continue;
    auto content = ReadFileUpTo("/usr/lib/python3/dist-packages/sklearn/datasets/data/" + s.file, 1 << 24);
    EXPECT_TRUE(content.ok());
    return TableFromCsv(*datasets::SklearnCsvToCsv(*content, s));
  }
  ADD_FAILURE() << "no sample " << name;
  return {};
}

std::vector<std::string> AllBut(const datasets::Table& t, const std::string& out) {
  std::vector<std::string> in;
  for (const auto& c : t.columns) {
    if (c.name != out) in.push_back(c.name);
  }
  return in;
}

// ---- tasks ----

TEST(Task, ParsesDashAiNames) {
  EXPECT_EQ(*ParseTask("TextClassification"), TaskKind::kTextClassification);
  EXPECT_EQ(*ParseTask("TabularClassificationTask"), TaskKind::kTabularClassification);
  EXPECT_FALSE(ParseTask("Clustering").ok());
}

TEST(Task, PreciseErrors) {
  datasets::Table t = TableFromCsv("x,color,label,note,price\n1,red,a,hello there,1.5\n2,blue,b,general kenobi,2.5\n"
                                   "3,red,a,another text,3.5\n4,green,b,more words,4.25\n");
  auto msg = [&](TaskKind k, std::vector<std::string> in, std::vector<std::string> out) {
    auto r = PrepareForTask(t, k, in, out);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"nope"}, {"label"}).find("input column \"nope\" is not in the dataset"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"x"}, {"gone"}).find("output column \"gone\" is not in the dataset"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTabularClassification, {}, {"label"}).find("input_columns"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"x"}, {"label", "color"}).find("exactly one"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"label"}, {"label"}).find("both an input and the output"), std::string::npos);
  t.columns[3].type = ColumnType::kText;
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"note"}, {"label"}).find("is text"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTextClassification, {"x"}, {"label"}).find("is numeric; TextClassification"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kRegression, {"x"}, {"label"}).find("Regression needs a numeric output"), std::string::npos);
  EXPECT_NE(msg(TaskKind::kTabularClassification, {"x"}, {"price"}).find("non-integer value 1.5"), std::string::npos);
  datasets::Table one = TableFromCsv("x,label\n1,a\n2,a\n3,a\n");
  auto single = PrepareForTask(one, TaskKind::kTabularClassification, {"x"}, {"label"});
  ASSERT_FALSE(single.ok());
  EXPECT_NE(single.status().message().find("single class (\"a\")"), std::string::npos);
}

TEST(Task, OneHotEncodesCategoriesAndEncodesNewRowsTheSameWay) {
  datasets::Table t = TableFromCsv("x,color,label\n1,red,a\n2,blue,b\n3,red,a\n,green,b\n5,red,\n");
  auto d = PrepareForTask(t, TaskKind::kTabularClassification, {"x", "color"}, {"label"});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->dropped_rows, 1u);  // the row with no label
  EXPECT_EQ(d->examples.rows, 4u);
  ASSERT_EQ(d->examples.cols, 4u);  // x + three colours
  EXPECT_EQ(d->spec.classes, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(std::isnan(d->examples.x[3 * 4 + 0]));  // the missing x stays missing
  auto names = d->spec.FeatureNames();
  auto red = std::find(names.begin(), names.end(), "color=red") - names.begin();
  auto spec = FeatureSpec::FromJson(d->spec.ToJson());
  ASSERT_TRUE(spec.ok());
  auto rows = EncodeRows(*spec, json::parse(R"([{"x": 7, "color": "red"}, {"color": "purple"}])"));
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->x[0], 7.0f);
  EXPECT_EQ(rows->x[static_cast<size_t>(red)], 1.0f);
  EXPECT_TRUE(std::isnan(rows->x[4]));
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(rows->x[4 + i], 0.0f);  // an unseen colour: all zeros
  // "NA" and "" in a JSON row are missing, as the same cells in an uploaded file are.
  auto na = EncodeRows(*spec, json::parse(R"([{"x": "NA", "color": "red"}, {"x": "", "color": "N/A"}])"));
  ASSERT_TRUE(na.ok()) << na.status().message();
  EXPECT_TRUE(std::isnan(na->x[0]));
  EXPECT_EQ(na->x[static_cast<size_t>(red)], 1.0f);
  EXPECT_TRUE(std::isnan(na->x[4]));
  auto bad = EncodeRows(*spec, json::parse(R"([{"x": "seven"}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input column \"x\""), std::string::npos);
}

// ---- parameters ----

TEST(Params, FillsDefaultsAndNamesTheBrokenRule) {
  const ModelInfo* xgb = FindModel("XGBoostClassifier");
  ASSERT_NE(xgb, nullptr);
  auto v = ValidateAndTransform(xgb->params, json::object());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->values["max_depth"], 6);
  auto msg = [&](const json& j) {
    auto r = ValidateAndTransform(xgb->params, j);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(msg({{"max_depth", 0.5}}), "max_depth must be an integer from 1 to 30 (got 0.5)");
  EXPECT_EQ(msg({{"max_depth", "deep"}}), "max_depth must be an integer from 1 to 30 (got \"deep\")");
  EXPECT_EQ(msg({{"learning_rate", 2}}), "learning_rate must be a number from 0.0001 to 1 (got 2)");
  EXPECT_EQ(msg({{"tree_method", "gpu"}}), "tree_method must be one of hist, approx, exact (got \"gpu\")");
  EXPECT_NE(msg({{"depth", 3}}).find("unknown parameter \"depth\""), std::string::npos);
  EXPECT_EQ(msg({{"max_depth", 4.0}}), "ok");  // integral numbers are integers
  EXPECT_NE(msg({{"tree_method", {{"optimize", true}}}}).find("cannot be optimized"), std::string::npos);
  EXPECT_NE(msg({{"max_depth", {{"optimize", true}, {"lower_bound", 5}, {"upper_bound", 2}}}}).find("must be below"), std::string::npos);
  EXPECT_NE(msg({{"max_depth", {{"optimize", true}, {"lower_bound", 0}}}}).find("lower_bound of max_depth"), std::string::npos);
}

TEST(Params, OptimizeFormBuildsTheSearchSpace) {
  const ModelInfo* xgb = FindModel("XGBoostClassifier");
  auto v = ValidateAndTransform(xgb->params, {{"max_depth", {{"optimize", true}, {"lower_bound", 2}, {"upper_bound", 8}}},
                                              {"learning_rate", {{"optimize", true}}},
                                              {"subsample", {{"optimize", false}, {"fixed_value", 0.5}}}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->search_space.size(), 2u);
  EXPECT_EQ(v->search_space[0].name, "max_depth");
  EXPECT_TRUE(v->search_space[0].integer);
  // Without bounds: the range practitioners tune over, not everything the library takes.
  EXPECT_EQ(v->search_space[1].lower, 5e-3);
  EXPECT_EQ(v->search_space[1].upper, 0.3);
  EXPECT_TRUE(v->search_space[1].log_scale);
  // Explicit bounds may still reach the library's limits.
  auto wide = ValidateAndTransform(xgb->params, {{"n_estimators", {{"optimize", true}, {"lower_bound", 1}, {"upper_bound", 5000}}}});
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->search_space[0].upper, 5000);
  auto trees = ValidateAndTransform(xgb->params, {{"n_estimators", {{"optimize", true}}}, {"gamma", {{"optimize", true}}}});
  ASSERT_TRUE(trees.ok());
  EXPECT_EQ(trees->search_space[0].lower, 10);
  EXPECT_EQ(trees->search_space[0].upper, 500);
  EXPECT_TRUE(trees->search_space[0].log_scale);
  EXPECT_EQ(trees->search_space[1].upper, 64);
  const json schema = SchemaJson(xgb->params);
  EXPECT_EQ(schema["properties"]["max_depth"]["search_range"], json::array({1, 11}));
  EXPECT_EQ(schema["properties"]["max_depth"]["maximum"], 30);
  EXPECT_EQ(v->values["subsample"], 0.5);
}

// ---- TF-IDF ----

TEST(Tfidf, MatchesScikitLearnSmoothIdfAndL2Norm) {
  TfidfVectorizer v({100, 1, false, false});
  ASSERT_TRUE(v.Fit({"the cat sat", "the dog sat", "the cat ran"}).ok());
  EXPECT_EQ(v.size(), 5u);  // cat dog ran sat the
  auto row = v.Transform("the cat");
  ASSERT_EQ(row.size(), 2u);
  // idf(cat) = ln(4/3) + 1, idf(the) = ln(4/4) + 1 = 1; then l2-normalised.
  double cat = std::log(4.0 / 3.0) + 1, the = 1.0, norm = std::sqrt(cat * cat + the * the);
  EXPECT_NEAR(row[0].second, cat / norm, 1e-12);
  EXPECT_NEAR(row[1].second, the / norm, 1e-12);
  auto round = TfidfVectorizer::FromJson(v.ToJson());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->Transform("the cat"), row);
}

// ---- models ----

struct Splitted {
  PreparedData data;
  Examples train_x, test_x;
  std::vector<int> train_y, test_y;
};

Splitted Prepare(const std::string& sample, const std::string& target) {
  datasets::Table t = Sample(sample);
  Splitted s{*PrepareForTask(t, TaskKind::kTabularClassification, AllBut(t, target), {target}), {}, {}, {}, {}};
  auto split = *MakeSplit(s.data.examples.rows, {0.8, 0, 0.2}, 7, s.data.labels);
  s.train_x = s.data.examples.Take(split.train);
  s.test_x = s.data.examples.Take(split.test);
  for (size_t i : split.train) s.train_y.push_back(s.data.labels[i]);
  for (size_t i : split.test) s.test_y.push_back(s.data.labels[i]);
  return s;
}

void ExpectTrainsAndRoundTrips(const std::string& model, const std::string& sample, const std::string& target,
                               double min_accuracy) {
  Splitted s = Prepare(sample, target);
  TempDir dir;
  const int k = static_cast<int>(s.data.spec.classes.size());
  auto params = ValidateAndTransform(FindModel(model)->params, json::object());
  auto m = MakeModel(model, TaskKind::kTabularClassification, k, params->values, dir.path());
  ASSERT_TRUE(m.ok());
  std::vector<std::string> curve_keys;
  ASSERT_TRUE((*m)->Train({&s.train_x, &s.train_y, nullptr}, nullptr,
                          [&](const std::string& key, int64_t, double) { curve_keys.push_back(key); }).ok());
  auto p = (*m)->Predict(s.test_x);
  ASSERT_TRUE(p.ok());
  double acc = *Accuracy({k, s.test_y, p->classes, p->proba});
  std::printf("%s on %s: test accuracy %.4f\n", model.c_str(), sample.c_str(), acc);
  EXPECT_GE(acc, min_accuracy);
  if (model.rfind("XGBoost", 0) == 0) {
    EXPECT_FALSE(curve_keys.empty());  // one loss per boosting round
  }
  const std::string file = dir.path() + "/model";
  ASSERT_TRUE((*m)->Save(file).ok());
  auto loaded = MakeModel(model, TaskKind::kTabularClassification, k, params->values, dir.path());
  ASSERT_TRUE((*loaded)->Load(file).ok());
  auto again = (*loaded)->Predict(s.test_x);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->classes, p->classes);
  ASSERT_EQ(again->proba.size(), p->proba.size());
  for (size_t i = 0; i < p->proba.size(); ++i) {
    for (size_t c = 0; c < p->proba[i].size(); ++c) EXPECT_NEAR(again->proba[i][c], p->proba[i][c], 1e-6);
  }
}

TEST(Models, XGBoostOnBreastCancer) { ExpectTrainsAndRoundTrips("XGBoostClassifier", "breast_cancer", "diagnosis", 0.93); }
TEST(Models, XGBoostOnWine) { ExpectTrainsAndRoundTrips("XGBoostClassifier", "wine", "cultivar", 0.9); }
// liblinear is one-vs-rest: scikit-learn's LogisticRegression(solver="liblinear") on standardised
// iris scores 0.83-0.93 over 5 folds (lbfgs, multinomial, about 0.96).
TEST(Models, LogisticRegressionOnIris) { ExpectTrainsAndRoundTrips("LogisticRegression", "iris", "species", 0.8); }
TEST(Models, LinearSvmOnBreastCancer) { ExpectTrainsAndRoundTrips("LinearSVM", "breast_cancer", "diagnosis", 0.93); }

TEST(Models, RegressionWithXGBoostAndLinearSvr) {
  // Predict a wine's proline from the other measurements.
  datasets::Table t = Sample("wine");
  auto in = AllBut(t, "proline");
  in.erase(std::find(in.begin(), in.end(), "cultivar"));
  auto d = PrepareForTask(t, TaskKind::kRegression, in, {"proline"});
  ASSERT_TRUE(d.ok()) << d.status().message();
  auto split = *MakeSplit(d->examples.rows, {0.8, 0, 0.2}, 3);
  Examples tr = d->examples.Take(split.train), te = d->examples.Take(split.test);
  std::vector<double> ytr, yte;
  for (size_t i : split.train) ytr.push_back(d->targets[i]);
  for (size_t i : split.test) yte.push_back(d->targets[i]);
  TempDir dir;
  for (const std::string name : {"XGBoostRegressor", "LinearSVR"}) {
    auto params = ValidateAndTransform(FindModel(name)->params, name == "LinearSVR" ? json{{"C", 10}, {"epsilon", 0}} : json::object());
    ASSERT_TRUE(params.ok()) << params.status().message();
    auto m = MakeModel(name, TaskKind::kRegression, 0, params->values, dir.path());
    ASSERT_TRUE((*m)->Train({&tr, nullptr, &ytr}, nullptr, {}).ok());
    auto p = (*m)->Predict(te);
    double r2 = *R2({yte, p->values});
    std::printf("%s on wine proline: test R2 %.3f\n", name.c_str(), r2);
    EXPECT_GT(r2, 0.3) << name;
  }
}

TEST(Models, CatalogRefusesAModelForTheWrongTask) {
  auto m = MakeModel("FastTextClassifier", TaskKind::kRegression, 0, json::object(), "/tmp");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("does not fit the task Regression"), std::string::npos);
}

TEST(Evaluation, MetricsAreCheckedAgainstTaskAndProbabilities) {
  EXPECT_TRUE(CheckMetrics(TaskKind::kTabularClassification, {"Accuracy", "F1_weighted", "ROCAUC"}, true, "m").ok());
  auto wrong = CheckMetrics(TaskKind::kRegression, {"Accuracy"}, true, "test_metrics");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("test_metrics: \"Accuracy\" is not a Regression metric"), std::string::npos);
  auto proba = CheckMetrics(TaskKind::kTabularClassification, {"LogLoss"}, false, "goal_metric");
  ASSERT_FALSE(proba.ok());
  EXPECT_NE(proba.message().find("needs class probabilities"), std::string::npos);
  EXPECT_FALSE(HigherIsBetter("RMSE"));
  EXPECT_TRUE(HigherIsBetter("R2"));
}

// ---- search ----

// A smooth function with its maximum at x = 3, y = 0.01 (log scale).
Result<double> Bowl(const json& p, json& metrics) {
  double x = p["x"].get<double>(), y = std::log10(p["y"].get<double>());
  metrics["x"] = x;
  return -((x - 3) * (x - 3)) - (y + 2) * (y + 2);
}

std::vector<SearchDimension> BowlSpace() { return {{"x", 0, 10, true, false}, {"y", 1e-5, 1, false, true}}; }

TEST(Search, EveryOptimizerFindsTheBowlAndKeepsTheBestTrial) {
  for (const std::string opt : {"RandomSearchOptimizer", "GridSearchOptimizer", "DlibGlobalOptimizer"}) {
    SearchOptions o;
    o.optimizer = opt;
    o.trials = 40;
    o.grid_points = 11;
    int seen = 0;
    auto r = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, Bowl, [&](const Trial&) { ++seen; });
    ASSERT_TRUE(r.ok()) << opt;
    EXPECT_EQ(seen, 40) << opt;
    ASSERT_GE(r->best, 0);
    double best = -1e9;
    for (const Trial& t : r->trials) best = std::max(best, t.value);
    EXPECT_EQ(r->trials[static_cast<size_t>(r->best)].value, best) << opt;
    EXPECT_GT(best, -1.0) << opt;
    EXPECT_TRUE(r->trials[0].params["x"].is_number_integer()) << opt;
    std::printf("%s: best %.4f at x=%s\n", opt.c_str(), best, r->trials[static_cast<size_t>(r->best)].params["x"].dump().c_str());
  }
}

TEST(Search, DlibIsSeededAndTheTimeBudgetStopsIt) {
  SearchOptions o;
  o.optimizer = "DlibGlobalOptimizer";
  o.trials = 15;
  o.seed = 5;
  auto a = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, Bowl, {});
  auto b = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, Bowl, {});
  for (size_t i = 0; i < a->trials.size(); ++i) EXPECT_EQ(a->trials[i].params, b->trials[i].params);
  o.trials = 1000;
  o.time_budget_s = 0.2;
  auto slow = [](const json& p, json& m) -> Result<double> {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return Bowl(p, m);
  };
  auto c = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, slow, {});
  EXPECT_LE(c->trials.size(), 6u);
}

TEST(Search, FailedTrialsAreKeptWithTheirErrorAndNeverBest) {
  SearchOptions o;
  o.trials = 10;
  auto r = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, [](const json& p, json& m) -> Result<double> {
    if (p["x"].get<int>() % 2) return Status::InvalidArgument("odd x");
    return Bowl(p, m);
  }, {});
  int failed = 0;
  for (const Trial& t : r->trials) failed += !t.error.empty();
  EXPECT_GT(failed, 0);
  EXPECT_TRUE(r->trials[static_cast<size_t>(r->best)].error.empty());
}

// A full 3 x 3 grid: eta^2 per parameter with each level one group (numpy, grouping
// equal values: 0.862414338429098 and 0.03531892461781742), not normalised to sum to 1.
TEST(SearchPlots, ImportanceOfAGridGroupsEqualValuesAndIsNotNormalised) {
  const double a[] = {1, 2, 3}, b[] = {0.01, 0.1, 1.0};
  const double v[3][3] = {{0.70, 0.72, 0.69}, {0.80, 0.78, 0.83}, {0.81, 0.90, 0.86}};
  std::vector<Trial> trials;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      Trial t;
      t.number = i * 3 + j;
      t.params = {{"x", a[i]}, {"y", b[j]}};
      t.value = v[i][j];
      trials.push_back(t);
    }
  }
  auto importance = ParameterImportance(trials, BowlSpace());
  ASSERT_EQ(importance.size(), 2u);
  EXPECT_EQ(importance[0].first, "x");
  EXPECT_NEAR(*importance[0].second, 0.862414338429098, 1e-12);
  EXPECT_EQ(importance[1].first, "y");
  EXPECT_NEAR(*importance[1].second, 0.03531892461781742, 1e-12);
  auto fig = *MakeSearchPlot(SearchPlot::kImportance, trials, BowlSpace(), "F1", true);
  EXPECT_EQ(fig["data"][0]["y"], json({"y", "x"}));
  EXPECT_NEAR(fig["data"][0]["x"][1].get<double>(), 0.862414338429098, 1e-12);
  EXPECT_EQ(fig["layout"]["xaxis"]["range"], json({0, 1}));

  // Every trial scoring the same leaves nothing to explain: no 0.5 / 0.5.
  for (Trial& t : trials) t.value = 0.9;
  importance = ParameterImportance(trials, BowlSpace());
  EXPECT_FALSE(importance[0].second.has_value());
  EXPECT_FALSE(importance[1].second.has_value());
  auto none = MakeSearchPlot(SearchPlot::kImportance, trials, BowlSpace(), "F1", true);
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("no variance"), std::string::npos);
}

TEST(SearchPlots, AllFourFiguresAndImportanceFindsTheParameterThatMatters) {
  SearchOptions o;
  o.trials = 50;
  // Only x matters here.
  auto r = RunSearch(BowlSpace(), {{"x", 0}, {"y", 1}}, o, true, [](const json& p, json& m) -> Result<double> {
    return -std::abs(p["x"].get<double>() - 3);
  }, {});
  auto importance = ParameterImportance(r->trials, BowlSpace());
  EXPECT_EQ(importance[0].first, "x");
  EXPECT_GT(importance[0].second.value_or(0), 0.8);
  for (auto kind : {SearchPlot::kHistory, SearchPlot::kSlice, SearchPlot::kContour, SearchPlot::kImportance}) {
    auto fig = MakeSearchPlot(kind, r->trials, BowlSpace(), "F1", true);
    ASSERT_TRUE(fig.ok()) << SearchPlotName(kind);
    EXPECT_FALSE((*fig)["data"].empty());
    EXPECT_TRUE((*fig)["layout"].contains("title"));
  }
  auto history = *MakeSearchPlot(SearchPlot::kHistory, r->trials, BowlSpace(), "F1", true);
  const json& best = history["data"][1]["y"];
  for (size_t i = 1; i < best.size(); ++i) EXPECT_GE(best[i].get<double>(), best[i - 1].get<double>());
  auto one = MakeSearchPlot(SearchPlot::kContour, r->trials, {BowlSpace()[0]}, "F1", true);
  EXPECT_EQ(one.status().code(), Code::kNotFound);
  EXPECT_FALSE(ParseSearchPlot("pie").ok());
  EXPECT_EQ(*ParseSearchPlot("4"), SearchPlot::kImportance);
}

}  // namespace
}  // namespace loupe::training
