#include "app/datasets_module.h"

#include "ui/dataset_pages.h"
#include "web/api_routes.h"

namespace loupe::app {

namespace {
datasets::DatasetOptions OptionsFrom(const ServerConfig& config) {
  datasets::DatasetOptions o;
  o.data_dir = config.data_dir;
  o.import_root = config.import_root;
  o.max_upload_bytes = static_cast<size_t>(config.max_upload_mb) << 20;
  o.min_free_bytes = static_cast<uint64_t>(config.min_free_mb) << 20;
  return o;
}
}  // namespace

DatasetsModule::DatasetsModule(DatasetStore& store, const ServerConfig& config)
    : datasets_(store, OptionsFrom(config)) {}

void DatasetsModule::AddRoutes(std::vector<Route>& routes) {
  AppendRoutes(routes, DatasetApiRoutes(datasets_));
  AppendRoutes(routes, DatasetPageRoutes(datasets_));
}

Status DatasetsModule::Start() { return datasets_.Recover(); }

}  // namespace loupe::app
