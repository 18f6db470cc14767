#include "training/fasttext_model.h"

#include <fasttext/fasttext.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <thread>

namespace loupe::training {

namespace {

constexpr const char* kLabelPrefix = "__label__";

// fastText only updates the loss it hands the progress callback when verbose > 1, and
// then its training loop also prints a progress line to std::cerr ten times a second.
// std::cerr gets this filter once: text written by a thread that is training fastText
// is dropped, everything else passes through unchanged (other threads keep logging).
thread_local bool tl_silenced = false;

class ThreadFilteredBuf : public std::streambuf {
 public:
  explicit ThreadFilteredBuf(std::streambuf* target) : target_(target) {}

 protected:
  int_type overflow(int_type c) override {
    if (tl_silenced || traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    return target_->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override { return tl_silenced ? n : target_->sputn(s, n); }
  int sync() override { return tl_silenced ? 0 : target_->pubsync(); }

 private:
  std::streambuf* target_;
};

class SilenceCerrOnThisThread {
 public:
  SilenceCerrOnThisThread() {
    static std::once_flag once;
    std::call_once(once, [] {
      static ThreadFilteredBuf filter(std::cerr.rdbuf());
      std::cerr.rdbuf(&filter);
    });
    tl_silenced = true;
  }
  ~SilenceCerrOnThisThread() { tl_silenced = false; }
  SilenceCerrOnThisThread(const SilenceCerrOnThisThread&) = delete;
  SilenceCerrOnThisThread& operator=(const SilenceCerrOnThisThread&) = delete;
};

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
  args.verbose = 2;  // the only level at which fastText reports its loss (see the filter above)
  if (p.loss == "softmax") args.loss = fasttext::loss_name::softmax;
  else if (p.loss == "ns") args.loss = fasttext::loss_name::ns;
  else if (p.loss == "hs") args.loss = fasttext::loss_name::hs;
  else if (p.loss == "ova") args.loss = fasttext::loss_name::ova;
  else return Status::InvalidArgument("loss must be softmax, ns, hs or ova");
  FastTextModel m;
  m.ft_ = std::make_unique<fasttext::FastText>();
  m.num_classes_ = num_classes;
  try {
    SilenceCerrOnThisThread quiet;
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
