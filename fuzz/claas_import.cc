// Fuzz target: the CLaaS importer (claas/claas_importer.h), which turns the feedback and
// eval folders into experiments on a background thread every few seconds. A file it
// cannot import must be skipped: an error fails the whole pass, and since the same file
// is read again on the next pass, one bad file would keep every later one out for good.
// Each input is laid out as a feedback file and one eval run (in a temporary folder)
// and imported by a fresh importer into a TrackingService over an SQLite store.
// Input: up to five parts separated by lines of "%%":
//   feedback file %% eval run folder name %% preference folder name %% metadata.json %% steps.jsonl
// Checks, beyond "no crash, leak or UB": the pass succeeds (the disk is healthy).
// Seeds: fuzz/corpus/claas_import/. Run: make fuzz (docs/architecture.md, "Fuzzing").
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "claas/claas_importer.h"
#include "store/store.h"
#include "tracking/tracking_service.h"

namespace fs = std::filesystem;

namespace {

struct Server {
  fs::path dir;
  std::unique_ptr<loupe::Store> store;
  std::unique_ptr<loupe::TrackingService> tracking;
  int64_t files = 0;
};

Server& TheServer() {
  static Server* s = [] {
    auto* s = new Server;
    s->dir = loupe::fuzz::ScratchDir("import");  // removed at exit
    loupe::StoreOptions so;
    so.data_dir = s->dir.string();
    so.sync_full = false;
    auto store = loupe::OpenSqliteStore(so);
    if (!store.ok()) std::abort();
    s->store = std::move(*store);
    loupe::TrackingOptions to;
    to.data_dir = s->dir.string();
    s->tracking = std::make_unique<loupe::TrackingService>(*s->store, to);
    return s;
  }();
  return *s;
}

// A folder name from fuzz bytes: no '/' or NUL, not "." or "..", 1 to 255 bytes.
std::string FolderName(std::string_view raw, const char* fallback) {
  std::string name;
  for (char c : raw.substr(0, 255)) name += (c == '/' || c == '\0') ? '_' : c;
  if (name.empty() || name == "." || name == ".." || name == "plots") return fallback;
  return name;
}

void Put(const fs::path& path, std::string_view bytes) {
  if (bytes.empty()) return;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = TheServer();
  const std::vector<std::string_view> parts = loupe::fuzz::SplitParts(std::string_view(reinterpret_cast<const char*>(data), size));
  const fs::path feedback = s.dir / "feedback", evals = s.dir / "evals";
  std::error_code ec;
  fs::remove_all(feedback, ec);
  fs::remove_all(evals, ec);
  const fs::path pref = evals / FolderName(parts[1], "run") / FolderName(parts[2], "pref");
  fs::create_directories(feedback);
  fs::create_directories(pref);
  // A new name each time: the importer remembers the files it has imported.
  Put(feedback / ("20260224T000000-" + std::to_string(++s.files) + ".json"), parts[0]);
  Put(pref / "metadata.json", parts[3]);
  Put(pref / "steps.jsonl", parts[4]);

  loupe::claas::ClaasImporter importer(*s.tracking, {feedback.string(), evals.string(), 0});
  loupe::Result<loupe::claas::ImportStats> pass = importer.ImportOnce();
  if (!pass.ok()) {
    fprintf(stderr, "import pass failed: %s\n", pass.status().message().c_str());
    std::abort();
  }
  return 0;
}
