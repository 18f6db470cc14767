#include "launch/gpu_memory.h"

#include <cmath>

namespace loupe::launch {

namespace {

using nlohmann::json;

constexpr double kGiB = 1024.0 * 1024 * 1024;

double BytesOf(const std::string& precision) { return precision == "fp32" ? 4 : 2; }

}  // namespace

std::vector<SpecProblem> ParseModelShape(const json& body, const std::string& prefix, ModelShape& shape) {
  std::vector<SpecProblem> problems;
  auto problem = [&](const std::string& field, const std::string& message) {
    problems.push_back({prefix + field, message});
  };
  if (!body.is_object()) {
    problems.push_back({prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1), "must be an object"});
    return problems;
  }
  static const std::vector<std::string> kKnown = {"params", "hidden_size", "layers", "heads", "method", "precision",
                                                  "optimizer", "batch_size", "seq_len", "lora_rank",
                                                  "gradient_checkpointing"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(kKnown.begin(), kKnown.end(), it.key()) == kKnown.end()) problem(it.key(), "unknown key");
  }
  auto integer = [&](const char* key, int& out, int lo, int hi, bool required) {
    if (!body.contains(key)) {
      if (required) problem(key, "is required");
      return;
    }
    const json& v = body[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      problem(key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
      return;
    }
    out = static_cast<int>(v.get<int64_t>());
  };
  auto choice = [&](const char* key, std::string& out, const std::vector<std::string>& allowed) {
    if (!body.contains(key)) return;
    const json& v = body[key];
    if (!v.is_string() || std::find(allowed.begin(), allowed.end(), v.get<std::string>()) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      problem(key, "must be one of " + list);
      return;
    }
    out = v.get<std::string>();
  };
  if (!body.contains("params")) {
    problem("params", "is required (the model's parameter count, e.g. 7e9)");
  } else if (!body["params"].is_number() || !(body["params"].get<double>() >= 1e3) ||
             !(body["params"].get<double>() <= 1e13)) {
    problem("params", "must be a number of parameters from 1,000 to 1e13");
  } else {
    shape.params = body["params"].get<double>();
  }
  integer("hidden_size", shape.hidden_size, 16, 1 << 18, true);
  integer("layers", shape.layers, 1, 100000, true);
  integer("heads", shape.heads, 1, 100000, false);
  integer("batch_size", shape.batch_size, 1, 1 << 20, false);
  integer("seq_len", shape.seq_len, 1, 1 << 24, false);
  integer("lora_rank", shape.lora_rank, 1, 65536, false);
  choice("method", shape.method, {"full", "lora", "qlora"});
  choice("precision", shape.precision, {"bf16", "fp16", "fp32"});
  choice("optimizer", shape.optimizer, {"adamw", "adamw_8bit", "sgd"});
  if (body.contains("gradient_checkpointing")) {
    if (!body["gradient_checkpointing"].is_boolean()) {
      problem("gradient_checkpointing", "must be true or false");
    } else {
      shape.gradient_checkpointing = body["gradient_checkpointing"].get<bool>();
    }
  }
  if (shape.method == "qlora" && shape.precision == "fp32") problem("precision", "QLoRA computes in bf16 or fp16");
  return problems;
}

MemoryEstimate EstimateGpuMemory(const ModelShape& m) {
  MemoryEstimate e;
  const double p = m.params;
  const double h = m.hidden_size, layers = m.layers;
  const double bytes = BytesOf(m.precision);
  const bool mixed = m.precision != "fp32";
  // Parameters trained: all of them, or LoRA's adapters (A: h x r, B: r x h) on the four
  // attention projections of every layer.
  e.trainable = m.method == "full" ? p : layers * 4 * 2 * h * m.lora_rank;
  // Frozen or trained weights as stored: 16- or 32-bit, or QLoRA's 4-bit NF4 with its
  // double-quantized constants (0.127 bits a parameter, Dettmers et al. 2023).
  e.weights = m.method == "qlora" ? p * (4 + 0.127) / 8 : p * bytes;
  if (m.method != "full") e.weights += e.trainable * bytes;  // the adapters themselves
  e.gradients = e.trainable * bytes;
  // AdamW keeps two fp32 moments (8 bytes), its 8-bit variant two bytes, SGD with
  // momentum one fp32 buffer; mixed precision adds an fp32 master copy of what is trained.
  const double state = m.optimizer == "adamw" ? 8 : m.optimizer == "adamw_8bit" ? 2 : 4;
  e.optimizer = e.trainable * (state + (mixed ? 4 : 0));
  // Activations of one layer for a batch, 16-bit, no recomputation (Korthikanti et al.
  // 2022): s*b*h*(34 + 5*a*s/h) bytes; fp32 doubles it. With gradient checkpointing each
  // layer keeps only its input (2*s*b*h bytes) and one layer's whole set is recomputed.
  const double s = m.seq_len, b = m.batch_size;
  const double a = m.heads > 0 ? m.heads : std::max(1.0, h / 128);
  const double per_layer = s * b * h * (34 + 5 * a * s / h) * (bytes / 2);
  e.activations = m.gradient_checkpointing ? layers * 2 * s * b * h * (bytes / 2) + per_layer : layers * per_layer;
  // The CUDA context and cuBLAS workspaces (about 1 GiB), plus 10% for the allocator's
  // fragmentation.
  e.overhead = kGiB + 0.1 * (e.weights + e.gradients + e.optimizer + e.activations);
  return e;
}

json EstimateJson(const MemoryEstimate& e) {
  auto gib = [](double bytes) { return std::round(bytes / kGiB * 100) / 100; };
  return {{"weights_gb", gib(e.weights)},       {"gradients_gb", gib(e.gradients)},
          {"optimizer_gb", gib(e.optimizer)},   {"activations_gb", gib(e.activations)},
          {"overhead_gb", gib(e.overhead)},     {"total_gb", gib(e.total())},
          {"trainable_params", e.trainable}};
}

}  // namespace loupe::launch
