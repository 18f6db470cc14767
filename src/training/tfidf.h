// TF-IDF features for linear models on text, computed as scikit-learn's
// TfidfVectorizer does by default (smooth idf, l2-normalised rows) with optional
// sublinear tf and word bigrams. It is fitted on the training split only, so
// validation and test words never leak into the vocabulary (a DashAI bug, #876).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loupe::training {

struct TfidfOptions {
  int max_features = 50000;  // most frequent terms kept
  int min_df = 2;            // terms in fewer documents are dropped
  bool bigrams = true;
  bool sublinear_tf = true;  // 1 + log(tf)
};

class TfidfVectorizer {
 public:
  explicit TfidfVectorizer(TfidfOptions options = {}) : options_(options) {}

  Status Fit(const std::vector<std::string>& texts);
  // Sparse row: (feature index, weight), indices ascending, l2 norm 1 (or empty).
  std::vector<std::pair<int, double>> Transform(const std::string& text) const;
  size_t size() const { return idf_.size(); }

  nlohmann::json ToJson() const;
  static Result<TfidfVectorizer> FromJson(const nlohmann::json& j);

 private:
  std::vector<std::string> Terms(const std::string& text) const;

  TfidfOptions options_;
  std::unordered_map<std::string, int> vocabulary_;
  std::vector<double> idf_;
};

}  // namespace loupe::training
