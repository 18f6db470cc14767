// A launched job's training package: everything needed to run it again elsewhere — the
// spec, the resolved config, the environment it ran in (OS, Python and its packages, CUDA,
// the git commit and diff of the working directory), the working directory as it was
// copied at launch, and a run.sh with a README. The environment is captured at launch
// (CaptureEnvironment), the archive built on request (a .tar.gz, libarchive).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launch/job_spec.h"
#include "store/launch_store.h"

namespace loupe::launch {

// OS, kernel, the Python the command runs (its version and installed distributions), the
// NVIDIA driver when there is one, and the git commit, branch and uncommitted diff (at most
// 1 MiB) of `workdir` when it is in a repository. Runs a few short subprocesses (each cut
// off after 10 s); what cannot be found is left out.
nlohmann::json CaptureEnvironment(const std::string& workdir, const std::string& command);

// run.sh: the command in workdir/ with the spec's environment and config, outside Loupe.
std::string RunScript(const LaunchJob& job, const JobSpec& spec);

// Writes the package to `path` (job-<id>/ holding spec.json, config.json, environment.json,
// run.sh, README.md and workdir/ with the files the launch copied, as listed in
// <dir>/snapshot.json).
Status WriteJobPackage(const LaunchJob& job, const JobSpec& spec, const std::string& path);

}  // namespace loupe::launch
