// Latency measured on this device with the element's settings: batch 1,
// channels-last materialised levels, the calling thread's thread count
// (internal: ATen types).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "latency_lut.h"
#include "level.h"
#include "supernet.h"

namespace dofa {

struct LatencyStats {
  double mean = 0, p90 = 0, median = 0;  // ms, input tensor -> logits
};
// `runs` timed frames after `warmup` untimed ones, on the level's device.
LatencyStats measure_latency(const Level& level, int runs = 30, int warmup = 5);

// n levels measured side by side: `rounds` passes over all of them in a
// shuffled order, each level built by level_of(i) and timed for `runs` frames
// after `warmup`. Each figure is the median over rounds of that round's, so a
// burst of load on a shared machine spoils one round of every level rather
// than every round of one level, and ratios between levels hold.
std::vector<LatencyStats> measure_latencies_side_by_side(size_t n, const std::function<Level(size_t)>& level_of,
                                                         int rounds = 5, int runs = 10, int warmup = 3,
                                                         uint64_t seed = 0);

// Per-op tables for each resolution: every op key a sub-network can have
// (each (kernel, expand) at every block position), timed inside whole-network
// forwards of uniform and random archs.
LatencyLut profile_ops(const Supernet& net, int runs, int random_archs, uint64_t seed,
                       const std::function<void(const std::string&)>& log);

}  // namespace dofa
