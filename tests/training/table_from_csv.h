// A typed table from CSV text, each column of its inferred type, for training tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "datasets/column_types.h"
#include "datasets/table_parser.h"

namespace loupe::training {

inline datasets::Table TableFromCsv(const std::string& csv) {
  auto raw = datasets::ParseTable(csv, datasets::FileFormat::kCsv);
  EXPECT_TRUE(raw.ok()) << raw.status().message();
  datasets::Table t;
  if (!raw.ok()) return t;
  for (const auto& rc : raw->columns) t.columns.push_back(*datasets::ConvertColumn(rc, datasets::InferColumnType(rc)));
  return t;
}

}  // namespace loupe::training
