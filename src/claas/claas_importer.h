// ClaasImporter: turns CLaaS's files into Loupe experiments so they get charts,
// tables and comparison like any run.
//   feedback logs -> project "claas-feedback", one experiment per LoRA; each batch is
//                    a step (in file-name order) with its SDPO metrics and timings
//   eval results  -> project "claas-evals", one experiment per (run, preference); each
//                    steps.jsonl line is a step (margin, compliance, loss, ...); the
//                    run is finished once summary.json exists
// Every batch is written with seq = step, so importing the same files again (after a
// restart, say) changes nothing. Only files that changed since the last pass are read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/status.h"
#include "tracking/tracking_service.h"

namespace loupe::claas {

struct ImportOptions {
  std::string feedback_dir;
  std::string evals_root;
  int interval_seconds = 10;  // background passes; 0: only on ImportOnce()
};

struct ImportStats {
  int feedback_batches = 0;  // batches written in this pass
  int eval_steps = 0;
  int skipped_files = 0;
};

class ClaasImporter {
 public:
  ClaasImporter(TrackingService& tracking, ImportOptions options);
  ~ClaasImporter();  // stops the background thread

  Result<ImportStats> ImportOnce();
  void StartBackground();

 private:
  Status ImportFeedback(ImportStats& stats);
  Status ImportEvals(ImportStats& stats);
  // Creates or resumes the run; `start` (micros, 0: unknown) from the files moves its
  // start back when earlier than the one it has.
  Result<int64_t> Experiment(const std::string& project, const std::string& run_id, const std::string& name,
                             const std::string& config_json, int64_t start);

  TrackingService& tracking_;
  ImportOptions options_;
  std::mutex pass_mu_;  // one pass at a time
  std::set<std::string> feedback_done_;           // file names already written
  std::map<std::string, int64_t> lora_steps_;     // next step per LoRA
  std::map<std::string, std::string> eval_seen_;  // steps.jsonl path -> size/mtime signature
  std::set<std::string> eval_finished_;
  std::map<std::string, int64_t> experiment_ids_;  // run_id -> experiment id
  std::map<std::string, int64_t> experiment_starts_;  // run_id -> start given to the store
  std::map<int64_t, int64_t> lora_ends_;  // feedback experiment -> its newest batch's time

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace loupe::claas
