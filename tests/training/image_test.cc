// Image classification: scikit-learn's 8x8 digits (Debian python3-sklearn) as 64 pixel
// columns, a dlib convolutional network trained on them, saved and loaded, cancelled;
// the task's checks and the wizard's guess for pixel columns.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/temp_dir.h"
#include "datasets/image_columns.h"
#include "datasets/samples.h"
#include "training/metrics.h"
#include "training/model_catalog.h"
#include "training/session_guess.h"
#include "training/splits.h"
#include "training/table_from_csv.h"

namespace loupe::training {
namespace {

using nlohmann::json;

datasets::Table Digits() {
  auto content = datasets::ReadGzipFile("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz", 1 << 24);
  EXPECT_TRUE(content.ok());
  auto csv = datasets::DigitsToCsv(*content);
  EXPECT_TRUE(csv.ok()) << csv.status().message();
  return TableFromCsv(*csv);
}

std::vector<std::string> Pixels(const datasets::Table& t) { return datasets::PixelColumns(t); }

TEST(ImageTask, SquarePixelColumnsOnly) {
  datasets::Table t = Digits();
  ASSERT_EQ(Pixels(t).size(), 64u);
  EXPECT_EQ(datasets::ImageSide(64), 8);
  EXPECT_EQ(datasets::ImageSide(784), 28);
  EXPECT_EQ(datasets::ImageSide(63), 0);
  EXPECT_EQ(datasets::ImageSide(9), 0);  // 3x3 is too small to convolve
  std::vector<std::string> some = Pixels(t);
  some.pop_back();
  auto bad = PrepareForTask(t, TaskKind::kImageClassification, some, {"digit"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "ImageClassification needs the pixels of a square image as input columns (64 for 8x8, 784 for 28x28), got 63 column(s)");
  datasets::Table mixed = TableFromCsv("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,y\n" + std::string("1,2,3,4,5,6,7,8,9,1,2,3,4,5,6,x,a\n"));
  std::vector<std::string> cols = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"};
  auto text = PrepareForTask(mixed, TaskKind::kImageClassification, cols, {"y"});
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("ImageClassification takes numeric pixel columns"), std::string::npos);
}

TEST(ImageTask, TheWizardSeesImagesAndKeepsEveryPixel) {
  const json g = GuessSession(Digits());
  EXPECT_EQ(g["task"], "ImageClassification");
  EXPECT_EQ(g["output"], "digit");
  EXPECT_EQ(g["inputs"].size(), 64u);  // the blank corner pixels too
  EXPECT_TRUE(g["left_out"].empty()) << g["left_out"];
  // Other columns beside the pixels are left out with the reason, not dropped silently.
  std::string csv = "age,";
  for (int i = 0; i < 16; ++i) csv += "px" + std::to_string(i) + ",";
  csv += "label\n";
  for (int r = 0; r < 12; ++r) {
    csv += std::to_string(20 + r) + ",";
    for (int i = 0; i < 16; ++i) csv += std::to_string((r * 7 + i * 3) % 256) + ",";
    csv += (r % 2 ? "a\n" : "b\n");
  }
  const json mixed = GuessSession(TableFromCsv(csv));
  EXPECT_EQ(mixed["task"], "ImageClassification");
  EXPECT_EQ(mixed["inputs"].size(), 16u);
  ASSERT_EQ(mixed["left_out"].size(), 1u);
  EXPECT_EQ(mixed["left_out"][0], (json{{"column", "age"}, {"reason", "not a pixel: an image task reads the pixels alone"}}));
  // A chosen output: the guess for it.
  const json for_pixel = GuessSession(Digits(), "pixel_10");
  EXPECT_EQ(for_pixel["output"], "pixel_10");
  EXPECT_EQ(for_pixel["task"], "Regression");  // 17 distinct values
  json catalogue = json::array();
  for (int i = 0; i < 64; ++i) catalogue.push_back({{"name", "pixel_" + std::to_string(i)}, {"type", "numeric"}});
  EXPECT_TRUE(datasets::HasPixelColumns(catalogue));
  catalogue[3]["type"] = "text";  // 63 numeric pixels are not a square image
  EXPECT_FALSE(datasets::HasPixelColumns(catalogue));
  EXPECT_FALSE(datasets::HasPixelColumns(json("not a list")));
  const json rows = datasets::ImageRows(Digits(), 0, 2);
  EXPECT_EQ(rows["side"], 8);
  EXPECT_EQ(rows["label_column"], "digit");
  EXPECT_EQ(rows["images"][0]["label"], "0");
  EXPECT_EQ(rows["images"][0]["pixels"].size(), 64u);
  EXPECT_EQ(rows["images"][0]["pixels"][2], 5);  // digits.csv's first image: 0,0,5,13,9,1,0,0
}

TEST(ConvNet, LearnsDigitsRoundTripsAndStops) {
  datasets::Table t = Digits();
  auto data = PrepareForTask(t, TaskKind::kImageClassification, Pixels(t), {"digit"});
  ASSERT_TRUE(data.ok()) << data.status().message();
  auto split = *MakeSplit(data->examples.rows, {0.7, 0.15, 0.15}, 1, data->labels);
  Examples tr = data->examples.Take(split.train), va = data->examples.Take(split.validation),
           te = data->examples.Take(split.test);
  std::vector<int> ytr, yva, yte;
  for (size_t i : split.train) ytr.push_back(data->labels[i]);
  for (size_t i : split.validation) yva.push_back(data->labels[i]);
  for (size_t i : split.test) yte.push_back(data->labels[i]);
  TempDir dir;
  auto params = ValidateAndTransform(FindModel("ConvNetClassifier")->params, json{{"epochs", 8}});
  ASSERT_TRUE(params.ok());
  auto m = MakeModel("ConvNetClassifier", TaskKind::kImageClassification, 10, params->values, dir.path());
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<double> losses, accuracies;
  TrainData val{&va, &yva, nullptr};
  ASSERT_TRUE((*m)->Train({&tr, &ytr, nullptr}, &val, [&](const std::string& key, int64_t step, double v) {
                 if (key == "train/loss") losses.push_back(v);
                 if (key == "validation/accuracy") accuracies.push_back(v);
                 EXPECT_EQ(step, static_cast<int64_t>(key == "train/loss" ? losses.size() : accuracies.size()));
               }).ok());
  ASSERT_EQ(losses.size(), 8u);
  ASSERT_EQ(accuracies.size(), 8u);
  EXPECT_LT(losses.back(), losses.front() / 2);
  auto p = (*m)->Predict(te);
  ASSERT_TRUE(p.ok());
  const double acc = *Accuracy({10, yte, p->classes, p->proba});
  std::printf("ConvNetClassifier on 8x8 digits: test accuracy %.4f\n", acc);
  EXPECT_GE(acc, 0.9);
  for (const auto& row : p->proba) {
    double sum = 0;
    for (double v : row) sum += v;
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  ASSERT_TRUE((*m)->Save(dir.path() + "/model.dat").ok());
  auto loaded = MakeModel("ConvNetClassifier", TaskKind::kImageClassification, 10, params->values, dir.path());
  ASSERT_TRUE((*loaded)->Load(dir.path() + "/model.dat").ok());
  auto again = (*loaded)->Predict(te);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->classes, p->classes);
  for (size_t i = 0; i < p->proba.size(); ++i) {
    for (size_t c = 0; c < 10; ++c) EXPECT_NEAR(again->proba[i][c], p->proba[i][c], 1e-6);
  }
  // A file that is not one of its networks is refused, not misread.
  std::ofstream(dir.path() + "/junk.dat") << "not a network";
  EXPECT_EQ((*loaded)->Load(dir.path() + "/junk.dat").code(), Code::kCorrupt);
  // Asked to stop, it stops before the next mini-batch.
  auto stopped = MakeModel("ConvNetClassifier", TaskKind::kImageClassification, 10, params->values, dir.path());
  int asked = 0;
  Status st = (*stopped)->Train({&tr, &ytr, nullptr}, nullptr, {}, [&] { return ++asked > 3; });
  EXPECT_TRUE(IsCancelled(st)) << st.message();
  EXPECT_EQ(asked, 4);
}

}  // namespace
}  // namespace loupe::training
