// Fuzz target: the CLaaS feedback log reader (claas/feedback_log.h ParseFeedbackLog),
// which the importer and the CLaaS pages run over every file in the feedback folder.
// Input: one feedback file's content. Checks, beyond "no crash, leak or UB": a parsed
// batch's metadata serialises (the pages and the importer print it).
// Seeds: fuzz/corpus/claas_feedback/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "claas/feedback_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  loupe::Result<loupe::claas::FeedbackBatch> b =
      loupe::claas::ParseFeedbackLog("20250101T000000-fuzz.json", content);
  if (!b.ok()) return 0;
  (void)b->metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const auto& [key, value] : b->timing_ms) (void)b->Timing(key);
  return 0;
}
