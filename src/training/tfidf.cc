#include "training/tfidf.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>
#include <nlohmann/json.hpp>

namespace loupe::training {

using nlohmann::json;

// Tokens: runs of ASCII letters and digits (and any UTF-8 byte), lower-cased, two
// characters or more, as scikit-learn's default token pattern.
std::vector<std::string> TfidfVectorizer::Terms(const std::string& text) const {
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80 || c == '_') {
      cur += static_cast<char>(std::tolower(c));
    } else {
      if (cur.size() >= 2) words.push_back(cur);
      cur.clear();
    }
  }
  if (cur.size() >= 2) words.push_back(cur);
  std::vector<std::string> terms = words;
  if (options_.bigrams) {
    for (size_t i = 0; i + 1 < words.size(); ++i) terms.push_back(words[i] + " " + words[i + 1]);
  }
  return terms;
}

Status TfidfVectorizer::Fit(const std::vector<std::string>& texts) {
  if (texts.empty()) return Status::InvalidArgument("no texts to learn a vocabulary from");
  std::unordered_map<std::string, int64_t> df;
  for (const std::string& t : texts) {
    std::vector<std::string> terms = Terms(t);
    std::unordered_set<std::string> unique(terms.begin(), terms.end());
    for (const std::string& w : unique) ++df[w];
  }
  std::vector<std::pair<std::string, int64_t>> kept;
  for (auto& [w, n] : df) {
    if (n >= options_.min_df) kept.emplace_back(w, n);
  }
  // Most frequent first, ties by term so the vocabulary is the same on every run.
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (kept.size() > static_cast<size_t>(options_.max_features)) kept.resize(static_cast<size_t>(options_.max_features));
  if (kept.empty()) return Status::InvalidArgument("no term appears in at least min_df=" + std::to_string(options_.min_df) + " texts");
  std::sort(kept.begin(), kept.end());
  vocabulary_.clear();
  idf_.clear();
  const double n = static_cast<double>(texts.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    vocabulary_.emplace(kept[i].first, static_cast<int>(i));
    idf_.push_back(std::log((1.0 + n) / (1.0 + static_cast<double>(kept[i].second))) + 1.0);
  }
  return Status::Ok();
}

std::vector<std::pair<int, double>> TfidfVectorizer::Transform(const std::string& text) const {
  std::map<int, double> tf;
  for (const std::string& w : Terms(text)) {
    auto it = vocabulary_.find(w);
    if (it != vocabulary_.end()) tf[it->second] += 1.0;
  }
  std::vector<std::pair<int, double>> row;
  double norm = 0;
  for (auto [i, count] : tf) {
    double w = (options_.sublinear_tf ? 1.0 + std::log(count) : count) * idf_[static_cast<size_t>(i)];
    row.emplace_back(i, w);
    norm += w * w;
  }
  if (norm > 0) {
    norm = std::sqrt(norm);
    for (auto& [i, w] : row) w /= norm;
  }
  return row;
}

json TfidfVectorizer::ToJson() const {
  std::vector<std::string> terms(idf_.size());
  for (const auto& [w, i] : vocabulary_) terms[static_cast<size_t>(i)] = w;
  return {{"max_features", options_.max_features}, {"min_df", options_.min_df}, {"bigrams", options_.bigrams},
          {"sublinear_tf", options_.sublinear_tf}, {"terms", terms}, {"idf", idf_}};
}

Result<TfidfVectorizer> TfidfVectorizer::FromJson(const json& j) {
  try {
    TfidfOptions o;
    o.max_features = j.at("max_features").get<int>();
    o.min_df = j.at("min_df").get<int>();
    o.bigrams = j.at("bigrams").get<bool>();
    o.sublinear_tf = j.at("sublinear_tf").get<bool>();
    TfidfVectorizer v(o);
    auto terms = j.at("terms").get<std::vector<std::string>>();
    v.idf_ = j.at("idf").get<std::vector<double>>();
    if (terms.size() != v.idf_.size()) return Status::Corrupt("tf-idf: terms and idf differ in length");
    for (size_t i = 0; i < terms.size(); ++i) v.vocabulary_.emplace(terms[i], static_cast<int>(i));
    return v;
  } catch (const json::exception& e) {
    return Status::Corrupt(std::string("tf-idf: ") + e.what());
  }
}

}  // namespace loupe::training
