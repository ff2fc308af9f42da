#include "latency_window.h"

#include <algorithm>
#include <cmath>

#include "error.h"

namespace dofa {

LatencyWindow::LatencyWindow(int capacity) { set_capacity(capacity); }

void LatencyWindow::set_capacity(int capacity) {
  if (capacity < 1)
    throw Error("latency window: capacity " + std::to_string(capacity) + " must be >= 1");
  if (static_cast<size_t>(capacity) == ring_.size()) return;
  // Oldest first, then keep the newest ones that fit.
  std::vector<double> ordered;
  ordered.reserve(count_);
  for (size_t i = 0; i < count_; ++i)
    ordered.push_back(ring_[(next_ + ring_.size() - count_ + i) % ring_.size()]);
  size_t keep = std::min(ordered.size(), static_cast<size_t>(capacity));
  ring_.assign(static_cast<size_t>(capacity), 0.0);
  std::copy(ordered.end() - static_cast<std::ptrdiff_t>(keep), ordered.end(), ring_.begin());
  count_ = keep;
  next_ = keep % ring_.size();
}

void LatencyWindow::push(double sample) {
  ring_[next_] = sample;
  next_ = (next_ + 1) % ring_.size();
  count_ = std::min(count_ + 1, ring_.size());
}

void LatencyWindow::clear() {
  count_ = 0;
  next_ = 0;
}

double LatencyWindow::percentile(double q, double if_empty) const {
  size_t n = count_;
  if (n == 0) return if_empty;
  // Until the ring wraps the samples are ring_[0, n); after, all of it.
  scratch_.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
  // Nearest rank; the epsilon keeps 0.9 * 30 from rounding up to rank 28.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  size_t index = std::min(n, std::max<size_t>(rank, 1)) - 1;
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(index), scratch_.end());
  return scratch_[index];
}

int LatencyWindow::count_above(double x) const {
  return static_cast<int>(std::count_if(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(count_),
                                        [x](double v) { return v > x; }));
}

}  // namespace dofa
