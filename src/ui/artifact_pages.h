// Artifact and model-registry pages: the artifacts, one artifact's versions, a version
// (files, lineage, aliases, downloads, registering it), registered models and one
// model's versions and aliases.
#pragma once

#include <vector>

#include "artifacts/artifact_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> ArtifactPageRoutes(artifacts::ArtifactService& artifacts);

}  // namespace loupe
