#include "training/fasttext_classifier.h"

#include <cmath>

#include "training/fasttext_model.h"
#include "training/model_catalog.h"

namespace loupe::training {

namespace {

class FastTextClassifier : public Model {
 public:
  FastTextClassifier(int num_classes, const nlohmann::json& p, std::string work_dir)
      : num_classes_(num_classes), work_dir_(std::move(work_dir)) {
    params_.lr = p.value("lr", params_.lr);
    params_.epoch = p.value("epoch", params_.epoch);
    params_.dim = p.value("dim", params_.dim);
    params_.word_ngrams = p.value("word_ngrams", params_.word_ngrams);
    params_.min_count = p.value("min_count", params_.min_count);
    params_.loss = p.value("loss", params_.loss);
    params_.threads = p.value("threads", params_.threads);
    params_.seed = p.value("seed", params_.seed);
  }

  Status Train(const TrainData& train, const TrainData*, const CurveCallback& curve, const StopRequested& stop) override {
    // fastText reports progress many times a second; the curve keeps one point per
    // percent of training (step = percent done, 0-100). fastText's loss is a running
    // average and its last report comes just before the end, so that value is also the
    // point at 100, where fastText's own CLI prints it as the final avg.loss.
    int last = -1;
    double last_loss = std::nan("");
    TrainProgress progress = [&](double prog, double loss) {
      if (stop && stop()) return false;
      if (!std::isfinite(loss) || loss < 0) return true;  // fastText says -1 until its first loss
      last_loss = loss;
      const int percent = std::clamp(static_cast<int>(std::floor(prog * 100)), 0, 100);
      if (!curve || percent == last) return true;
      last = percent;
      curve("train/loss", percent, loss);
      return true;
    };
    Result<FastTextModel> m =
        FastTextModel::Train(train.examples->texts, *train.labels, num_classes_, params_, work_dir_, progress);
    if (stop && stop()) return Cancelled();
    if (!m.ok()) return m.status();
    if (curve && last < 100 && std::isfinite(last_loss)) curve("train/loss", 100, last_loss);
    model_ = std::move(*m);
    trained_ = true;
    return Status::Ok();
  }

  Result<Predictions> Predict(const Examples& x) const override {
    if (!trained_) return Status::Conflict("the model is not trained");
    Predictions p;
    for (const std::string& t : x.texts) {
      std::vector<double> pr = model_.PredictProba(t);
      int best = 0;
      for (size_t k = 1; k < pr.size(); ++k) {
        if (pr[k] > pr[static_cast<size_t>(best)]) best = static_cast<int>(k);
      }
      p.classes.push_back(best);
      p.proba.push_back(std::move(pr));
    }
    return p;
  }

  Status Save(const std::string& path) const override { return model_.Save(path); }

  Status Load(const std::string& path) override {
    LOUPE_ASSIGN_OR_RETURN(FastTextModel m, FastTextModel::Load(path, num_classes_));
    model_ = std::move(m);
    trained_ = true;
    return Status::Ok();
  }

 private:
  int num_classes_;
  std::string work_dir_;
  FastTextParams params_;
  FastTextModel model_;
  bool trained_ = false;
};

}  // namespace

std::unique_ptr<Model> MakeFastTextClassifier(int num_classes, const nlohmann::json& params, const std::string& work_dir) {
  return std::make_unique<FastTextClassifier>(num_classes, params, work_dir);
}

}  // namespace loupe::training
