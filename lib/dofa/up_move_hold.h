// UpMoveHold: how many frames in a row a move to a more accurate level must
// keep being wanted before the runtime manager makes it. A move down is made
// at once (the target must be met again soon); a move up can wait, and waiting
// is what keeps jitter from flipping the level.
//
// A level starts at one window. Each time load forces the RTM down from a
// level, going back up to it waits kRetryFrames, doubled for every further
// forced drop from it (at most kMaxDoublings times): a level whose p90 sits on
// the boundary is retried ever more rarely, so at constant load there is at
// most one change per kRetryFrames (the stability bound). A move up that then
// lasts kProbationFactor times as long as it waited takes one drop off the
// count, so a load that really went away is followed again at the normal
// pace; the runtime manager also clears the counts once frames stop waiting
// out another thread's time slices (Rtm::kWaitFactor). (Dynamic-OFA's run.sh
// pins a level it moved up to and failed at; ofa-facts §8.5.)
#pragma once

#include <vector>

namespace dofa {

class UpMoveHold {
 public:
  static constexpr int kRetryFrames = 100;
  static constexpr int kMaxDoublings = 5;  // 3200 frames: about 2 minutes at 25 fps
  // Long enough that a level whose p90 sits on a slow tail (about 10 % of frames
  // much slower) does not earn its retries back between two of its drops.
  static constexpr int kProbationFactor = 4;

  void reset(int num_levels);  // a setting changed: every level starts afresh
  // Load forced the level down from `from` to `to`: every level in (to, from]
  // failed (`from` alone when `to` is above it: levels' accuracies and
  // latencies need not rise together).
  void forced_down(int from, int to);
  // Frames a move from `current` up to the more accurate `up` must be wanted first.
  int frames_needed(int current, int up, int window) const;
  // The move was made after waiting `waited` frames; on probation
  // kProbationFactor times as long.
  void moved_up(int from, int to, int waited);
  void next_frame();  // counts the probation down

 private:
  std::vector<int> drops_;  // per level: forced drops not yet earned back
  int probation_from_ = 0, probation_to_ = -1, probation_left_ = 0;
};

}  // namespace dofa
