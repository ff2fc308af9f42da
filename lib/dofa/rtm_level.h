// RtmLevel: what the runtime manager knows of one level. Levels are numbered
// 0 (fastest) to n-1 (most accurate), as in the level table.
#pragma once

#include <vector>

namespace dofa {

struct RtmLevel {
  double accuracy = 0;        // expected top-1, percent
  double latency_p90_ms = 0;  // input tensor -> logits; the figure measured at load is preferred
};

// Pairs the two per-level lists; throws Error when their sizes differ or a value is bad.
std::vector<RtmLevel> make_rtm_levels(const std::vector<double>& accuracy_pct,
                                      const std::vector<double>& latency_p90_ms);

// Throws Error naming the level and value: empty list, accuracy outside 0..100,
// latency not a finite number > 0.
void check_rtm_levels(const std::vector<RtmLevel>& levels);

}  // namespace dofa
