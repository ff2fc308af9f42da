// Level choice: the rules of DESIGN.md §5 as pure functions of the levels and
// a prediction of the frame time. Shared by the lut policy and the group
// coordinator.
#pragma once

#include <limits>
#include <vector>

#include "rtm_level.h"

namespace dofa {

constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// One frame's time on a level: pre_p90 + s * L_i,p90, where s is the window
// p90 of infer_ms / L (DESIGN.md §5). With no samples: pre 0, s 1.
struct FramePrediction {
  double pre_ms = 0;
  double slowdown = 1;
  double ms(const RtmLevel& level) const { return pre_ms + slowdown * level.latency_p90_ms; }
};

// The most accurate level whose accuracy is <= accuracy_cap and whose predicted
// time is <= budget_ms (ties: the faster); -1 when none fits.
int most_accurate_fitting(const std::vector<RtmLevel>& levels, const FramePrediction& p,
                          double budget_ms, double accuracy_cap = kNoLimit);
// The same with each level's expected time given: ms[i] for level i.
int most_accurate_fitting(const std::vector<RtmLevel>& levels, const std::vector<double>& ms,
                          double budget_ms, double accuracy_cap = kNoLimit);

// accuracy-min with no latency target (DESIGN.md §5): the fastest level whose
// accuracy >= accuracy_min saves energy; the most accurate level when none
// reaches it, or when accuracy_min is 0.
int energy_level(const std::vector<RtmLevel>& levels, double accuracy_min);

}  // namespace dofa
