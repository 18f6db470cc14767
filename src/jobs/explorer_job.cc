#include "jobs/explorer_job.h"

#include <nlohmann/json.hpp>

namespace loupe::jobs {

JobHandler ExplorerJob(explorers::ExplorerService& explorers) {
  return [&explorers](const nlohmann::json& kwargs, const std::function<bool()>&) -> Result<nlohmann::json> {
    auto it = kwargs.find("explorer_id");
    if (it == kwargs.end() || !it->is_number_integer()) {
      return Status::InvalidArgument("ExplorerJob needs kwargs.explorer_id, an integer");
    }
    return explorers.Execute(it->get<int64_t>());
  };
}

}  // namespace loupe::jobs
