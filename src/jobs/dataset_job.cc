#include "jobs/dataset_job.h"

#include <nlohmann/json.hpp>

namespace loupe::jobs {

JobHandler DatasetJob(datasets::DatasetService& ds) {
  return [&ds](const nlohmann::json& kwargs, const std::function<bool()>&) -> Result<nlohmann::json> {
    auto text = [&](const char* key) {
      auto it = kwargs.find(key);
      return it != kwargs.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Result<DatasetRecord> rec = !text("sample").empty() ? ds.ImportSample(text("sample"))
                                : !text("path").empty() ? ds.CreateFromPath(text("name"), text("path"), text("format"))
                                                        : Result<DatasetRecord>(Status::InvalidArgument(
                                                              "DatasetJob needs kwargs.path or kwargs.sample"));
    if (!rec.ok()) return rec.status();
    return nlohmann::json{{"dataset_id", rec->id}, {"name", rec->name}, {"rows", rec->rows}};
  };
}

}  // namespace loupe::jobs
