#include "frame_stats.h"

#include <map>

#include "cli.h"
#include "rtm.h"

namespace dofa::cli {

bool meets_target(const FrameRecord& f) { return f.target_ms <= 0 || f.total_ms() <= f.target_ms; }

double p90_total_ms(const FrameSpan& s) {
  std::vector<double> t;
  for (size_t i = s.begin(); i < s.end(); ++i) t.push_back(s.frames[i].total_ms());
  return percentile(t, 90);
}

double met_share(const FrameSpan& s) {
  if (s.size() == 0) return 0;
  int met = 0;
  for (size_t i = s.begin(); i < s.end(); ++i) met += meets_target(s.frames[i]);
  return double(met) / double(s.size());
}

int level_changes(const FrameSpan& s) {
  int n = 0;
  for (size_t i = s.begin() + 1; i < s.end(); ++i) n += s.frames[i].level != s.frames[i - 1].level;
  return n;
}

int settled_level(const FrameSpan& s) {
  std::map<int, int> count;
  for (size_t i = s.begin(); i < s.end(); ++i) ++count[s.frames[i].level];
  int best = -1, most = 0;
  for (auto [level, c] : count)
    if (c > most) best = level, most = c;
  return best;
}

double top1(const FrameSpan& s) {
  int n = 0, right = 0;
  for (size_t i = s.begin(); i < s.end(); ++i)
    if (!s.frames[i].stale) ++n, right += s.frames[i].class_id == s.frames[i].label;
  return n ? 100.0 * right / n : 0;
}

int reaction_frames(const std::vector<FrameRecord>& frames, size_t step, size_t span) {
  for (size_t i = step; i + span <= frames.size(); ++i)
    if (meets_target(frames[i]) && met_share({frames, i, i + span}) >= 0.9) return int(i - step);
  return -1;
}

namespace {

// Frames after `step` until `moved(level, level before the step)` holds; -1 if never.
template <class Moved>
int frames_until(const std::vector<FrameRecord>& frames, size_t step, Moved moved) {
  if (step == 0 || step > frames.size()) return -1;
  for (size_t i = step; i < frames.size(); ++i)
    if (moved(frames[i].level, frames[step - 1].level)) return int(i - step);
  return -1;
}

}  // namespace

int frames_to_level_change(const std::vector<FrameRecord>& frames, size_t step) {
  return frames_until(frames, step, [](int level, int before) { return level != before; });
}

int frames_to_level_drop(const std::vector<FrameRecord>& frames, size_t step) {
  return frames_until(frames, step, [](int level, int before) { return level < before; });
}

size_t first_frame_at(const std::vector<FrameRecord>& frames, double t_ms) {
  size_t i = 0;
  while (i < frames.size() && frames[i].t_ms < t_ms) ++i;
  return i;
}

double rtm_fit_fraction() { return 1 - Rtm::kMargin - Rtm::kUpBand; }

}  // namespace dofa::cli
