// The model interface every library wrapper implements, so sessions, runs and the
// search treat fastText, XGBoost and liblinear alike.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "training/task.h"

namespace loupe::training {

struct TrainData {
  const Examples* examples = nullptr;
  const std::vector<int>* labels = nullptr;      // classification
  const std::vector<double>* targets = nullptr;  // regression
};

// A learning curve point the library reports while it trains: `key` such as
// "train/mlogloss" or "validation/rmse", at `step` (boosting round, progress permille).
using CurveCallback = std::function<void(const std::string& key, int64_t step, double value)>;
// Asked between boosting rounds, fastText progress reports and search trials: true
// stops training with a Cancelled error (the user cancelled the job).
using StopRequested = std::function<bool()>;
Status Cancelled();
bool IsCancelled(const Status& st);

struct Predictions {
  std::vector<int> classes;                 // classification
  std::vector<std::vector<double>> proba;   // classification, empty when the model gives none
  std::vector<double> values;               // regression
};

class Model {
 public:
  virtual ~Model() = default;
  // `validation` may be null; models that report curves evaluate on it too.
  virtual Status Train(const TrainData& train, const TrainData* validation, const CurveCallback& curve,
                       const StopRequested& stop = {}) = 0;
  virtual Result<Predictions> Predict(const Examples& x) const = 0;
  // One file holding everything the model needs to predict again.
  virtual Status Save(const std::string& path) const = 0;
  virtual Status Load(const std::string& path) = 0;
};

}  // namespace loupe::training
