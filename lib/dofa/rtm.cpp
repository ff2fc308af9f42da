#include "rtm.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "error.h"
#include "latency_window.h"
#include "level_choice.h"
#include "measured_levels.h"
#include "rtm_group.h"
#include "up_move_hold.h"

namespace dofa {

const char* to_string(RtmPolicy policy) {
  switch (policy) {
    case RtmPolicy::lut: return "lut";
    case RtmPolicy::reactive: return "reactive";
  }
  return "?";
}

const char* to_string(RtmReason reason) {
  switch (reason) {
    case RtmReason::none: return "none";
    case RtmReason::target: return "target";
    case RtmReason::accuracy_min: return "accuracy-min";
    case RtmReason::policy: return "policy";
    case RtmReason::automatic: return "automatic";
    case RtmReason::fixed: return "fixed";
    case RtmReason::load: return "load";
    case RtmReason::qos: return "qos";
    case RtmReason::group: return "group";
    case RtmReason::unreachable: return "unreachable";
  }
  return "?";
}

namespace {

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_settings(const RtmSettings& s, int num_levels) {
  if (!std::isfinite(s.target_ms) || s.target_ms < 0)
    throw Error("runtime manager: target " + number(s.target_ms) + " ms must be >= 0 (0 = no target)");
  if (!std::isfinite(s.accuracy_min) || s.accuracy_min < 0 || s.accuracy_min > 100)
    throw Error("runtime manager: accuracy-min " + number(s.accuracy_min) + " is outside 0..100 percent");
  if (s.window < 1 || s.window > Rtm::kMaxWindow)
    throw Error("runtime manager: window " + std::to_string(s.window) + " frames is outside 1.." +
                std::to_string(Rtm::kMaxWindow));
  if (s.fixed_level < -1 || s.fixed_level >= num_levels)
    throw Error("runtime manager: level " + std::to_string(s.fixed_level) + " is outside -1.." +
                std::to_string(num_levels - 1) + " (-1 = automatic)");
}

void check_frame(const FrameCost& f, int num_levels) {
  if (f.level < 0 || f.level >= num_levels)
    throw Error("runtime manager: frame level " + std::to_string(f.level) + " is outside 0.." +
                std::to_string(num_levels - 1));
  if (!std::isfinite(f.pre_ms) || f.pre_ms < 0)
    throw Error("runtime manager: frame pre_ms " + number(f.pre_ms) + " must be a finite number >= 0");
  if (!std::isfinite(f.infer_ms) || f.infer_ms < 0)
    throw Error("runtime manager: frame infer_ms " + number(f.infer_ms) + " must be a finite number >= 0");
}

// The setting whose change a fresh decision answers; none when nothing that
// steers the choice changed (a window change only resizes the windows).
RtmReason settings_change(const RtmSettings& before, const RtmSettings& now) {
  if (now.fixed_level != before.fixed_level) return now.fixed_level >= 0 ? RtmReason::fixed : RtmReason::automatic;
  if (now.target_ms != before.target_ms) return RtmReason::target;
  if (now.accuracy_min != before.accuracy_min) return RtmReason::accuracy_min;
  if (now.policy != before.policy || now.group != before.group) return RtmReason::policy;
  return RtmReason::none;
}

}  // namespace

struct Rtm::State {
  std::vector<RtmLevel> levels;
  RtmSettings settings;
  LatencyWindow pre, infer, total;
  LatencyWindow slowdown;  // infer_ms / L of the level that ran it
  MeasuredLevels measured;  // per level: its own frames; whether s * L holds
  std::atomic<double> qos_target_ms{0};

  long long frames = 0, switches = 0;
  int frames_since_change = 0;  // reactive: frames in the current (tumbling) window
  int up_wanted_frames = 0;     // lut: frames in a row that wanted a move up
  UpMoveHold up_hold;           // how long a move up must be wanted
  int reactive_up_windows = 0;  // reactive: windows in a row with head-room
  bool unreachable = false, conflict = false;
  bool held_by_qos = false;  // the last change was QoS's: the move back up is QoS's too
  long long frames_since_wait = 1LL << 40;  // frames since the last one over kWaitFactor x its level's median
  bool drops_with_waits = false;  // up_hold counts drops made while frames waited

  std::shared_ptr<RtmGroup> group;
  int member_id = -1;
  long group_epoch = -1;

  void set_window(int window) {
    pre.set_capacity(window);
    infer.set_capacity(window);
    total.set_capacity(window);
    slowdown.set_capacity(window);
    measured.set_window(window);
  }
  double slowdown_of(const FrameCost& f) const { return f.infer_ms / levels[f.level].latency_p90_ms; }
  FramePrediction prediction() const { return {pre.percentile(0.9, 0), slowdown.percentile(0.9, 1)}; }
  // T_eff = min(T, QoS target), T = 0 counting as no limit.
  bool qos_binds(double qos_ms) const { return qos_ms > 0 && (settings.target_ms == 0 || qos_ms < settings.target_ms); }
  // accuracy-min alone caps the level at the fastest one meeting it (energy, DESIGN.md §5).
  double accuracy_cap_for(const RtmSettings& s) const {
    if (s.target_ms > 0 || s.accuracy_min <= 0) return kNoLimit;
    return levels[energy_level(levels, s.accuracy_min)].accuracy;
  }
  double accuracy_cap() const { return accuracy_cap_for(settings); }
  void leave_group() {
    if (group) group->remove_member(member_id);
    group.reset();
    member_id = -1;
  }
};

Rtm::Rtm(std::vector<RtmLevel> levels, const RtmSettings& settings) : state_(std::make_unique<State>()) {
  check_rtm_levels(levels);
  check_settings(settings, static_cast<int>(levels.size()));
  State& st = *state_;
  st.levels = std::move(levels);
  st.set_window(settings.window);
  st.up_hold.reset(static_cast<int>(st.levels.size()));
  std::vector<double> latency_ms;
  for (const RtmLevel& l : st.levels) latency_ms.push_back(l.latency_p90_ms);
  st.measured.reset(latency_ms, settings.window);
  // Start from "no settings" so that the first decision is a fresh one.
  st.settings = settings;
  st.settings.fixed_level = -2;
  st.settings.group.clear();
  // With no frame yet the table alone decides (s = 1, pre = 0), whatever the policy.
  int first = settings.fixed_level;
  if (first < 0) {
    double budget = settings.target_ms > 0 ? settings.target_ms * (1 - kMargin) : kNoLimit;
    first = std::max(0, most_accurate_fitting(st.levels, FramePrediction{}, budget, st.accuracy_cap_for(settings)));
  }
  level_.store(first, std::memory_order_release);
  // The first decide() or update() is a fresh decision (fixed_level -2 above):
  // it joins the group and reports the episodes that already hold.
}

Rtm::~Rtm() { state_->leave_group(); }

int Rtm::num_levels() const { return static_cast<int>(state_->levels.size()); }
const std::vector<RtmLevel>& Rtm::levels() const { return state_->levels; }

void Rtm::on_qos(double proportion, double frame_duration_ms) {
  double q = 0;
  if (std::isfinite(proportion) && std::isfinite(frame_duration_ms) && proportion > 0 && frame_duration_ms > 0)
    q = frame_duration_ms / proportion;
  state_->qos_target_ms.store(q, std::memory_order_relaxed);
}

void Rtm::clear_qos() { state_->qos_target_ms.store(0, std::memory_order_relaxed); }
double Rtm::qos_target_ms() const { return state_->qos_target_ms.load(std::memory_order_relaxed); }

RtmStats Rtm::stats() const {
  const State& st = *state_;
  RtmStats s;
  s.level = level();
  s.frames = st.frames;
  s.switches = st.switches;
  s.samples = st.total.size();
  s.pre_p50_ms = st.pre.percentile(0.5);
  s.pre_p90_ms = st.pre.percentile(0.9);
  s.infer_p50_ms = st.infer.percentile(0.5);
  s.infer_p90_ms = st.infer.percentile(0.9);
  s.total_p90_ms = st.total.percentile(0.9);
  s.slowdown = st.slowdown.percentile(0.9, 1);
  return s;
}

RtmDecision Rtm::update(const FrameCost& frame, const RtmSettings& settings) {
  State& st = *state_;
  const int n = static_cast<int>(st.levels.size());
  check_frame(frame, n);
  check_settings(settings, n);
  if (settings.window != st.settings.window) st.set_window(settings.window);  // this frame counts in the new window
  const double median = st.measured.median(frame.level, kMinMeasuredFrames);  // of the level's own frames
  const bool waited = median > 0 && frame.pre_ms + frame.infer_ms > kWaitFactor * median;
  st.frames_since_wait = waited ? 0 : st.frames_since_wait + 1;
  if (st.drops_with_waits && st.frames_since_wait >= UpMoveHold::kRetryFrames) {
    st.up_hold.reset(n);  // the load that forced them has gone
    st.drops_with_waits = false;
  }
  st.pre.push(frame.pre_ms);
  st.infer.push(frame.infer_ms);
  st.total.push(frame.pre_ms + frame.infer_ms);
  // Divided by the p90 of the level that ran it, so samples of every level estimate one s (DESIGN.md §5).
  st.slowdown.push(st.slowdown_of(frame));
  ++st.frames;
  st.measured.push(frame.level, frame.pre_ms + frame.infer_ms, st.frames, st.pre.percentile(0.5));
  ++st.frames_since_change;
  st.up_hold.next_frame();
  return decide_after(settings, true);
}

RtmDecision Rtm::decide(const RtmSettings& settings) {
  check_settings(settings, static_cast<int>(state_->levels.size()));
  return decide_after(settings, false);
}

RtmDecision Rtm::decide_after(const RtmSettings& settings, bool new_frame) {
  State& st = *state_;
  const std::vector<RtmLevel>& levels = st.levels;
  const int n = static_cast<int>(levels.size());
  const RtmReason setting_reason = settings_change(st.settings, settings);
  const bool fresh = setting_reason != RtmReason::none;
  if (settings.window != st.settings.window) st.set_window(settings.window);
  if (settings.group != st.settings.group) {
    st.leave_group();
    if (!settings.group.empty()) {
      st.group = RtmGroup::join(settings.group);
      st.member_id = st.group->add_member(levels, level());
      st.group_epoch = -1;
    }
  }
  st.settings = settings;
  if (fresh) {
    // A new setting is a new episode: its messages are posted again if it still holds.
    st.unreachable = st.conflict = st.held_by_qos = false;
    st.up_wanted_frames = st.reactive_up_windows = 0;
    st.up_hold.reset(static_cast<int>(levels.size()));
    st.drops_with_waits = false;
  }
  const bool was_unreachable = st.unreachable;

  const int current = level();
  const double qos = st.qos_target_ms.load(std::memory_order_relaxed);  // read once: on_qos may run meanwhile
  const double target = st.qos_binds(qos) ? qos : settings.target_ms;
  const double budget = target > 0 ? target * (1 - kMargin) : kNoLimit;
  const double cap = st.accuracy_cap();
  const bool automatic = settings.fixed_level < 0;
  const int min_samples = std::min(settings.window, kMinMeasuredFrames);
  // A stream's first frames: the p90 of a few frames is their slowest, and a level's first
  // frames run on cold caches (`dofa bench switch`: up to 2.75x its median). Until the window
  // holds min_samples frames, lut and reactive go by the table, as before the first frame.
  const bool starting = !st.group && static_cast<int>(st.slowdown.size()) < min_samples;
  // A fixed level needs no prediction (a few percentiles per frame, which show on a sub-ms level).
  FramePrediction p = automatic && !starting ? st.prediction() : FramePrediction{};
  // Where a move showed that load does not scale with the level (measured_levels.h),
  // other levels go as L^e from what the current level's own frames measured.
  const bool by_measure = automatic && st.measured.prediction_fails();
  if (by_measure) {
    p.elasticity = st.measured.elasticity();
    p.reference_ms = levels[current].latency_p90_ms;
    const double here = st.measured.p90(current, st.frames, min_samples);
    if (here >= 0) p.slowdown = std::max(0.0, here - p.pre_ms) / p.reference_ms;
  }
  int next = current;
  bool by_group = false;
  int waited = 0;  // frames a move up was wanted before it was made
  bool missed = false;  // lut: the current level missed (a move away counts against it, up_move_hold.h)
  bool disturbed = false;  // group: another member moved (measured_levels.h)
  std::string group_round;  // group: the round that changed the level

  if (!automatic) {
    next = settings.fixed_level;
    st.unreachable = false;
    if (st.group && fresh) st.group->set_level(st.member_id, next, false);
  } else if (st.group) {
    if (fresh) {  // own choice first, as lut would; the coordinator adjusts from there
      int best = most_accurate_fitting(levels, p, budget, cap);
      next = best >= 0 ? best : 0;
      st.group->set_level(st.member_id, next, true);
    }
    GroupReport r;
    r.epoch = st.group_epoch;
    r.fresh_frames = st.slowdown.size();
    // Enough frames for the p90 to show a change both ways (DESIGN.md §5 window).
    r.settle_frames = std::min(settings.window, std::max(10, settings.window / 2));
    r.prediction = p;
    if (by_measure)
      for (int i = 0; i < n; ++i) r.measured_ms.push_back(st.measured.p90(i, st.frames, min_samples));
    r.target_ms = target;
    r.accuracy_cap = cap;
    r.accuracy_min = settings.accuracy_min;
    r.judging = st.measured.judging(current);
    r.window = settings.window;
    r.new_frame = new_frame;
    GroupVerdict v = st.group->report(st.member_id, r);
    if (v.epoch != st.group_epoch) {
      // Levels in the group changed: samples from before describe another load.
      st.slowdown.clear();
      st.group_epoch = v.epoch;
      disturbed = v.disturbed;
    }
    by_group = v.level != next;
    next = v.level;
    group_round = std::move(v.round);
    st.unreachable = v.unreachable;
  } else if (settings.policy == RtmPolicy::lut) {
    // Each level's expected p90: predicted, or, judged by measure, what its own recent frames
    // measured (seen[i] >= 0).
    std::vector<double> seen(static_cast<size_t>(n), -1), ms;
    for (int i = 0; i < n; ++i) {
      if (by_measure) seen[size_t(i)] = st.measured.p90(i, st.frames, min_samples);
      ms.push_back(seen[size_t(i)] >= 0 ? seen[size_t(i)] : p.ms(levels[i]));
    }
    // The current level misses when its predicted p90 is above the budget, or, judged by
    // measure, when its window p90 will be above T itself: the margin guards predictions.
    const int allowed_above = settings.window - static_cast<int>(std::ceil(0.9 * settings.window - 1e-9));
    const bool misses = by_measure ? st.measured.count_above(current, target > 0 ? target : kNoLimit) > allowed_above
                                   : p.ms(levels[current]) > budget;
    int best = most_accurate_fitting(levels, ms, budget, cap);
    if (by_measure && misses) {
      // Down to a level whose own recent frames met T (the rule it stayed by), where one has
      // them: L^e from one level misses the step of a time-sliced CPU (frames that fit between
      // its waits, or not; measured_levels.h), and a failed probe goes straight back.
      std::vector<double> known = seen;
      for (double& v : known)
        if (v < 0) v = kNoLimit;
      const int fits = most_accurate_fitting(levels, known, target > 0 ? target : kNoLimit, cap);
      if (fits >= 0) best = fits;
    }
    if (best < 0) best = 0;  // nothing fits: the fastest (DESIGN.md §5)
    missed = misses && !fresh;
    if (fresh || misses || levels[current].accuracy > cap) {
      next = best;  // a new setting, or the current level no longer fits: one jump
      // ... unless, judged by measure, the jump would not save more than the dead band.
      if (!fresh && by_measure && levels[current].accuracy <= cap &&
          ms[size_t(best)] > ms[size_t(current)] * (1 - kUpBand))
        next = current;
      st.up_wanted_frames = 0;
    } else if (new_frame) {
      // Up only with a dead band, and only when wanted on every frame of one window.
      // A level's own recent frames are what its window will show: as for staying on a
      // level, they are held against T itself (the margin guards predictions), banded.
      std::vector<double> banded = ms;
      for (int i = 0; i < n; ++i) {
        banded[size_t(i)] /= 1 - kUpBand;
        if (seen[size_t(i)] >= 0 && target > 0) banded[size_t(i)] *= 1 - kMargin;  // against T, not the budget
      }
      int up = most_accurate_fitting(levels, banded, budget, cap);
      if (by_measure && (up < 0 || levels[up].accuracy <= levels[current].accuracy)) {
        up = most_accurate_unmeasured(levels, current, seen, cap);  // nothing known fits better: a probe
      }
      if (up >= 0 && levels[up].accuracy > levels[current].accuracy) {
        // Judged by measure, a move to a level with no recent frames is blind: it waits longer.
        const int hold = st.up_hold.frames_needed(current, up, settings.window) *
                         (by_measure && seen[size_t(up)] < 0 ? kProbeHoldFactor : 1);
        if (++st.up_wanted_frames >= hold) {
          next = up;
          waited = st.up_wanted_frames;
        }
      } else {
        st.up_wanted_frames = 0;
      }
    }
    if (target > 0) {
      // Enter when level 0 misses T itself; leave when it fits T with the margin again.
      double at0 = ms[0];
      if (at0 > target) st.unreachable = true;
      else if (at0 <= budget) st.unreachable = false;
    } else {
      st.unreachable = false;
    }
  } else {  // reactive
    if (target <= 0 || levels[current].accuracy > cap) {
      next = most_accurate_fitting(levels, p, budget, cap);
      if (next < 0) next = 0;
      st.unreachable = false;
    } else if (new_frame && st.frames_since_change >= settings.window) {
      // One decision per window (the paper's sliding window, ofa-facts §8.5).
      double measured = st.total.percentile(0.9);
      if (measured > target) {
        st.reactive_up_windows = 0;
        if (current > 0) next = current - 1;
        else st.unreachable = true;
      } else {
        if (measured <= budget) st.unreachable = false;
        int up = current + 1;
        bool headroom = up < static_cast<int>(levels.size()) && levels[up].accuracy <= cap &&
                        p.ms(levels[up]) <= budget;
        st.reactive_up_windows = headroom ? st.reactive_up_windows + 1 : 0;
        int needed = std::max(kReactiveUpWindows,
                              (st.up_hold.frames_needed(current, up, settings.window) + settings.window - 1) /
                                  settings.window);
        if (st.reactive_up_windows >= needed) {
          next = up;
          waited = st.reactive_up_windows * settings.window;
        }
      }
      st.frames_since_change = 0;  // tumbling: the next decision sees only new frames
    }
  }

  RtmDecision d;
  d.previous_level = current;
  d.level = next;
  d.changed = next != current;
  if (d.changed) {
    if (st.unreachable && next == 0) d.reason = RtmReason::unreachable;
    else if (fresh && !by_group) d.reason = setting_reason;
    else if (by_group) d.reason = RtmReason::group;
    else if (st.qos_binds(qos) || (st.held_by_qos && next > current)) d.reason = RtmReason::qos;
    else d.reason = RtmReason::load;
    st.held_by_qos = d.reason == RtmReason::qos;
    d.forced_by_load = next < current && (!fresh || by_group);
    if (d.forced_by_load || missed) {
      st.up_hold.forced_down(current, next);
      st.drops_with_waits = st.drops_with_waits || st.frames_since_wait < settings.window;
    } else if (next > current && waited > 0) st.up_hold.moved_up(current, next, waited);
    ++st.switches;
    // A lut move is judged by the frames that follow it (measured_levels.h).
    // The median pre: its p90 under a busy thread holds the same waits as infer's.
    st.measured.entered(next, current, st.pre.percentile(0.5), std::min(settings.window, kMinMeasuredFrames));
    st.frames_since_change = 0;
    st.up_wanted_frames = st.reactive_up_windows = 0;
    level_.store(next, std::memory_order_release);
  }
  if (disturbed) st.measured.disturbed(next);
  d.unreachable = automatic && st.unreachable;
  d.unreachable_started = d.unreachable && !was_unreachable;
  // Latency wins over accuracy-min (DESIGN.md §5): flag it, once per episode.
  bool conflict = automatic && settings.accuracy_min > 0 && target > 0 &&
                  levels[next].accuracy < settings.accuracy_min;
  d.conflict = conflict;
  d.conflict_started = conflict && !st.conflict;
  st.conflict = conflict;
  d.target_ms = target;
  d.measured_ms = st.total.percentile(0.9);
  d.expected_accuracy = levels[next].accuracy;
  if (d.changed && by_group) d.group_round = std::move(group_round);
  return d;
}

}  // namespace dofa
