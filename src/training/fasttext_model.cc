#include "training/fasttext_model.h"

#include <fasttext/fasttext.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace loupe::training {

namespace {

constexpr const char* kLabelPrefix = "__label__";

}  // namespace

// fastText reads one example per line and splits on whitespace; letters are
// lower-cased so "Free" and "free" share a word.
std::string NormalizeText(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
      out += ' ';
    } else {
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

FastTextModel::FastTextModel() = default;
FastTextModel::~FastTextModel() = default;
FastTextModel::FastTextModel(FastTextModel&&) noexcept = default;
FastTextModel& FastTextModel::operator=(FastTextModel&&) noexcept = default;

Result<FastTextModel> FastTextModel::Train(const std::vector<std::string>& texts, const std::vector<int>& labels,
                                           int num_classes, const FastTextParams& p, const std::string& work_dir,
                                           const TrainProgress& progress) {
  if (texts.size() != labels.size() || texts.empty()) return Status::InvalidArgument("no training examples");
  std::string path = work_dir + "/fasttext-train.txt";
  {
    std::ofstream f(path, std::ios::trunc);
    for (size_t i = 0; i < texts.size(); ++i) f << kLabelPrefix << labels[i] << ' ' << NormalizeText(texts[i]) << '\n';
    if (!f.flush()) return Status::Internal("cannot write " + path);
  }
  fasttext::Args args;
  args.input = path;
  args.model = fasttext::model_name::sup;
  args.lr = p.lr;
  args.epoch = p.epoch;
  args.dim = p.dim;
  args.wordNgrams = p.word_ngrams;
  args.minCount = p.min_count;
  // The CLI's `supervised` settings: no character n-grams, and no hash buckets unless
  // word n-grams need them.
  args.minn = 0;
  args.maxn = 0;
  args.bucket = p.word_ngrams > 1 ? p.bucket : 0;
  args.thread = p.threads > 0 ? p.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  args.seed = p.seed;
  args.verbose = 0;
  if (p.loss == "softmax") args.loss = fasttext::loss_name::softmax;
  else if (p.loss == "ns") args.loss = fasttext::loss_name::ns;
  else if (p.loss == "hs") args.loss = fasttext::loss_name::hs;
  else if (p.loss == "ova") args.loss = fasttext::loss_name::ova;
  else return Status::InvalidArgument("loss must be softmax, ns, hs or ova");
  FastTextModel m;
  m.ft_ = std::make_unique<fasttext::FastText>();
  m.num_classes_ = num_classes;
  try {
    m.ft_->train(args, [&](float prog, float loss, double, double, int64_t) {
      if (progress && !progress(prog, loss)) m.ft_->abort();
    });
  } catch (const std::exception& e) {
    std::remove(path.c_str());
    return Status::InvalidArgument(std::string("fastText: ") + e.what());
  }
  std::remove(path.c_str());
  return m;
}

Result<FastTextModel> FastTextModel::Load(const std::string& path, int num_classes) {
  FastTextModel m;
  m.ft_ = std::make_unique<fasttext::FastText>();
  m.num_classes_ = num_classes;
  try {
    m.ft_->loadModel(path);
  } catch (const std::exception& e) {
    return Status::Corrupt(std::string("cannot load the fastText model: ") + e.what());
  }
  return m;
}

std::vector<double> FastTextModel::PredictProba(const std::string& text) const {
  std::vector<double> proba(static_cast<size_t>(num_classes_), 0.0);
  std::istringstream in(NormalizeText(text) + "\n");
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  ft_->predictLine(in, predictions, -1, 0.0);
  const std::string prefix = kLabelPrefix;
  for (const auto& [p, label] : predictions) {
    if (label.rfind(prefix, 0) != 0) continue;
    int k = std::atoi(label.c_str() + prefix.size());
    if (k >= 0 && k < num_classes_) proba[static_cast<size_t>(k)] = p;
  }
  return proba;
}

Status FastTextModel::Save(const std::string& path) const {
  try {
    ft_->saveModel(path);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot save the fastText model: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace loupe::training
