// The new-session wizard's first guess for a dataset: which column to predict, from
// which columns, as which task, and why. Ids (nearly every value distinct, short, no
// spaces; or named like one with distinct integers) and constant columns are left out
// with the reason, because a model fed an id memorises rows (the customers CSV whose
// only input was customer_id trained to exactly the majority class). Tabular data is
// preferred whenever two or more numeric, boolean, categorical or datetime inputs
// exist; text classification only when free text is what there is.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "datasets/table.h"

namespace loupe::training {

struct ColumnProfile {
  size_t present = 0;
  size_t distinct = 0;
  bool id_like = false;
  std::string why;  // why it is left out, "" when it is a usable input
};

ColumnProfile ProfileColumn(const datasets::Column& c);

// {task, output, inputs: [names], left_out: [{column, reason}], reasons: [sentences],
//  class_balance: [{class, count, share}] (classification; most frequent first)}.
// `output` non-empty: the guess for that output column (the user picked it).
nlohmann::json GuessSession(const datasets::Table& table, const std::string& output = "");

}  // namespace loupe::training
