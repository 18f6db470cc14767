// ExplorerStore: dataset explorations computed by jobs.
// Thread-safe; writes are durable when they return OK (see store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/work_status.h"

namespace loupe {

// An exploration of a dataset (DashAI's Explorer): a plot or table computed by a job.
struct ExplorerRecord {
  int64_t id = 0;
  int64_t dataset_id = 0;
  std::string name;
  std::string type;  // e.g. ScatterPlotExplorer
  std::string columns_json = "[]";
  std::string parameters_json = "{}";
  WorkStatus status = WorkStatus::kNotStarted;
  std::string error;
  std::string result_json = "null";  // {type, data, config}
  int64_t job_id = 0;
  int64_t create_time = 0;
  int64_t end_time = 0;
};

class ExplorerStore {
 public:
  virtual ~ExplorerStore() = default;

  // Explorers.
  virtual Result<int64_t> CreateExplorer(const ExplorerRecord& e) = 0;
  virtual Result<ExplorerRecord> GetExplorer(int64_t id) = 0;
  virtual Result<std::vector<ExplorerRecord>> ListExplorers(int64_t dataset_id) = 0;  // 0: all
  // status, error, result_json, end_time
  virtual Status UpdateExplorer(const ExplorerRecord& e) = 0;
  // Records the job that computes it; NOT_STARTED becomes DELIVERED (a job already
  // running keeps its status).
  virtual Status SetExplorerJob(int64_t id, int64_t job_id) = 0;

  // At start-up: explorers left STARTED by a process that died become ERROR.
  virtual Result<int> FailInterruptedExplorers(const std::string& reason) = 0;
};

}  // namespace loupe
