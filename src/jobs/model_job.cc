#include "jobs/model_job.h"

#include <nlohmann/json.hpp>

namespace loupe::jobs {

namespace {

Result<int64_t> RunId(const nlohmann::json& kwargs) {
  auto it = kwargs.find("run_id");
  if (it == kwargs.end() || !it->is_number_integer() || it->get<int64_t>() < 1) {
    return Status::InvalidArgument("ModelJob needs kwargs.run_id, a positive integer");
  }
  return it->get<int64_t>();
}

}  // namespace

JobType ModelJob(runs::RunService& runs) {
  JobType t;
  t.run = [&runs](const nlohmann::json& kwargs, const std::function<bool()>& stop) -> Result<nlohmann::json> {
    LOUPE_ASSIGN_OR_RETURN(int64_t id, RunId(kwargs));
    return runs.Execute(id, stop);
  };
  t.stoppable = true;
  t.enqueue = [&runs](const std::string& type, const nlohmann::json& kwargs) -> Result<int64_t> {
    LOUPE_ASSIGN_OR_RETURN(int64_t id, RunId(kwargs));
    return runs.QueueRun(id, type, kwargs.dump());
  };
  t.requeue = [&runs](const nlohmann::json& kwargs, int64_t job_id) -> Status {
    LOUPE_ASSIGN_OR_RETURN(int64_t id, RunId(kwargs));
    return runs.RequeueRun(id, job_id);
  };
  t.released = [&runs](const nlohmann::json& kwargs) {
    if (Result<int64_t> id = RunId(kwargs); id.ok()) runs.RunReleased(*id);
  };
  return t;
}

}  // namespace loupe::jobs
