// Level choice: the rules of DESIGN.md §5 as pure functions of the levels and
// a prediction of the frame time. Shared by the lut policy and the group
// coordinator.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "rtm_level.h"

namespace dofa {

constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// One frame's time on a level: pre_p90 + s * L_i,p90, where s is the window
// p90 of infer_ms / L (DESIGN.md §5). With no samples: pre 0, s 1.
// Where load does not scale with the level (measured_levels.h), the time that
// depends on the level goes as L^e, e != 1, from the level it was measured on:
// pre + s * L_ref * (L_i / L_ref)^e.
struct FramePrediction {
  double pre_ms = 0;
  double slowdown = 1;
  double elasticity = 1;
  double reference_ms = 0;  // L_ref, the latency figure of the level measured; used when elasticity != 1
  double ms(const RtmLevel& level) const { return pre_ms + infer_ms(level); }
  double infer_ms(const RtmLevel& level) const {
    if (elasticity == 1 || reference_ms <= 0) return slowdown * level.latency_p90_ms;
    return slowdown * reference_ms * std::pow(level.latency_p90_ms / reference_ms, elasticity);
  }
};

// The most accurate level whose accuracy is <= accuracy_cap and whose predicted
// time is <= budget_ms (ties: the faster); -1 when none fits.
int most_accurate_fitting(const std::vector<RtmLevel>& levels, const FramePrediction& p,
                          double budget_ms, double accuracy_cap = kNoLimit);
// The same with each level's expected time given: ms[i] for level i.
int most_accurate_fitting(const std::vector<RtmLevel>& levels, const std::vector<double>& ms,
                          double budget_ms, double accuracy_cap = kNoLimit);

// Judged by measure (measured_levels.h), the probe when nothing measured fits
// better: the most accurate level more accurate than `current`, within the cap,
// with no recent figure of its own (seen_ms[i] < 0); -1 when none.
int most_accurate_unmeasured(const std::vector<RtmLevel>& levels, int current, const std::vector<double>& seen_ms,
                             double accuracy_cap = kNoLimit);

// accuracy-min with no latency target (DESIGN.md §5): the fastest level whose
// accuracy >= accuracy_min saves energy; the most accurate level when none
// reaches it, or when accuracy_min is 0.
int energy_level(const std::vector<RtmLevel>& levels, double accuracy_min);

}  // namespace dofa
