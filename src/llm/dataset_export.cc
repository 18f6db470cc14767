#include "llm/dataset_export.h"

#include "llm/export_readers.h"

namespace loupe::llm {

namespace {

template <typename Reader>
Result<int64_t> ReadAll(Reader& reader, std::string& out, size_t max_bytes) {
  for (bool more = true; more;) {
    LOUPE_ASSIGN_OR_RETURN(more, reader.Next(out));
    if (out.size() > max_bytes) {
      return Status::TooLarge("the dataset would pass " + std::to_string(max_bytes >> 20) +
                              " MiB (the datasets' upload limit); narrow the filter or download the export instead");
    }
  }
  return reader.lines();
}

}  // namespace

Result<SavedDataset> SaveAsDataset(FeedbackStore& store, const DatasetSink& sink, const DatasetExportRequest& request,
                                   size_t max_bytes) {
  std::string bytes;
  int64_t rows = 0;
  if (request.kind == DatasetKind::kSft) {
    SftReader reader(store, request.filter, SftFormat::kTable, request.use_expected);
    LOUPE_ASSIGN_OR_RETURN(rows, ReadAll(reader, bytes, max_bytes));
  } else {
    PreferenceReader reader(store, request.filter, PreferenceFormat::kTable);
    LOUPE_ASSIGN_OR_RETURN(rows, ReadAll(reader, bytes, max_bytes));
  }
  if (rows == 0) {
    return Status::InvalidArgument(request.kind == DatasetKind::kSft
                                       ? "no answered calls match the filter: nothing to save"
                                       : "no preference pairs match the filter (a pair needs a good and a bad answer "
                                         "to one prompt, or a bad answer with its expected behaviour)");
  }
  const std::string file_name = (request.kind == DatasetKind::kSft ? "sft" : "preferences") + std::string(".jsonl");
  LOUPE_ASSIGN_OR_RETURN(int64_t id, sink(request.name, file_name, bytes));
  return SavedDataset{id, rows, bytes.size()};
}

}  // namespace loupe::llm
