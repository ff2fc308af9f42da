#include "measured_levels.h"

#include <algorithm>
#include <cmath>

namespace dofa {

void MeasuredLevels::reset(const std::vector<double>& latency_ms, int window) {
  latency_ms_ = latency_ms;
  own_.assign(latency_ms.size(), LatencyWindow(window));
  last_.assign(latency_ms.size(), 0);
  judged_level_ = -1;
  prediction_fails_ = false;
  elasticity_ = 1;
}

void MeasuredLevels::set_window(int window) {
  for (LatencyWindow& w : own_) w.set_capacity(window);
}

void MeasuredLevels::push(int level, double total_ms, long long frame) {
  LatencyWindow& w = own_[static_cast<size_t>(level)];
  w.push(total_ms);
  last_[static_cast<size_t>(level)] = frame;
  if (level == judged_level_ && w.size() == w.capacity()) {
    const double to = w.percentile(0.9) - pre_ms_, from = from_p90_ - pre_ms_;
    const double e = to > 0 && from > 0 ? std::log(to / from) / std::log(latency_ms_[size_t(level)] / from_latency_ms_) : 0;
    if (e < kMinElasticity) prediction_fails_ = true;
    else if (e > kHoldsElasticity) prediction_fails_ = false;
    elasticity_ = std::clamp(e, 0.0, 1.0);
    judged_level_ = -1;
  }
}

void MeasuredLevels::entered(int level, int from, double pre_ms, int min_samples) {
  own_[static_cast<size_t>(level)].clear();
  judged_level_ = -1;
  const LatencyWindow& f = own_[static_cast<size_t>(from)];
  const double step = std::abs(std::log(latency_ms_[size_t(level)] / latency_ms_[size_t(from)]));
  if (f.size() < min_samples || step < kMinLogStep) return;
  judged_level_ = level;
  from_p90_ = f.percentile(0.9);
  from_latency_ms_ = latency_ms_[size_t(from)];
  pre_ms_ = pre_ms;
}

double MeasuredLevels::p90(int level, long long now, int min_samples) const {
  const LatencyWindow& w = own_[static_cast<size_t>(level)];
  if (w.size() < min_samples || w.size() == 0 || now - last_[static_cast<size_t>(level)] > kMemoryFrames) return -1;
  return w.percentile(0.9);
}

int MeasuredLevels::count_above(int level, double ms) const { return own_[static_cast<size_t>(level)].count_above(ms); }

}  // namespace dofa
