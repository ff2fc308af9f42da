// LatencyWindow: the last N samples of one per-frame figure (milliseconds or a
// ratio) and their percentiles. The runtime manager keeps one per figure; N is
// the `window` setting and may change between frames.
#pragma once

#include <cstddef>
#include <vector>

namespace dofa {

class LatencyWindow {
 public:
  explicit LatencyWindow(int capacity = 1);

  // Keeps the newest min(size, capacity) samples. capacity >= 1.
  void set_capacity(int capacity);
  void push(double sample);
  void clear();
  int size() const { return static_cast<int>(count_); }
  int capacity() const { return static_cast<int>(ring_.size()); }

  // Nearest-rank percentile, q in (0, 1] (0.9 of 30 samples is the 27th smallest):
  // always a sample that was seen, never an interpolation. `if_empty` when there is none.
  double percentile(double q, double if_empty = 0) const;
  int count_above(double x) const;  // samples > x

 private:
  std::vector<double> ring_;
  size_t next_ = 0;   // where the next sample goes
  size_t count_ = 0;  // samples held
  mutable std::vector<double> scratch_;  // reused by percentile()
};

}  // namespace dofa
