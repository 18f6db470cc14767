#include "launch/gpu_catalog.h"

#include <algorithm>
#include <cctype>

namespace loupe::launch {


// Dense figures are the datasheets' "with sparsity" figures halved where only those are
// printed (NVIDIA marks them with an asterisk).
const std::vector<GpuSpec>& KnownGpus() {
  static const std::vector<GpuSpec> gpus = {
      {"H200", 141, "Hopper", 2024, 989, "NVIDIA H200 Tensor Core GPU datasheet (SXM: BF16 1,979 TFLOPS with sparsity)",
       {"h200"}, {"nvl"}},
      {"H100 NVL", 94, "Hopper", 2023, 835, "NVIDIA H100 datasheet (NVL: BF16 1,671 TFLOPS with sparsity)",
       {"h100", "nvl"}, {}},
      {"H100 PCIe", 80, "Hopper", 2022, 756, "NVIDIA H100 datasheet (PCIe: BF16 1,513 TFLOPS with sparsity)",
       {"h100", "pcie"}, {"nvl"}},
      {"H100 SXM", 80, "Hopper", 2022, 989, "NVIDIA H100 datasheet (SXM: BF16 1,979 TFLOPS with sparsity)",
       {"h100"}, {"pcie", "nvl"}},
      {"A100 80GB", 80, "Ampere", 2020, 312, "NVIDIA A100 datasheet (BF16 312 TFLOPS, 624 with sparsity)",
       {"a100", "80gb"}, {}},
      {"A100 40GB", 40, "Ampere", 2020, 312, "NVIDIA A100 datasheet (BF16 312 TFLOPS, 624 with sparsity)",
       {"a100", "40gb"}, {}},
      {"L40S", 48, "Ada Lovelace", 2023, 362, "NVIDIA L40S datasheet (BF16 362.05 TFLOPS, 733 with sparsity)",
       {"l40s"}, {}},
      {"L40", 48, "Ada Lovelace", 2022, 181, "NVIDIA L40 datasheet (BF16 181.05 TFLOPS, 362.1 with sparsity)",
       {"l40"}, {}},
      {"L4", 24, "Ada Lovelace", 2023, 121, "NVIDIA L4 datasheet (BF16 242 TFLOPS with sparsity)", {"l4"}, {}},
      {"RTX 4090", 24, "Ada Lovelace", 2022, 165.2,
       "NVIDIA Ada GPU architecture whitepaper (RTX 4090: BF16 with FP32 accumulate 165.2 TFLOPS, 330.4 with sparsity)",
       {"4090"}, {}},
      {"RTX A6000", 48, "Ampere", 2020, 154.8, "NVIDIA RTX A6000 datasheet (tensor 309.7 TFLOPS with sparsity)",
       {"a6000"}, {"ada"}},
      {"A40", 48, "Ampere", 2020, 149.7, "NVIDIA A40 datasheet (BF16 149.7 TFLOPS, 299.4 with sparsity)", {"a40"}, {}},
      {"A10", 24, "Ampere", 2021, 125, "NVIDIA A10 datasheet (BF16 125 TFLOPS, 250 with sparsity)", {"a10"}, {}},
      {"T4", 16, "Turing", 2018, 0, "NVIDIA T4 datasheet (no BF16 tensor cores)", {"t4"}, {}},
      {"MI300X", 192, "CDNA 3", 2023, 1307.4, "AMD Instinct MI300X datasheet (BF16 1,307.4 TFLOPS dense)",
       {"mi300x"}, {}},
  };
  return gpus;
}

std::vector<std::string> GpuNameWords(const std::string& name) {
  std::vector<std::string> out;
  std::string w;
  for (char c : name + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      if (w != "nvidia" && w != "geforce" && w != "amd" && w != "instinct" && w != "tesla") out.push_back(w);
      w.clear();
    }
  }
  return out;
}

const GpuSpec* FindGpu(const std::string& name) {
  const std::vector<std::string> tokens = GpuNameWords(name);
  auto has = [&](const std::string& t) { return std::find(tokens.begin(), tokens.end(), t) != tokens.end(); };
  for (const GpuSpec& g : KnownGpus()) {
    if (std::all_of(g.all_of.begin(), g.all_of.end(), has) && std::none_of(g.none_of.begin(), g.none_of.end(), has)) {
      return &g;
    }
  }
  return nullptr;
}

}  // namespace loupe::launch
