// The fields of a spec's problems, in order: what the spec tests compare.
#pragma once

#include <string>
#include <vector>

#include "launch/job_spec.h"

namespace loupe::launch {

inline std::vector<std::string> Fields(const std::vector<SpecProblem>& problems) {
  std::vector<std::string> out;
  for (const SpecProblem& p : problems) out.push_back(p.field);
  return out;
}

}  // namespace loupe::launch
