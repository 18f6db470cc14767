#include "app/claas_module.h"

namespace loupe::app {

namespace {
ClaasPageOptions PagesFrom(const ServerConfig& config) {
  ClaasPageOptions o;
  o.feedback_dir = config.feedback_dir.empty() ? config.data_dir + "/feedback" : config.feedback_dir;
  o.evals_root = config.data_dir + "/evals";
  return o;
}
}  // namespace

ClaasModule::ClaasModule(TrackingService& tracking, const ServerConfig& config)
    : pages_(PagesFrom(config)),
      importer_(tracking, {pages_.feedback_dir, pages_.evals_root, config.claas_import_interval}) {}

void ClaasModule::AddRoutes(std::vector<Route>& routes) { AppendRoutes(routes, ClaasPageRoutes(pages_)); }

Status ClaasModule::Start() {
  importer_.StartBackground();
  return Status::Ok();
}

}  // namespace loupe::app
