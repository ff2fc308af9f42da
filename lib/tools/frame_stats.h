// What a run of frames did (StreamRun records): percentiles, the share within
// target, reaction after a step, level changes. A frame meets its target when
// pre + infer <= the latency-ms in force for it (always, with no target).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stream_run.h"

namespace dofa::cli {

// Frames [from, to) of a run, clamped to its size.
struct FrameSpan {
  const std::vector<FrameRecord>& frames;
  size_t from = 0, to = SIZE_MAX;
  size_t begin() const { return from; }
  size_t end() const { return to < frames.size() ? to : frames.size(); }
  size_t size() const { return end() > begin() ? end() - begin() : 0; }
};

bool meets_target(const FrameRecord& f);
double p90_total_ms(const FrameSpan& s);
double met_share(const FrameSpan& s);  // 0..1; 0 for an empty span
int level_changes(const FrameSpan& s);  // between consecutive frames of the span
int settled_level(const FrameSpan& s);  // the level most frames ran on; -1 if empty
double top1(const FrameSpan& s);        // percent of classified (not stale) frames whose class is the label

// Frames after `step` until the first frame within target from which on at
// least 90 % of the next `span` frames are within target too; -1 if never.
int reaction_frames(const std::vector<FrameRecord>& frames, size_t step, size_t span = 30);
// Frames after `step` until the level first differs from the one before the step; -1 if never.
int frames_to_level_change(const std::vector<FrameRecord>& frames, size_t step);
// Frames after `step` until a frame ran below the level of the frame before it; -1 if none did.
int frames_to_level_drop(const std::vector<FrameRecord>& frames, size_t step);
// The first frame that left the element at or after t_ms (frames.size() if none):
// where a step timed by another chain falls in this one.
size_t first_frame_at(const std::vector<FrameRecord>& frames, double t_ms);

// Share of a target a level's p90 may take for the RTM to choose it: its
// head-room (Rtm::kMargin) and its dead band for moves up (Rtm::kUpBand).
double rtm_fit_fraction();

}  // namespace dofa::cli
