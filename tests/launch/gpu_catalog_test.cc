#include "launch/gpu_catalog.h"

#include <gtest/gtest.h>

#include <set>

namespace loupe::launch {
namespace {

std::string Found(const std::string& name) {
  const GpuSpec* g = FindGpu(name);
  return g ? g->name : "";
}

TEST(GpuCatalogTest, NamesTheWorldUsesMeanOneGpu) {
  EXPECT_EQ(Found("NVIDIA GeForce RTX 4090"), "RTX 4090");  // RunPod's id
  EXPECT_EQ(Found("RTX 4090"), "RTX 4090");
  EXPECT_EQ(Found("NVIDIA A100-SXM4-80GB"), "A100 80GB");  // nvidia-smi
  EXPECT_EQ(Found("NVIDIA A100 80GB PCIe"), "A100 80GB");
  EXPECT_EQ(Found("NVIDIA A100-SXM4-40GB"), "A100 40GB");
  EXPECT_EQ(Found("NVIDIA H100 80GB HBM3"), "H100 SXM");
  EXPECT_EQ(Found("NVIDIA H100 PCIe"), "H100 PCIe");
  EXPECT_EQ(Found("NVIDIA H100 NVL"), "H100 NVL");
  EXPECT_EQ(Found("NVIDIA H200"), "H200");
  EXPECT_EQ(Found("NVIDIA L4"), "L4");
  EXPECT_EQ(Found("NVIDIA L40"), "L40");
  EXPECT_EQ(Found("NVIDIA L40S"), "L40S");
  EXPECT_EQ(Found("NVIDIA RTX A6000"), "RTX A6000");
  EXPECT_EQ(Found("AMD Instinct MI300X"), "MI300X");
  EXPECT_EQ(Found("Tesla T4"), "T4");
  // Not these: a different card with a similar name.
  EXPECT_EQ(Found("NVIDIA H200 NVL"), "");  // lower clocks than the SXM part
  EXPECT_EQ(Found("NVIDIA RTX 6000 Ada Generation"), "");
  EXPECT_EQ(Found("NVIDIA A10G"), "");
  EXPECT_EQ(Found("NVIDIA L40 S"), "L40");  // tokens, not substrings: "l40" then "s"
  EXPECT_EQ(Found(""), "");
}

TEST(GpuCatalogTest, EveryRowIsFoundByItsOwnNameAndStatesItsSource) {
  std::set<std::string> names;
  for (const GpuSpec& g : KnownGpus()) {
    EXPECT_TRUE(names.insert(g.name).second) << g.name;
    EXPECT_EQ(Found(g.name), g.name);
    EXPECT_GT(g.memory_gb, 0) << g.name;
    EXPECT_FALSE(g.source.empty()) << g.name;
    EXPECT_GE(g.bf16_tflops, 0) << g.name;
  }
  // Spot checks against the datasheets (dense = the sparse figure halved).
  EXPECT_DOUBLE_EQ(FindGpu("H100 SXM")->bf16_tflops, 989);
  EXPECT_DOUBLE_EQ(FindGpu("A100 80GB")->bf16_tflops, 312);
  EXPECT_DOUBLE_EQ(FindGpu("H200")->memory_gb, 141);
  EXPECT_DOUBLE_EQ(FindGpu("T4")->bf16_tflops, 0);
}

}  // namespace
}  // namespace loupe::launch
