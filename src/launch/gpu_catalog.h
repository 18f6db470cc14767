// The GPU types Loupe knows without asking anyone: memory, architecture and peak dense BF16
// tensor throughput, from the vendors' datasheets (each row names its source; the table is
// dated kGpuCatalogDate). Prices are not in it: they change weekly and come from where they
// are true now (RunPod's catalogue, the prices configured for this machine or cluster).
// FindGpu matches the names the world uses for one GPU ("NVIDIA GeForce RTX 4090",
// "RTX 4090", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe").
#pragma once

#include <string>
#include <vector>

namespace loupe::launch {

inline constexpr const char* kGpuCatalogDate = "2026-12-03";

struct GpuSpec {
  std::string name;          // "H100 SXM"
  double memory_gb = 0;      // as the vendor states it (GB)
  std::string architecture;  // "Hopper"
  int year = 0;              // first shipped
  double bf16_tflops = 0;    // peak dense BF16 tensor TFLOPS (no sparsity); 0: no BF16 tensor cores
  std::string source;        // the datasheet the numbers come from
  // Tokens that must all be in a name for it to be this GPU, and tokens that must not.
  std::vector<std::string> all_of, none_of;
};

const std::vector<GpuSpec>& KnownGpus();

// A GPU's name as lower-case words, split at anything but letters and digits, without the
// vendor words ("nvidia", "geforce", "amd", "instinct", "tesla"): "NVIDIA A100-SXM4-80GB"
// -> {a100, sxm4, 80gb}. Names match by words, never by letters ("a10" is not in it).
std::vector<std::string> GpuNameWords(const std::string& name);

// The known GPU a name means (by GpuNameWords), or nullptr.
const GpuSpec* FindGpu(const std::string& name);

}  // namespace loupe::launch
