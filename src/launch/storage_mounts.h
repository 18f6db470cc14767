// Storage mounts: S3 folders (any S3-compatible endpoint) a job's command sees as folders of
// its working directory. The spec's `mounts` are read here, and turned into storage.sh: a
// script that wraps the command wherever it runs (local, a Slurm node, a RunPod pod, or a
// package run by hand), copies or mounts the folders with rclone first, and copies results
// back after. Credentials reach it as LOUPE_MOUNT_<n>_* variables, taken out of the
// command's environment.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launch/job_spec.h"

namespace loupe::launch {

inline constexpr size_t kMaxMounts = 16;

// The spec's "mounts" list; problems name their field ("mounts[1].path").
std::vector<SpecProblem> ParseMounts(const nlohmann::json& list, std::vector<StorageMount>& out);
nlohmann::json MountsToJson(const std::vector<StorageMount>& mounts);

// The script that runs `spec.command` between the copies (run by bash in the working
// directory). Its exit status is the command's, or 1 when the command succeeded but a
// write-back failed; a command ended by a signal ends it by the same signal.
std::string StorageScript(const JobSpec& spec, int64_t job_id);

// The variables storage.sh reads mount n's credentials from.
std::string MountKeyVariable(size_t n);
std::string MountSecretVariable(size_t n);

// A secret's value "ACCESS_KEY_ID:SECRET_ACCESS_KEY" split in two; InvalidArgument naming
// the form when it is not one.
Result<std::pair<std::string, std::string>> SplitS3Credentials(const std::string& value);

}  // namespace loupe::launch
