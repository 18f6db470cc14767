#include "training/cnn_classifier.h"

#include <dlib/dnn.h>

#include "datasets/image_columns.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

namespace loupe::training {

namespace {

// Filters and hidden units are fixed by the type; the class count is set when the
// net is made (num_fc_outputs). Padding keeps each 5x5 convolution's output the size
// of its input, so 28x28 -> 14x14 -> 7x7 and 8x8 -> 4x4 -> 2x2 after the poolings.
template <long Filters1, long Filters2, long Hidden>
using ConvNet = dlib::loss_multiclass_log<dlib::fc<
    10, dlib::relu<dlib::fc<
            Hidden, dlib::max_pool<
                        2, 2, 2, 2,
                        dlib::relu<dlib::con<
                            Filters2, 5, 5, 1, 1,
                            dlib::max_pool<2, 2, 2, 2,
                                           dlib::relu<dlib::con<Filters1, 5, 5, 1, 1,
                                                                dlib::input<dlib::matrix<float>>>>>>>>>>>>;
using Net = ConvNet<16, 32, 128>;

class CnnClassifier : public Model {
 public:
  CnnClassifier(int num_classes, const nlohmann::json& p) : num_classes_(num_classes) {
    epochs_ = p.value("epochs", epochs_);
    learning_rate_ = p.value("learning_rate", learning_rate_);
    batch_size_ = p.value("batch_size", batch_size_);
    seed_ = p.value("seed", seed_);
  }

  Status Train(const TrainData& train, const TrainData* validation, const CurveCallback& curve,
               const StopRequested& stop) override {
    const Examples& x = *train.examples;
    LOUPE_RETURN_IF_ERROR(SetShape(x.cols));
    if (x.rows == 0) return Status::InvalidArgument("no training images");
    // Pixels scaled to [0, 1] by the largest training value (255 for 8-bit images).
    float top = 0;
    for (float v : x.x) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
    scale_ = top > 0 ? 1.0f / top : 1.0f;
    const std::vector<dlib::matrix<float>> images = Images(x);
    std::vector<unsigned long> labels(train.labels->begin(), train.labels->end());
    std::vector<dlib::matrix<float>> val_images;
    if (validation && validation->examples->rows > 0) val_images = Images(*validation->examples);

    dlib::set_dnn_prefer_smallest_algorithms();
    net_ = std::make_unique<Net>(dlib::num_fc_outputs(static_cast<unsigned long>(num_classes_)));
    dlib::dnn_trainer<Net, dlib::adam> trainer(*net_, dlib::adam(0.0005, 0.9, 0.999));
    trainer.set_learning_rate(learning_rate_);
    trainer.set_min_learning_rate(learning_rate_ * 1e-3);
    trainer.set_mini_batch_size(static_cast<unsigned long>(batch_size_));
    trainer.set_iterations_without_progress_threshold(1u << 30);  // epochs are counted here, not by dlib

    std::mt19937_64 rng(static_cast<uint64_t>(seed_));
    std::vector<size_t> order(images.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::vector<dlib::matrix<float>> batch_x;
    std::vector<unsigned long> batch_y;
    for (int epoch = 1; epoch <= epochs_; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      double loss_sum = 0;
      size_t batches = 0;
      for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size_)) {
        if (stop && stop()) return Cancelled();
        batch_x.clear();
        batch_y.clear();
        for (size_t i = start; i < std::min(order.size(), start + static_cast<size_t>(batch_size_)); ++i) {
          batch_x.push_back(images[order[i]]);
          batch_y.push_back(labels[order[i]]);
        }
        trainer.train_one_step(batch_x, batch_y);
        loss_sum += trainer.get_average_loss();
        ++batches;
      }
      trainer.get_net();  // waits for the trainer's thread: the net is this epoch's
      if (curve) {
        curve("train/loss", epoch, batches ? loss_sum / static_cast<double>(batches) : std::nan(""));
        if (!val_images.empty()) {
          Predictions p = Classify(val_images);
          size_t right = 0;
          for (size_t i = 0; i < p.classes.size(); ++i) right += p.classes[i] == (*validation->labels)[i] ? 1 : 0;
          curve("validation/accuracy", epoch, static_cast<double>(right) / static_cast<double>(p.classes.size()));
        }
      }
    }
    trainer.get_net();
    net_->clean();
    return Status::Ok();
  }

  Result<Predictions> Predict(const Examples& x) const override {
    if (!net_) return Status::Conflict("the model is not trained");
    if (static_cast<long>(x.cols) != side_ * side_) {
      return Status::InvalidArgument("expected " + std::to_string(side_ * side_) + " pixel values an image, got " +
                                     std::to_string(x.cols));
    }
    return Classify(Images(x));
  }

  Status Save(const std::string& path) const override {
    if (!net_) return Status::Conflict("the model is not trained");
    try {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      dlib::serialize(std::string("loupe-cnn-1"), out);
      dlib::serialize(static_cast<long>(side_), out);
      dlib::serialize(scale_, out);
      dlib::serialize(static_cast<long>(num_classes_), out);
      dlib::serialize(*net_, out);
      if (!out.flush()) return Status::Internal("cannot write " + path);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("cannot save the network: ") + e.what());
    }
    return Status::Ok();
  }

  Status Load(const std::string& path) override {
    try {
      std::ifstream in(path, std::ios::binary);
      if (!in) return Status::NotFound("no model file " + path);
      std::string magic;
      long side = 0, classes = 0;
      dlib::deserialize(magic, in);
      if (magic != "loupe-cnn-1") return Status::Corrupt("not a Loupe image classifier file");
      dlib::deserialize(side, in);
      dlib::deserialize(scale_, in);
      dlib::deserialize(classes, in);
      if (classes != num_classes_) return Status::Corrupt("the network has " + std::to_string(classes) + " classes, the run " + std::to_string(num_classes_));
      auto net = std::make_unique<Net>();
      dlib::deserialize(*net, in);
      side_ = side;
      net_ = std::move(net);
    } catch (const std::exception& e) {
      return Status::Corrupt(std::string("cannot load the network: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  Status SetShape(size_t cols) {
    const int side = datasets::ImageSide(cols);
    if (side == 0) {
      return Status::InvalidArgument("an image needs a square number of pixel columns (at least 16), got " + std::to_string(cols));
    }
    side_ = side;
    return Status::Ok();
  }

  std::vector<dlib::matrix<float>> Images(const Examples& x) const {
    std::vector<dlib::matrix<float>> out(x.rows);
    for (size_t r = 0; r < x.rows; ++r) {
      out[r].set_size(side_, side_);
      const float* px = x.x.data() + r * x.cols;
      for (long i = 0; i < side_ * side_; ++i) {
        const float v = px[i];
        out[r](i / side_, i % side_) = std::isfinite(v) ? v * scale_ : 0.0f;  // a missing pixel is black
      }
    }
    return out;
  }

  // Class probabilities: a softmax over the last layer's outputs, in batches.
  Predictions Classify(const std::vector<dlib::matrix<float>>& images) const {
    Predictions p;
    dlib::resizable_tensor in;
    constexpr size_t kBatch = 256;
    for (size_t start = 0; start < images.size(); start += kBatch) {
      const size_t end = std::min(images.size(), start + kBatch);
      net_->to_tensor(images.begin() + static_cast<std::ptrdiff_t>(start), images.begin() + static_cast<std::ptrdiff_t>(end), in);
      const dlib::tensor& out = net_->subnet().forward(in);
      const float* h = out.host();
      const long k = out.k();
      for (long i = 0; i < out.num_samples(); ++i) {
        const float* s = h + i * k;
        const float top = *std::max_element(s, s + k);
        std::vector<double> prob(static_cast<size_t>(k));
        double sum = 0;
        for (long j = 0; j < k; ++j) sum += prob[static_cast<size_t>(j)] = std::exp(static_cast<double>(s[j] - top));
        for (double& v : prob) v /= sum;
        p.classes.push_back(static_cast<int>(std::max_element(prob.begin(), prob.end()) - prob.begin()));
        p.proba.push_back(std::move(prob));
      }
    }
    return p;
  }

  int num_classes_;
  int epochs_ = 6;
  double learning_rate_ = 0.001;
  int batch_size_ = 64;
  int seed_ = 0;
  long side_ = 0;
  float scale_ = 1.0f;
  // Forward passes write the net's layer outputs: one prediction at a time (the run
  // service holds a lock per loaded model).
  mutable std::unique_ptr<Net> net_;
};

}  // namespace

std::unique_ptr<Model> MakeCnnClassifier(int num_classes, const nlohmann::json& params) {
  return std::make_unique<CnnClassifier>(num_classes, params);
}

}  // namespace loupe::training
