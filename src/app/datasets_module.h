// DatasetsModule: the dataset catalogue (uploads, samples, previews, types) and its pages.
#pragma once

#include "app/module.h"
#include "datasets/dataset_service.h"
#include "store/dataset_store.h"

namespace loupe::app {

class DatasetsModule final : public Module {
 public:
  DatasetsModule(DatasetStore& store, const ServerConfig& config);
  const char* name() const override { return "datasets"; }
  void AddRoutes(std::vector<Route>& routes) override;
  // Makes the catalogue and the data folder agree after a crash.
  Status Start() override;
  datasets::DatasetService& service() { return datasets_; }

 private:
  datasets::DatasetService datasets_;
};

}  // namespace loupe::app
