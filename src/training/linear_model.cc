#include "training/linear_model.h"

#include <linear.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "common/file_util.h"
#include "training/tfidf.h"

namespace loupe::training {

namespace {

using nlohmann::json;
using SparseRow = std::vector<feature_node>;

void Quiet(const char*) {}

struct ModelDeleter {
  void operator()(model* m) const { free_and_destroy_model(&m); }
};

class LinearModel : public Model {
 public:
  LinearModel(LinearKind kind, TaskKind task, int num_classes, json params)
      : kind_(kind), task_(task), num_classes_(num_classes), params_(std::move(params)) {
    static std::once_flag quiet;
    std::call_once(quiet, [] { set_print_string_function(&Quiet); });
  }

  // liblinear's solvers cannot be interrupted; a stop is honoured before and after.
  Status Train(const TrainData& train, const TrainData*, const CurveCallback&, const StopRequested& stop) override {
    if (stop && stop()) return Cancelled();
    const Examples& ex = *train.examples;
    if (ex.rows == 0) return Status::InvalidArgument("no training rows");
    model_.reset();
    if (task_ == TaskKind::kTextClassification) {
      TfidfOptions o;
      o.max_features = params_.value("max_features", 50000);
      o.min_df = params_.value("min_df", 2);
      o.bigrams = params_.value("bigrams", true);
      tfidf_ = TfidfVectorizer(o);
      LOUPE_RETURN_IF_ERROR(tfidf_.Fit(ex.texts));
    } else {
      FitScaler(ex);
    }
    std::vector<SparseRow> rows(ex.rows);
    std::vector<feature_node*> xs(ex.rows);
    std::vector<double> y(ex.rows);
    for (size_t r = 0; r < ex.rows; ++r) {
      rows[r] = Row(ex, r);
      xs[r] = rows[r].data();
      y[r] = train.labels ? (*train.labels)[r] : (*train.targets)[r];
    }
    problem prob{};
    prob.l = static_cast<int>(ex.rows);
    prob.n = static_cast<int>(Features()) + 1;  // + bias
    prob.y = y.data();
    prob.x = xs.data();
    prob.bias = 1.0;

    parameter param{};
    param.C = params_.value("C", 1.0);
    param.eps = params_.value("tol", 0.01);
    param.p = params_.value("epsilon", 0.1);
    switch (kind_) {
      case LinearKind::kLogisticRegression: param.solver_type = L2R_LR; break;
      case LinearKind::kLinearSvm: param.solver_type = L2R_L2LOSS_SVC_DUAL; break;
      case LinearKind::kLinearSvr: param.solver_type = L2R_L2LOSS_SVR_DUAL; break;
    }
    std::vector<int> weight_label;
    std::vector<double> weight;
    if (train.labels && params_.value("class_weight", std::string("none")) == "balanced") {
      // n_samples / (n_classes * count), as scikit-learn's "balanced".
      std::map<int, int64_t> count;
      for (int v : *train.labels) ++count[v];
      for (auto [label, n] : count) {
        weight_label.push_back(label);
        weight.push_back(static_cast<double>(ex.rows) / (static_cast<double>(count.size()) * static_cast<double>(n)));
      }
      param.nr_weight = static_cast<int>(weight.size());
      param.weight_label = weight_label.data();
      param.weight = weight.data();
    }
    if (const char* err = check_parameter(&prob, &param)) return Status::InvalidArgument(std::string("liblinear: ") + err);
    model_.reset(::train(&prob, &param));
    if (!model_) return Status::Internal("liblinear could not train");
    if (stop && stop()) return Cancelled();
    return Status::Ok();
  }

  Result<Predictions> Predict(const Examples& ex) const override {
    if (!model_) return Status::Conflict("the model is not trained");
    Predictions p;
    const int nr = get_nr_class(model_.get());
    std::vector<int> labels(static_cast<size_t>(std::max(nr, 1)));
    if (task_ != TaskKind::kRegression) get_labels(model_.get(), labels.data());
    const bool proba = kind_ == LinearKind::kLogisticRegression;
    std::vector<double> est(static_cast<size_t>(std::max(nr, 2)));
    for (size_t r = 0; r < ex.rows; ++r) {
      SparseRow row = Row(ex, r);
      if (task_ == TaskKind::kRegression) {
        p.values.push_back(predict(model_.get(), row.data()));
        continue;
      }
      if (proba) {
        double label = predict_probability(model_.get(), row.data(), est.data());
        std::vector<double> pr(static_cast<size_t>(num_classes_), 0.0);
        for (int k = 0; k < nr; ++k) {
          if (labels[k] >= 0 && labels[k] < num_classes_) pr[static_cast<size_t>(labels[k])] = est[static_cast<size_t>(k)];
        }
        p.proba.push_back(std::move(pr));
        p.classes.push_back(static_cast<int>(label));
      } else {
        p.classes.push_back(static_cast<int>(predict(model_.get(), row.data())));
      }
    }
    return p;
  }

  Status Save(const std::string& path) const override {
    if (!model_) return Status::Conflict("the model is not trained");
    std::string tmp = path + ".liblinear.tmp";
    if (save_model(tmp.c_str(), model_.get()) != 0) return Status::Internal("liblinear could not save the model");
    Result<std::string> text = ReadFileUpTo(tmp, 1u << 30);
    std::remove(tmp.c_str());
    if (!text.ok()) return text.status();
    // Moved, not copied: with many features and classes the text is the model's bulk.
    json j = {{"format", "loupe-liblinear-1"}, {"mean", mean_}, {"scale", scale_}};
    j["liblinear"] = std::move(*text);
    if (task_ == TaskKind::kTextClassification) j["tfidf"] = tfidf_.ToJson();
    std::ofstream f(path, std::ios::trunc);
    f << j.dump();
    if (!f.flush()) return Status::Internal("cannot write the model file");
    return Status::Ok();
  }

  Status Load(const std::string& path) override {
    LOUPE_ASSIGN_OR_RETURN(std::string text, ReadFileUpTo(path, 1u << 30));
    json j = ParseBoundedJson(text);
    if (j.is_discarded() || j.value("format", "") != "loupe-liblinear-1") return Status::Corrupt("not a Loupe liblinear model file");
    try {
      mean_ = j.at("mean").get<std::vector<double>>();
      scale_ = j.at("scale").get<std::vector<double>>();
      if (j.contains("tfidf")) {
        LOUPE_ASSIGN_OR_RETURN(TfidfVectorizer v, TfidfVectorizer::FromJson(j["tfidf"]));
        tfidf_ = std::move(v);
      }
      std::string tmp = path + ".liblinear.tmp";
      {
        std::ofstream f(tmp, std::ios::trunc);
        f << j.at("liblinear").get<std::string>();
      }
      model_.reset(load_model(tmp.c_str()));
      std::remove(tmp.c_str());
    } catch (const json::exception& e) {
      return Status::Corrupt(std::string("liblinear model file: ") + e.what());
    }
    if (!model_) return Status::Corrupt("liblinear could not read the model");
    return Status::Ok();
  }

 private:
  size_t Features() const { return task_ == TaskKind::kTextClassification ? tfidf_.size() : mean_.size(); }

  void FitScaler(const Examples& ex) {
    mean_.assign(ex.cols, 0.0);
    scale_.assign(ex.cols, 1.0);
    for (size_t c = 0; c < ex.cols; ++c) {
      double sum = 0, sq = 0;
      int64_t n = 0;
      for (size_t r = 0; r < ex.rows; ++r) {
        float v = ex.x[r * ex.cols + c];
        if (std::isnan(v)) continue;
        sum += v;
        sq += static_cast<double>(v) * v;
        ++n;
      }
      if (n == 0) continue;
      double m = sum / static_cast<double>(n);
      double var = sq / static_cast<double>(n) - m * m;
      mean_[c] = m;
      scale_[c] = var > 1e-24 ? std::sqrt(var) : 1.0;
    }
  }

  // liblinear's row: 1-based indices, the bias feature last, index -1 ends it.
  SparseRow Row(const Examples& ex, size_t r) const {
    SparseRow row;  // sized exactly: the rows are most of liblinear's memory
    if (task_ == TaskKind::kTextClassification) {
      std::vector<std::pair<int, double>> terms = tfidf_.Transform(ex.texts[r]);
      row.reserve(terms.size() + 2);
      for (auto [i, w] : terms) row.push_back({i + 1, w});
    } else {
      row.reserve(ex.cols + 2);
      for (size_t c = 0; c < ex.cols && c < mean_.size(); ++c) {
        float v = ex.x[r * ex.cols + c];
        if (std::isnan(v)) continue;  // at the mean: 0 after standardising
        double z = (v - mean_[c]) / scale_[c];
        if (z != 0) row.push_back({static_cast<int>(c) + 1, z});
      }
    }
    if (model_) {
      row.push_back({get_nr_feature(model_.get()) + 1, model_->bias});
    } else {
      row.push_back({static_cast<int>(Features()) + 1, 1.0});
    }
    row.push_back({-1, 0.0});
    return row;
  }

  LinearKind kind_;
  TaskKind task_;
  int num_classes_;
  json params_;
  TfidfVectorizer tfidf_;
  std::vector<double> mean_, scale_;
  std::unique_ptr<model, ModelDeleter> model_;
};

}  // namespace

std::unique_ptr<Model> MakeLinearModel(LinearKind kind, TaskKind task, int num_classes, const json& params) {
  return std::make_unique<LinearModel>(kind, task, num_classes, params);
}

}  // namespace loupe::training
