#include "measured_levels.h"

#include <algorithm>
#include <cmath>

namespace dofa {

void MeasuredLevels::reset(const std::vector<double>& latency_ms, int window) {
  latency_ms_ = latency_ms;
  own_.assign(latency_ms.size(), LatencyWindow(window));
  last_.assign(latency_ms.size(), 0);
  judged_level_ = -1;
  from_latency_ms_ = 0;
  reference_open_ = false;
  weak_ = false;
  prediction_fails_ = false;
  elasticity_ = 1;
}

void MeasuredLevels::set_window(int window) {
  for (LatencyWindow& w : own_) w.set_capacity(window);
}

void MeasuredLevels::push(int level, double total_ms, long long frame, double pre_ms) {
  LatencyWindow& w = own_[static_cast<size_t>(level)];
  w.push(total_ms);
  last_[static_cast<size_t>(level)] = frame;
  if (level == judged_level_ && w.size() == w.capacity()) {
    const double pre = std::min(pre_ms_, pre_ms);
    const double to = w.percentile(0.9) - pre, from = from_p90_ - pre;
    const double e = to > 0 && from > 0 ? std::log(to / from) / std::log(latency_ms_[static_cast<size_t>(level)] / from_latency_ms_) : 0;
    if (e < kMinElasticity || e > kMaxElasticity) prediction_fails_ = true;
    else if (e >= kHoldsElasticity && e <= 1 / kHoldsElasticity) prediction_fails_ = false;
    elasticity_ = std::clamp(e, 0.0, kMaxElasticity);
    judged_level_ = -1;
  }
}

void MeasuredLevels::entered(int level, int from, double pre_ms, int min_samples) {
  const LatencyWindow& f = own_[static_cast<size_t>(from)];
  const long long now = last_[static_cast<size_t>(from)];
  // The move is judged against `from`, or, where a quick run of moves left it
  // too few frames, against the last level before it that had enough; and
  // where the moves since that level were too small to judge or left before
  // their judgement (a dense family, stepped one level at a time), against
  // that level still, so that the run is judged once it spans kMinLogStep.
  const bool known = from_latency_ms_ > 0 && now - from_frame_ <= kMemoryFrames;
  const bool open = (reference_open_ || judged_level_ == from) && known;
  // Where the reference is `from` itself, its newer frames replace it. With no
  // other reference (load from the first frame), the few frames that made the
  // move, for a run of moves spanning kMinLogStepFewFrames.
  const bool is_reference = latency_ms_[static_cast<size_t>(from)] == from_latency_ms_;
  if ((f.size() >= min_samples && (!open || is_reference)) || (f.size() > 0 && !known)) {
    weak_ = f.size() < min_samples;
    from_p90_ = f.percentile(0.9);
    from_latency_ms_ = latency_ms_[static_cast<size_t>(from)];
    from_frame_ = now;
  }
  own_[static_cast<size_t>(level)].clear();
  judged_level_ = -1;
  reference_open_ = false;
  if (from_latency_ms_ <= 0 || now - from_frame_ > kMemoryFrames) return;
  reference_open_ = std::abs(std::log(latency_ms_[static_cast<size_t>(level)] / from_latency_ms_)) <
                    (weak_ ? kMinLogStepFewFrames : kMinLogStep);
  if (reference_open_) return;
  judged_level_ = level;
  pre_ms_ = pre_ms;
}

void MeasuredLevels::disturbed(int level) {
  own_[static_cast<size_t>(level)].clear();
  judged_level_ = -1;
  from_latency_ms_ = 0;
  reference_open_ = false;
}

double MeasuredLevels::p90(int level, long long now, int min_samples) const {
  const LatencyWindow& w = own_[static_cast<size_t>(level)];
  if (w.size() < min_samples || w.size() == 0 || now - last_[static_cast<size_t>(level)] > kMemoryFrames) return -1;
  return w.percentile(0.9);
}

double MeasuredLevels::median(int level, int min_samples) const {
  const LatencyWindow& w = own_[static_cast<size_t>(level)];
  return w.size() < std::max(min_samples, 1) ? -1 : w.percentile(0.5);
}

int MeasuredLevels::count_above(int level, double ms) const { return own_[static_cast<size_t>(level)].count_above(ms); }

}  // namespace dofa
