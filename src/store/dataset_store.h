// DatasetStore: the dataset catalogue (the values live in columnar files).
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loupe {

// A dataset's catalogue row; its values live in <data-dir>/datasets/<id>/columns.bin.
struct DatasetRecord {
  int64_t id = 0;
  std::string name;
  std::string format;  // csv | tsv | json | jsonl
  std::string source;  // "upload:<file name>", "path:<path>", "sample:<name>"
  int64_t rows = 0;
  std::string columns_json = "[]";  // [{name, type, overridden}]
  int64_t bytes = 0;                // size of the source file
  int64_t create_time = 0;
  int64_t update_time = 0;
};

class DatasetStore {
 public:
  virtual ~DatasetStore() = default;

  // Datasets. Names are unique (Conflict).
  virtual Result<int64_t> CreateDataset(const DatasetRecord& d) = 0;
  virtual Status UpdateDataset(const DatasetRecord& d) = 0;  // name, rows, columns, update_time
  virtual Result<DatasetRecord> GetDataset(int64_t id) = 0;
  virtual Result<std::vector<DatasetRecord>> ListDatasets() = 0;
  virtual Status DeleteDataset(int64_t id) = 0;
};

}  // namespace loupe
