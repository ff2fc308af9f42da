// BN calibration and top-1 measurement of one sub-network (internal: ATen types).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "dataset.h"
#include "level_bn.h"
#include "supernet.h"

namespace dofa {

// OFA's set_running_statistics (ofa-facts §4): a fixed random subset of
// `images` training images (2000 in OFA) with the training transform, in
// batches of `batch` (200 in OFA), averaged per BN over the batches.
BnStats calibrate_bn(const Supernet& net, const Arch& a, const Dataset& train, int images = 2000, int batch = 200,
                     uint64_t seed = 0);

struct EvalResult {
  int correct = 0, n = 0;
  std::vector<uint8_t> hit;  // per image: top-1 correct
  double top1() const { return n ? 100.0 * correct / n : 0.0; }
};

// Top-1 of the arch with these BN statistics over `data` (limit > 0: its
// first `limit` images), through a materialised Level.
EvalResult evaluate(const Supernet& net, const Arch& a, const BnStats& stats, const Dataset& data, int limit = 0,
                    int batch = 500);

// Wilson score interval at 95 % for k successes of n, in percent.
std::pair<double, double> wilson95(int k, int n);

}  // namespace dofa
