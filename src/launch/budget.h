// Budget arithmetic: a job's elapsed time and cost summed over every segment it ran
// (starts, restarts, resumes), the hourly rate of a local job from configured prices,
// and which alert thresholds a job has crossed. Pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "launch/job_spec.h"
#include "store/launch_store.h"

namespace loupe::launch {

struct BudgetUse {
  double elapsed_seconds = 0;  // wall time over every segment; a running one counts up to `now`
  double cost = 0;             // US dollars: each segment's rate x its duration
};
BudgetUse UseOf(const std::vector<LaunchSegment>& segments, int64_t now_micros);

// The larger of time and money used against the caps (0 without caps).
double BudgetFraction(const JobBudget& budget, const BudgetUse& use);

// Alert bits for fractions crossed: 1 at 50%, 2 at 80%, 4 at 100%.
int AlertBits(double fraction);

// The hourly price of one GPU: the price named by the GPU's full name ("NVIDIA H100 80GB
// HBM3"), else by the type the spec asked for ("H100"), else the longest price name the
// GPU's name contains, ignoring case.
std::optional<double> GpuPrice(const std::map<std::string, double>& prices, const std::string& gpu_name,
                               const std::string& requested_type);

// US dollars per hour for a local job: cpus x prices["cpu"] + gpus x its GPU's price
// (GpuPrice of `gpu_type`, the GPU's name, and the spec's gpu_type).
// `missing` names the prices the rate needed but did not find.
double LocalRate(const JobResources& res, const std::string& gpu_type, const std::map<std::string, double>& prices,
                 std::vector<std::string>* missing = nullptr);

}  // namespace loupe::launch

namespace loupe::launch {

// Cost and time of segments by UTC day: a segment running over midnight is split at it,
// each part charged at its rate. `days` maps "YYYY-MM-DD" to {cost, seconds}; a running
// segment counts up to `now`.
struct DaySpend {
  double cost = 0;
  double seconds = 0;
};
void AddSpendByDay(const LaunchSegment& s, int64_t now_micros, std::map<std::string, DaySpend>& days);

}  // namespace loupe::launch
