#include "up_move_hold.h"

#include <algorithm>

namespace dofa {

void UpMoveHold::reset(int num_levels) {
  drops_.assign(static_cast<size_t>(num_levels), 0);
  probation_to_ = -1;
  probation_left_ = 0;
}

void UpMoveHold::forced_down(int from, int to) {
  if (to >= from && from >= 0 && from < static_cast<int>(drops_.size())) ++drops_[from];  // a faster level of higher index
  for (int l = std::max(to + 1, 0); l <= from && l < static_cast<int>(drops_.size()); ++l) ++drops_[l];
  probation_to_ = -1;  // the last move up did not last
}

int UpMoveHold::frames_needed(int current, int up, int window) const {
  int drops = up < current && up >= 0 ? drops_[up] : 0;  // more accurate, yet faster in the table
  for (int l = std::max(current + 1, 0); l <= up && l < static_cast<int>(drops_.size()); ++l)
    drops = std::max(drops, drops_[l]);
  if (drops == 0) return window;
  return std::max(window, kRetryFrames << std::min(drops - 1, kMaxDoublings));
}

void UpMoveHold::moved_up(int from, int to, int waited) {
  probation_from_ = from;
  probation_to_ = to;
  probation_left_ = kProbationFactor * waited;
}

void UpMoveHold::next_frame() {
  if (probation_to_ < 0 || --probation_left_ > 0) return;
  for (int l = probation_from_ + 1; l <= probation_to_; ++l) drops_[l] = std::max(0, drops_[l] - 1);
  probation_to_ = -1;
}

}  // namespace dofa
