// The machine's GPUs, and which of them a job gets: each GPU belongs to at most one
// running job (CUDA_VISIBLE_DEVICES). Found with nvidia-smi when the driver is present;
// none otherwise (nothing else changes on a machine without GPUs).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace loupe::launch {

struct GpuInfo {
  int index = 0;
  std::string name;        // "NVIDIA H200"
  double memory_gb = 0;    // GiB
};

std::vector<GpuInfo> DetectGpus();

// A GPU's name matches a requested type when it contains it, ignoring case ("h100"
// matches "NVIDIA H100 80GB HBM3"); "" matches any.
bool GpuMatches(const GpuInfo& gpu, const std::string& type);

// `count` free GPUs of `type` (lowest indices first), or nullopt when there are not enough.
std::optional<std::vector<int>> PickGpus(const std::vector<GpuInfo>& all, const std::set<int>& busy, int count,
                                         const std::string& type);

}  // namespace loupe::launch
