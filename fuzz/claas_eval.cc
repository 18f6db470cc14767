// Fuzz target: the CLaaS eval-results reader (claas/eval_results.h), which the importer
// and the CLaaS pages run over every run folder. It reads files, so each input is laid
// out as one run folder in a temporary directory, read back through DiscoverEvalRuns
// and ReadEvalRun exactly as the pages do.
// Input: up to five parts separated by lines of "%%":
//   summary.json %% pref/metadata.json %% pref/baseline.json %% pref/steps.jsonl %% plots/a.png
// An empty part is a missing file (no summary.json: a run still in progress).
// Checks, beyond "no crash, leak or UB": the run is found whenever it has a summary or
// steps, and every value the pages print serialises.
// Seeds: fuzz/corpus/claas_eval/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "claas/eval_results.h"

namespace fs = std::filesystem;

namespace {

const fs::path& Root() { return loupe::fuzz::ScratchDir("claas"); }

void Put(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  if (bytes.empty()) {
    fs::remove(path, ec);
    return;
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string_view> parts = loupe::fuzz::SplitParts(std::string_view(reinterpret_cast<const char*>(data), size));
  const fs::path run = Root() / "run1";
  fs::create_directories(run / "pref");
  fs::create_directories(run / "plots");
  Put(run / "summary.json", parts[0]);
  Put(run / "pref" / "metadata.json", parts[1]);
  Put(run / "pref" / "baseline.json", parts[2]);
  Put(run / "pref" / "steps.jsonl", parts[3]);
  Put(run / "plots" / "a.png", parts[4]);

  loupe::Result<std::vector<loupe::claas::EvalRunRef>> refs = loupe::claas::DiscoverEvalRuns(Root().string());
  if (!refs.ok()) std::abort();
  if ((!parts[0].empty() || !parts[3].empty()) && refs->size() != 1) std::abort();
  for (const loupe::claas::EvalRunRef& ref : *refs) {
    loupe::claas::EvalRun r = loupe::claas::ReadEvalRun(ref);
    for (const loupe::claas::EvalPreference& p : r.preferences) {
      (void)Dump(p.config);
      if (p.baseline) (void)Dump(p.baseline->raw);
      for (const loupe::claas::EvalStep& s : p.steps) {
        (void)Dump(s.sdpo_metrics);
        (void)Dump(s.eval.raw);
        for (const loupe::claas::Rollout& ro : s.eval.rollouts) (void)Dump(ro.metadata);
      }
    }
  }
  return 0;
}
