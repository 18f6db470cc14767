#include "launch/gpu_inventory.h"

#include <cstdio>
#include <sstream>

#include "common/ascii_case.h"

namespace loupe::launch {

std::vector<GpuInfo> DetectGpus() {
  std::vector<GpuInfo> out;
  // At start, before Loupe's threads: popen's fork is safe here.
  FILE* p = popen("nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits 2>/dev/null", "r");
  if (!p) return out;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    std::string s(line);
    const size_t a = s.find(','), b = s.rfind(',');
    if (a == std::string::npos || b == a) continue;
    GpuInfo g;
    try {
      g.index = std::stoi(s.substr(0, a));
      g.memory_gb = std::stod(s.substr(b + 1)) / 1024.0;
    } catch (...) {
      continue;
    }
    g.name = s.substr(a + 1, b - a - 1);
    while (!g.name.empty() && g.name.front() == ' ') g.name.erase(g.name.begin());
    while (!g.name.empty() && g.name.back() == ' ') g.name.pop_back();
    out.push_back(g);
  }
  pclose(p);
  return out;
}

bool GpuMatches(const GpuInfo& gpu, const std::string& type) {
  return type.empty() || AsciiLower(gpu.name).find(AsciiLower(type)) != std::string::npos;
}

std::optional<std::vector<int>> PickGpus(const std::vector<GpuInfo>& all, const std::set<int>& busy, int count,
                                         const std::string& type) {
  std::vector<int> picked;
  for (const GpuInfo& g : all) {
    if (static_cast<int>(picked.size()) == count) break;
    if (!busy.count(g.index) && GpuMatches(g, type)) picked.push_back(g.index);
  }
  if (static_cast<int>(picked.size()) < count) return std::nullopt;
  return picked;
}

}  // namespace loupe::launch
