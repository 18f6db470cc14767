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

#include "claas/eval_results.h"

namespace fs = std::filesystem;

namespace {

// Never destroyed, so the clean-up at exit can still name it.
const fs::path& Root() {
  static const fs::path* root = [] {
    // In memory where there is /dev/shm: rewriting files on ext4 flushes them (auto_da_alloc).
    std::error_code ec;
    const fs::path tmp = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (tmp / "loupe-fuzz-claas-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    return new fs::path(tmpl);
  }();
  static const bool cleanup = std::atexit([] {
    std::error_code ec;
    fs::remove_all(*root, ec);
  }) == 0;
  (void)cleanup;
  return *root;
}

std::vector<std::string_view> Split(std::string_view in) {
  std::vector<std::string_view> parts;
  while (parts.size() < 4) {
    size_t at = in.find("\n%%\n");
    if (at == std::string_view::npos) break;
    parts.push_back(in.substr(0, at));
    in.remove_prefix(at + 4);
  }
  parts.push_back(in);
  parts.resize(5);
  return parts;
}

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
  const std::vector<std::string_view> parts = Split(std::string_view(reinterpret_cast<const char*>(data), size));
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
