#include "profile.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "augment.h"
#include "error.h"
#include "op_keys.h"

namespace dofa {

LatencyStats measure_latency(const Level& level, int runs, int warmup) {
  at::Tensor x = at::randn({1, level.in_channels(), level.resolution(), level.resolution()}).to(level.device());
  for (int i = 0; i < warmup; ++i) level.timed_forward(x);
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, runs); ++i) ms.push_back(level.timed_forward(x));
  LatencyStats s;
  for (double v : ms) s.mean += v / double(ms.size());
  std::sort(ms.begin(), ms.end());
  s.median = ms[ms.size() / 2];
  s.p90 = ms[std::min(ms.size() - 1, size_t(std::ceil(0.9 * double(ms.size()))) - 1)];
  return s;
}

std::vector<LatencyStats> measure_latencies_side_by_side(size_t n, const std::function<Level(size_t)>& level_of,
                                                         int rounds, int runs, int warmup, uint64_t seed) {
  std::vector<std::vector<LatencyStats>> per(n);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed, 0x51de);
  for (int r = 0; r < std::max(1, rounds); ++r) {
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[size_t(rng.below(int(i)))]);
    for (size_t i : order) per[i].push_back(measure_latency(level_of(i), runs, warmup));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<LatencyStats> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> mean, p90, med;
    for (const LatencyStats& s : per[i]) mean.push_back(s.mean), p90.push_back(s.p90), med.push_back(s.median);
    out[i] = {median(mean), median(p90), median(med)};
  }
  return out;
}

LatencyLut profile_ops(const Supernet& net, int runs, int random_archs, uint64_t seed,
                       const std::function<void(const std::string&)>& log) {
  const Spec& spec = net.spec();
  LatencyLut lut;
  for (int r : spec.resolutions) {
    // Uniform archs at full depth cover every (kernel, expand) at every block
    // position; random ones time the ops amid other shapes, as they will run.
    std::vector<Arch> archs;
    for (int k : spec.kernel_sizes)
      for (int e : spec.expand_ratios) {
        Arch a = Arch::max(spec);
        std::fill(a.ks.begin(), a.ks.end(), k);
        std::fill(a.e.begin(), a.e.end(), e);
        archs.push_back(a);
      }
    for (int i = 0; i < random_archs; ++i) archs.push_back(Arch::random(spec, seed * 1000003 + uint64_t(i)));
    std::map<std::string, std::vector<double>> samples;
    at::Tensor x = at::randn({1, spec.in_channels, r, r});
    for (Arch a : archs) {
      a.r = r;
      Level level(net, a, nullptr);
      const std::vector<std::string> keys = op_keys(spec, a);
      for (int i = 0; i < 3; ++i) level.forward(x);
      for (int i = 0; i < runs; ++i) {
        std::vector<double> ms;
        level.forward(x, &ms);
        if (ms.size() != keys.size()) throw Error("profile: op timings do not match the op keys");
        for (size_t j = 0; j < ms.size(); ++j) samples[keys[j]].push_back(ms[j]);
      }
    }
    LatencyLut::Table& t = lut.tables[r];
    for (auto& [k, v] : samples) {
      // The median half of the samples: scheduler hiccups would dominate a plain mean.
      std::sort(v.begin(), v.end());
      const size_t lo = v.size() / 4, hi = std::max(lo + 1, v.size() - v.size() / 4);
      OpStat s;
      s.count = (long long)(hi - lo);
      for (size_t i = lo; i < hi; ++i) s.mean += v[i] / double(hi - lo);
      for (size_t i = lo; i < hi; ++i) s.std += (v[i] - s.mean) * (v[i] - s.mean) / double(hi - lo);
      s.std = std::sqrt(s.std);
      t[k] = s;
    }
    if (log) log("resolution " + std::to_string(r) + ": " + std::to_string(t.size()) + " ops from " +
                 std::to_string(archs.size()) + " sub-networks x " + std::to_string(runs) + " runs");
  }
  return lut;
}

}  // namespace dofa
