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

// Per-op tables for each resolution: every op key a sub-network can have
// (each (kernel, expand) at every block position), timed inside whole-network
// forwards of uniform and random archs.
LatencyLut profile_ops(const Supernet& net, int runs, int random_archs, uint64_t seed,
                       const std::function<void(const std::string&)>& log);

}  // namespace dofa
