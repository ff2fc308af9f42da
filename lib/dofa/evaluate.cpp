#include "evaluate.h"

#include <c10/core/GradMode.h>
#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>

#include "batch.h"
#include "level.h"

namespace dofa {

BnStats calibrate_bn(const Supernet& net, const Arch& a, const Dataset& train, int images, int batch,
                     uint64_t seed) {
  c10::NoGradGuard no_grad;
  const int n = std::min(images, train.size());
  std::vector<int> ids = shuffled(train.size(), seed, 0xca11b);
  ids.resize(size_t(n));
  BnCalibration cal;
  ForwardOptions o;
  o.mode = BnMode::Calibrate;
  o.calibration = &cal;
  o.channels_last = true;
  Rng rng(seed, 0xca11b, 1);
  for (int from = 0; from < n; from += batch) {
    Batch b = make_batch(train, ids, size_t(from), size_t(std::min(batch, n - from)), net.spec(), a.r, &rng);
    net.forward(b.x, a, o);
  }
  return cal.result();
}

EvalResult evaluate(const Supernet& net, const Arch& a, const BnStats& stats, const Dataset& data, int limit,
                    int batch) {
  // Batches run fastest through ATen's threaded convolutions; the own
  // kernels are for frames one at a time (test_supernet checks they agree).
  Level level(net, a, &stats, CpuKernels::AtenChannelsLast);
  const int n = limit > 0 ? std::min(limit, data.size()) : data.size();
  const std::vector<int> ids = iota_ids(data.size());
  EvalResult r;
  r.n = n;
  r.hit.resize(size_t(n));
  for (int from = 0; from < n; from += batch) {
    Batch b = make_batch(data, ids, size_t(from), size_t(std::min(batch, n - from)), net.spec(), a.r, nullptr);
    at::Tensor pred = level.forward(b.x).argmax(1);
    at::Tensor ok = pred.eq(b.labels).to(at::kByte).contiguous();
    const uint8_t* p = ok.data_ptr<uint8_t>();
    for (int64_t i = 0; i < ok.size(0); ++i) {
      r.hit[size_t(from + i)] = p[i];
      r.correct += p[i];
    }
  }
  return r;
}

std::pair<double, double> wilson95(int k, int n) {
  if (n <= 0) return {0.0, 100.0};
  const double z = 1.959963984540054, p = double(k) / n, z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
  return {100.0 * std::max(0.0, centre - half), 100.0 * std::min(1.0, centre + half)};
}

}  // namespace dofa
