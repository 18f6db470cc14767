// The GPU memory estimate against hand-worked figures for a 7B model (Llama 2 7B's shape:
// 6.74e9 parameters, hidden 4096, 32 layers, 32 heads), bf16, batch 1, 2,048 tokens.
#include <gtest/gtest.h>

#include "launch/gpu_memory.h"

namespace loupe::launch {
namespace {

using nlohmann::json;

ModelShape Llama7B(const std::string& method) {
  ModelShape m;
  std::vector<SpecProblem> p = ParseModelShape(
      {{"params", 6.74e9}, {"hidden_size", 4096}, {"layers", 32}, {"heads", 32}, {"method", method}}, "", m);
  EXPECT_TRUE(p.empty()) << ProblemsText(p);
  return m;
}

TEST(GpuMemoryTest, FullFineTuningWithAdamW) {
  const MemoryEstimate e = EstimateGpuMemory(Llama7B("full"));
  EXPECT_DOUBLE_EQ(e.trainable, 6.74e9);
  EXPECT_DOUBLE_EQ(e.weights, 13.48e9);    // 2 bytes each
  EXPECT_DOUBLE_EQ(e.gradients, 13.48e9);  // 2 bytes each
  EXPECT_DOUBLE_EQ(e.optimizer, 80.88e9);  // 8 (two fp32 moments) + 4 (fp32 master) bytes each
  // A layer: 2048 x 1 x 4096 x (34 + 5 x 32 x 2048 / 4096) = 956,301,312 bytes; 32 layers.
  EXPECT_DOUBLE_EQ(e.activations, 30601641984.0);
  EXPECT_NEAR(e.overhead, 1073741824.0 + 0.1 * 138441641984.0, 1);
  EXPECT_NEAR(e.total() / (1 << 30), 142.83, 0.01);
  EXPECT_EQ(EstimateJson(e)["total_gb"], 142.83);
}

TEST(GpuMemoryTest, QloraWithGradientCheckpointing) {
  ModelShape m = Llama7B("qlora");
  m.gradient_checkpointing = true;
  const MemoryEstimate e = EstimateGpuMemory(m);
  EXPECT_DOUBLE_EQ(e.trainable, 16777216);  // 32 layers x 4 projections x (4096x16 + 16x4096)
  EXPECT_NEAR(e.weights, 6.74e9 * 4.127 / 8 + 33554432, 1);  // NF4 + double-quantized constants, adapters in bf16
  EXPECT_DOUBLE_EQ(e.gradients, 33554432);
  EXPECT_DOUBLE_EQ(e.optimizer, 201326592);
  EXPECT_DOUBLE_EQ(e.activations, 32.0 * 2 * 2048 * 4096 + 956301312);  // the layers' inputs + one layer
  EXPECT_NEAR(e.total(), 6836207522.0, 2);
  EXPECT_NEAR(e.total() / (1 << 30), 6.37, 0.01);  // a 24 GB GPU holds it; the full run needs two 80 GB ones
}

TEST(GpuMemoryTest, LoraKeepsTheFrozenWeightsInBf16) {
  const MemoryEstimate e = EstimateGpuMemory(Llama7B("lora"));
  EXPECT_DOUBLE_EQ(e.weights, 13.48e9 + 33554432);
  EXPECT_DOUBLE_EQ(e.optimizer, 201326592);
}

TEST(GpuMemoryTest, BadShapesNameTheirField) {
  ModelShape m;
  std::vector<SpecProblem> p = ParseModelShape({{"params", "7B"}, {"layers", 0}, {"method", "dora"}, {"x", 1}}, "model.", m);
  std::vector<std::string> fields;
  for (const SpecProblem& x : p) fields.push_back(x.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"model.x", "model.params", "model.hidden_size", "model.layers",
                                              "model.method"}));
}

}  // namespace
}  // namespace loupe::launch
