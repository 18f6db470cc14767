// ExplorerService: explorations of datasets (DashAI's flow). Create validates and
// records one; ExplorerJob computes it in the job queue; the result is kept with the
// record, so it is shown again without recomputing.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "common/status.h"
#include "datasets/dataset_service.h"
#include "store/explorer_store.h"

namespace loupe::explorers {

class ExplorerService {
 public:
  ExplorerService(ExplorerStore& store, datasets::DatasetService& datasets) : store_(store), datasets_(datasets) {}

  // {dataset_id (or notebook_id), exploration_type, columns, parameters, name?}.
  // Returns the checked request ({dataset_id, exploration_type, columns, parameters}).
  // allow_no_dataset: without dataset_id/notebook_id, checks what needs no dataset
  // (POST /explorer/validate as DashAI's client sends it); creating always needs one.
  Result<nlohmann::json> Validate(const nlohmann::json& body, bool allow_no_dataset = false);
  Result<ExplorerRecord> Create(const nlohmann::json& body);
  Result<ExplorerRecord> Get(int64_t id) { return store_.GetExplorer(id); }
  Result<std::vector<ExplorerRecord>> List(int64_t dataset_id) { return store_.ListExplorers(dataset_id); }
  Status SetJob(int64_t id, int64_t job_id);
  // The job's work.
  Result<nlohmann::json> Execute(int64_t id);
  // At start-up: explorers that were computing when the process died become ERROR.
  Status RecoverInterrupted();

 private:
  ExplorerStore& store_;
  datasets::DatasetService& datasets_;
};

}  // namespace loupe::explorers
