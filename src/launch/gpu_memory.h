// GPU memory a fine-tuning job needs, estimated before any compute is spent: weights,
// gradients and optimizer state from the parameter counts, activations from batch size
// and sequence length, for full fine-tuning, LoRA and QLoRA. The formula and its sources
// are in docs/api.md ("GPU memory estimate"). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "launch/job_spec.h"

namespace loupe::launch {

struct ModelShape {
  double params = 0;      // parameters of the model (7e9 for a 7B model)
  int hidden_size = 0;    // d_model
  int layers = 0;         // transformer blocks
  int heads = 0;          // attention heads (0: hidden_size / 128)
  std::string method = "full";     // full, lora, qlora
  std::string precision = "bf16";  // of weights and activations: bf16, fp16, fp32
  std::string optimizer = "adamw"; // adamw, adamw_8bit, sgd
  int batch_size = 1;     // per GPU
  int seq_len = 2048;
  int lora_rank = 16;     // lora and qlora: adapters on q, k, v, o of every layer
  bool gradient_checkpointing = false;
};

struct MemoryEstimate {
  double weights = 0;      // bytes, per GPU (each GPU holds the whole model: data parallel)
  double gradients = 0;
  double optimizer = 0;    // optimizer state and fp32 master weights of what is trained
  double activations = 0;
  double overhead = 0;     // CUDA context and allocator slack
  double trainable = 0;    // parameters trained
  double total() const { return weights + gradients + optimizer + activations + overhead; }
};

// Reads {"params", "hidden_size", "layers", "heads"?, "method"?, "precision"?, "optimizer"?,
// "batch_size"?, "seq_len"?, "lora_rank"?, "gradient_checkpointing"?}; problems name
// their field under `prefix` ("model.").
std::vector<SpecProblem> ParseModelShape(const nlohmann::json& body, const std::string& prefix, ModelShape& shape);

MemoryEstimate EstimateGpuMemory(const ModelShape& shape);

// {"weights_gb", ..., "total_gb", "trainable_params"} in GiB.
nlohmann::json EstimateJson(const MemoryEstimate& e);

}  // namespace loupe::launch
