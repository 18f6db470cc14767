#include "training/xgboost_model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

namespace loupe::training {

namespace {

using nlohmann::json;

constexpr int kCurvePoints = 50;

// XGBoost's message without the native stack trace it appends (addresses and library
// paths are no help to a user, and do not belong in an API answer).
Status XgbError(const char* what) {
  std::string message = XGBGetLastError();
  if (const size_t trace = message.find("\nStack trace:"); trace != std::string::npos) message.resize(trace);
  return Status::Internal(std::string("XGBoost ") + what + ": " + message);
}

// Owns a DMatrix handle.
struct Matrix {
  DMatrixHandle h = nullptr;
  ~Matrix() {
    if (h) XGDMatrixFree(h);
  }
};

Status MakeMatrix(const Examples& x, Matrix& m) {
  if (XGDMatrixCreateFromMat(x.x.data(), x.rows, x.cols, std::nanf(""), &m.h) != 0) return XgbError("matrix");
  return Status::Ok();
}

Status SetLabels(const TrainData& d, Matrix& m) {
  std::vector<float> y;
  if (d.labels) {
    for (int v : *d.labels) y.push_back(static_cast<float>(v));
  } else {
    for (double v : *d.targets) y.push_back(static_cast<float>(v));
  }
  if (XGDMatrixSetFloatInfo(m.h, "label", y.data(), y.size()) != 0) return XgbError("labels");
  return Status::Ok();
}

class XGBoostModel : public Model {
 public:
  XGBoostModel(TaskKind task, int num_classes, json params)
      : task_(task), num_classes_(num_classes), params_(std::move(params)) {}
  ~XGBoostModel() override {
    if (booster_) XGBoosterFree(booster_);
  }

  Status Train(const TrainData& train, const TrainData* validation, const CurveCallback& curve,
               const StopRequested& stop) override {
    Matrix dtrain, dval;
    LOUPE_RETURN_IF_ERROR(MakeMatrix(*train.examples, dtrain));
    LOUPE_RETURN_IF_ERROR(SetLabels(train, dtrain));
    std::vector<DMatrixHandle> evals = {dtrain.h};
    std::vector<const char*> names = {"train"};
    if (validation && validation->examples->rows > 0) {
      LOUPE_RETURN_IF_ERROR(MakeMatrix(*validation->examples, dval));
      LOUPE_RETURN_IF_ERROR(SetLabels(*validation, dval));
      evals.push_back(dval.h);
      names.push_back("validation");
    }
    if (booster_) XGBoosterFree(booster_);
    booster_ = nullptr;
    if (XGBoosterCreate(evals.data(), evals.size(), &booster_) != 0) return XgbError("booster");
    LOUPE_RETURN_IF_ERROR(SetParams());
    const int rounds = params_.value("n_estimators", 100);
    // Evaluating costs about as much as a round on small data (1.2x-1.8x the training
    // time when done every round, bench/xgboost_vs_direct), so curves get about 50
    // points, the last round always among them.
    const int every = std::max(1, (rounds + kCurvePoints - 1) / kCurvePoints);
    for (int i = 0; i < rounds; ++i) {
      if (stop && stop()) return Cancelled();
      if (XGBoosterUpdateOneIter(booster_, i, dtrain.h) != 0) return XgbError("training");
      if (!curve || ((i + 1) % every != 0 && i + 1 != rounds)) continue;
      const char* report = nullptr;
      if (XGBoosterEvalOneIter(booster_, i, evals.data(), names.data(), evals.size(), &report) != 0) {
        return XgbError("evaluation");
      }
      // "[3]\ttrain-mlogloss:0.41\tvalidation-mlogloss:0.47"
      std::istringstream in(report);
      std::string field;
      in >> field;
      while (in >> field) {
        size_t dash = field.find('-'), colon = field.rfind(':');
        if (dash == std::string::npos || colon == std::string::npos || colon < dash) continue;
        curve(field.substr(0, dash) + "/" + field.substr(dash + 1, colon - dash - 1), i + 1,
              std::strtod(field.c_str() + colon + 1, nullptr));
      }
    }
    return Status::Ok();
  }

  Result<Predictions> Predict(const Examples& x) const override {
    if (!booster_) return Status::Conflict("the model is not trained");
    Matrix d;
    LOUPE_RETURN_IF_ERROR(MakeMatrix(x, d));
    bst_ulong len = 0;
    const float* out = nullptr;
    if (XGBoosterPredict(booster_, d.h, 0, 0, 0, &len, &out) != 0) return XgbError("prediction");
    Predictions p;
    if (task_ == TaskKind::kRegression) {
      p.values.assign(out, out + len);
      return p;
    }
    p.proba.resize(x.rows);
    for (size_t r = 0; r < x.rows; ++r) {
      if (num_classes_ == 2) {
        p.proba[r] = {1.0 - out[r], static_cast<double>(out[r])};
      } else {
        p.proba[r].assign(out + r * num_classes_, out + (r + 1) * num_classes_);
      }
      int best = 0;
      for (int k = 1; k < num_classes_; ++k) {
        if (p.proba[r][k] > p.proba[r][best]) best = k;
      }
      p.classes.push_back(best);
    }
    return p;
  }

  Status Save(const std::string& path) const override {
    if (!booster_) return Status::Conflict("the model is not trained");
    if (XGBoosterSaveModel(booster_, path.c_str()) != 0) return XgbError("save");
    return Status::Ok();
  }

  Status Load(const std::string& path) override {
    if (booster_) XGBoosterFree(booster_);
    booster_ = nullptr;
    if (XGBoosterCreate(nullptr, 0, &booster_) != 0) return XgbError("booster");
    if (XGBoosterLoadModel(booster_, path.c_str()) != 0) return XgbError("load");
    return Status::Ok();
  }

 private:
  Status SetParams() {
    auto set = [&](const char* k, const std::string& v) -> Status {
      if (XGBoosterSetParam(booster_, k, v.c_str()) != 0) return XgbError(k);
      return Status::Ok();
    };
    auto num = [&](const char* k) {
      const json& v = params_.at(k);
      return v.is_number_integer() ? std::to_string(v.get<int64_t>()) : std::to_string(v.get<double>());
    };
    if (task_ == TaskKind::kRegression) {
      LOUPE_RETURN_IF_ERROR(set("objective", "reg:squarederror"));
    } else if (num_classes_ == 2) {
      LOUPE_RETURN_IF_ERROR(set("objective", "binary:logistic"));
      LOUPE_RETURN_IF_ERROR(set("eval_metric", "logloss"));
    } else {
      LOUPE_RETURN_IF_ERROR(set("objective", "multi:softprob"));
      LOUPE_RETURN_IF_ERROR(set("num_class", std::to_string(num_classes_)));
      LOUPE_RETURN_IF_ERROR(set("eval_metric", "mlogloss"));
    }
    for (const char* k : {"max_depth", "learning_rate", "subsample", "colsample_bytree", "min_child_weight",
                          "reg_lambda", "reg_alpha", "gamma", "seed", "nthread"}) {
      if (params_.contains(k)) LOUPE_RETURN_IF_ERROR(set(k, num(k)));
    }
    LOUPE_RETURN_IF_ERROR(set("tree_method", params_.value("tree_method", std::string("hist"))));
    LOUPE_RETURN_IF_ERROR(set("verbosity", "0"));
    return Status::Ok();
  }

  TaskKind task_;
  int num_classes_;
  json params_;
  BoosterHandle booster_ = nullptr;
};

}  // namespace

std::unique_ptr<Model> MakeXGBoostModel(TaskKind task, int num_classes, const json& params) {
  return std::make_unique<XGBoostModel>(task, num_classes, params);
}

}  // namespace loupe::training
