// Text classification with fastText (Debian's libfasttext): trains a supervised model
// on texts and class ids, predicts class probabilities, saves and loads the model.
// Texts are lower-cased and put on one line (fastText reads a line per example).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace fasttext {
class FastText;
}

namespace loupe::training {

struct FastTextParams {
  double lr = 0.1;         // fastText's supervised defaults
  int epoch = 5;
  int dim = 100;
  int word_ngrams = 1;
  int min_count = 1;
  int bucket = 2000000;
  std::string loss = "softmax";  // softmax | ns | hs | ova
  // One thread by default: fastText's multi-threaded SGD (hogwild) trains a different
  // model on every run (SpamAssassin test macro-F1 0.946-0.978 with 2 threads), one
  // thread trains the same model every time. 0: every core.
  int threads = 1;
  int seed = 0;
};

// progress in [0, 1] and the running training loss, as fastText reports them; return
// false to stop training (Train then fails with "fastText: Aborted.").
using TrainProgress = std::function<bool(double progress, double loss)>;

class FastTextModel {
 public:
  FastTextModel();
  ~FastTextModel();
  FastTextModel(FastTextModel&&) noexcept;
  FastTextModel& operator=(FastTextModel&&) noexcept;

  // `work_dir` receives the training file fastText reads.
  static Result<FastTextModel> Train(const std::vector<std::string>& texts, const std::vector<int>& labels,
                                     int num_classes, const FastTextParams& params, const std::string& work_dir,
                                     const TrainProgress& progress = {});
  static Result<FastTextModel> Load(const std::string& path, int num_classes);

  // One probability per class id (0..num_classes-1).
  std::vector<double> PredictProba(const std::string& text) const;
  Status Save(const std::string& path) const;

 private:
  std::unique_ptr<fasttext::FastText> ft_;
  int num_classes_ = 0;
};

std::string NormalizeText(const std::string& text);

}  // namespace loupe::training
