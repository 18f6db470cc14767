#include "llm/export_readers.h"

namespace loupe::llm {

SftReader::SftReader(FeedbackStore& store, PredictionFilter filter, SftFormat format, bool use_expected)
    : store_(store), filter_(std::move(filter)), format_(format), use_expected_(use_expected) {
  filter_.outcome = "ok";
  filter_.limit = kExportPage;
}

Result<bool> SftReader::Next(std::string& out) {
  filter_.after_id = after_;
  LOUPE_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows, store_.ListPredictions(filter_));
  if (!rows.empty()) after_ = rows.back().p.id;
  for (const PredictionRow& row : rows) {
    std::string answer = row.p.response;
    std::string corrected = use_expected_ ? ExpectedAnswer(row.evaluation_json) : "";
    if (!corrected.empty()) {
      answer = corrected;
    } else if (VerdictOf(row) == Verdict::kBad) {
      continue;  // a person said this answer is wrong: not an example to learn from
    }
    if (answer.empty()) continue;
    if (auto line = SftLine(row.p, answer, format_)) {
      out += *line;
      out += '\n';
      ++lines_;
    }
  }
  return rows.size() == static_cast<size_t>(kExportPage);
}

PreferenceReader::PreferenceReader(FeedbackStore& store, PredictionFilter filter, PreferenceFormat format)
    : store_(store), filter_(std::move(filter)), format_(format) {}

void PreferenceReader::Flush(std::string& out) {
  for (const PreferencePair& pair : PairsOf(group_, kMaxPairsPerPrompt)) {
    if (auto line = PreferenceLine(pair, format_)) {
      out += *line;
      out += '\n';
      ++lines_;
    }
  }
  group_.clear();
}

Result<bool> PreferenceReader::Next(std::string& out) {
  LOUPE_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows, store_.ListJudgedByPrompt(filter_, after_, kExportPage));
  for (PredictionRow& row : rows) {
    after_ = std::make_pair(row.p.messages_json, row.p.id);
    if (!group_.empty() && group_.front().p.messages_json != row.p.messages_json) Flush(out);
    if (group_.size() < kMaxAnswersPerPrompt) group_.push_back(std::move(row));
  }
  const bool more = rows.size() == static_cast<size_t>(kExportPage);
  if (!more) Flush(out);
  return more;
}

}  // namespace loupe::llm
