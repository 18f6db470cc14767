// The route tables served under /api/v1: Loupe's native tracking API (what the
// SDK speaks) and the SwanLab offline-dashboard API. Handlers parse and validate
// input, call the tracking service, and render JSON; they hold no rules of their own.
#pragma once

#include <vector>

#include "artifacts/artifact_service.h"
#include "datasets/dataset_service.h"
#include "explorers/explorer_service.h"
#include "jobs/job_queue.h"
#include "runs/run_service.h"
#include "tracking/tracking_service.h"
#include "web/http_types.h"

namespace loupe {

std::vector<Route> NativeApiRoutes(TrackingService& tracking);
std::vector<Route> SwanlabApiRoutes(TrackingService& tracking);
// The sweep panels of a project: parameters, a metric, and their statistics.
std::vector<Route> SweepApiRoutes(TrackingService& tracking);
// Series export and console paging/search for the dashboard pages.
std::vector<Route> DashboardApiRoutes(TrackingService& tracking);
// Dataset upload, catalogue, preview, statistics and type overrides.
std::vector<Route> DatasetApiRoutes(datasets::DatasetService& datasets);
// The persistent job queue: enqueue, status, list, cancel, retry.
std::vector<Route> JobApiRoutes(jobs::JobQueue& jobs);
// Components, model sessions, runs, search plots, predictions and model downloads.
std::vector<Route> ModelApiRoutes(runs::RunService& runs, jobs::JobQueue& jobs);
// Dataset explorations (computed by ExplorerJob).
std::vector<Route> ExplorerApiRoutes(explorers::ExplorerService& explorers, jobs::JobQueue& jobs);

// Artifacts (upload, versions, aliases, lineage, downloads) and the model registry.
std::vector<Route> ArtifactApiRoutes(artifacts::ArtifactService& artifacts);

}  // namespace loupe
