// Runtime manager: the policies of DESIGN.md §5 on synthetic levels and a
// seeded latency model (infer = L_level * load * noise, noise uniform 0.9-1.3),
// judged against an oracle measured the way the benchmark measures it (each
// level's p90 at a fixed level under the same load).
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "error.h"
#include "latency_window.h"
#include "measured_levels.h"
#include "rtm.h"
#include "rtm_group.h"
#include "test_util.h"
#include "up_move_hold.h"

namespace {

using dofa::FrameCost;
using dofa::Rtm;
using dofa::RtmDecision;
using dofa::RtmLevel;
using dofa::RtmPolicy;
using dofa::RtmReason;
using dofa::RtmSettings;

// Six levels, p90 10..40 ms, accuracy 70..79 %.
std::vector<RtmLevel> six_levels() {
  return dofa::make_rtm_levels({70, 72, 74, 76, 77.5, 79}, {10, 16, 22, 28, 34, 40});
}

// The built-in model's levels: test top-1 (not rising with the level
// everywhere) and p90 measured at load.
std::vector<RtmLevel> builtin_like_levels() {
  return dofa::make_rtm_levels({85.22, 88.39, 88.54, 88.86, 88.31, 88.88}, {1.14, 1.45, 2.03, 2.47, 2.87, 3.59});
}

// The built-in model's levels on its own kernels: sub-millisecond frames, well
// under a busy thread's time slice (luts/fmnist-mbv3-cpu.json, p90 at load).
std::vector<RtmLevel> builtin_fast_levels() {
  return dofa::make_rtm_levels({89.39, 90.20, 91.19, 91.24, 91.42, 91.92}, {0.18, 0.35, 0.49, 0.61, 0.66, 1.08});
}

// A dense family (the built-in model's levels on earlier weights, 0.90-1.15 ms),
// whose one-level steps are too small to judge through a p90's noise
// (measured_levels.h).
std::vector<RtmLevel> flat_levels() {
  return dofa::make_rtm_levels({86.46, 88.05, 89.68, 90.02, 90.12, 90.49}, {0.90, 0.95, 1.0, 1.05, 1.10, 1.15});
}

// Seeded uniform numbers; mt19937_64's output is fixed by the standard, so every
// library gives the same sequence.
class Noise {
 public:
  explicit Noise(uint64_t seed) : rng_(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  }

 private:
  std::mt19937_64 rng_;
};

// What a frame costs: pre about 1 ms, infer = L * load * interference, both with
// 0.9-1.3 noise; optionally a share of frames 1.6 times slower (a slow tail).
class Machine {
 public:
  explicit Machine(uint64_t seed) : noise_(seed) {}
  double load = 1;
  double pre_ms = 1.1;
  double slow_share = 0;
  // A busy thread on the same CPU, frames of a few milliseconds: this share of
  // frames is preempted and ends after about one time slice, whatever the level.
  double slice_share = 0, slice_ms = 0;
  // A busy thread on the same CPU, frames well under its time slice: the
  // element runs for about burst_ms, then waits about wait_ms while the thread
  // runs; the frame that spans the end of a burst takes the wait too. A level
  // whose frames are a tenth of a burst is preempted on about every tenth frame:
  // levels' p90s split into those that fit between waits and those that do not
  // (`dofa bench rtm`: 0.2-0.5 ms against 4.6-5.5 ms, bursts and waits of 4-5 ms).
  double burst_ms = 0, wait_ms = 0;
  FrameCost run(const std::vector<RtmLevel>& levels, int level, double interference = 1) {
    double pre = pre_ms * noise_.uniform(0.9, 1.3) / 1.1;
    double infer = levels[level].latency_p90_ms * load * interference * noise_.uniform(0.9, 1.3);
    if (slow_share > 0 && noise_.uniform(0, 1) < slow_share) infer *= 1.6;
    if (slice_share > 0 && noise_.uniform(0, 1) < slice_share) infer = slice_ms * noise_.uniform(0.9, 1.1);
    if (burst_ms > 0) {
      run_left_ -= pre + infer;
      if (run_left_ < 0) {
        infer += wait_ms * noise_.uniform(0.9, 1.1);
        run_left_ += burst_ms * noise_.uniform(0.8, 1.2);
      }
    }
    return {level, pre, infer};
  }

 private:
  Noise noise_;
  double run_left_ = 0;
};

// A busy thread's bursts and waits (Machine), with a pre of 0.05 ms.
Machine time_sliced(uint64_t seed) {
  Machine m(seed);
  m.pre_ms = 0.05;
  m.burst_ms = 5;
  m.wait_ms = 4;
  return m;
}

// p90 of pre + infer at a fixed level, measured like the benchmark's oracle.
double oracle_p90(const std::vector<RtmLevel>& levels, int level, double load, double interference = 1,
                  const Machine& like = Machine(0)) {
  Machine m(12345);
  m.slice_share = like.slice_share;
  m.slice_ms = like.slice_ms;
  m.burst_ms = like.burst_ms;
  m.wait_ms = like.wait_ms;
  m.pre_ms = like.pre_ms;
  m.load = load;
  dofa::LatencyWindow w(4000);
  for (int i = 0; i < 4000; ++i) {
    FrameCost f = m.run(levels, level, interference);
    w.push(f.pre_ms + f.infer_ms);
  }
  return w.percentile(0.9);
}

// The most accurate level whose oracle p90 meets T; -1 when none does.
int oracle_best(const std::vector<RtmLevel>& levels, double target, double load) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(levels.size()); ++i)
    if (oracle_p90(levels, i, load) <= target) best = i;
  return best;
}

// Each level's oracle p90 under `like`'s time slices.
std::vector<double> oracle_p90s(const std::vector<RtmLevel>& levels, const Machine& like) {
  std::vector<double> p90;
  for (int i = 0; i < static_cast<int>(levels.size()); ++i) p90.push_back(oracle_p90(levels, i, 1, 1, like));
  return p90;
}

// Levels meeting T in the oracle (p90 per level) that are more accurate than `level`.
int more_accurate_meeting(const std::vector<RtmLevel>& levels, const std::vector<double>& p90, double target,
                          int level) {
  int better = 0;
  for (size_t i = 0; i < levels.size(); ++i)
    better += p90[i] <= target && levels[i].accuracy > levels[static_cast<size_t>(level)].accuracy;
  return better;
}

// One element: its RTM, its settings snapshot and the level the next frame runs on.
struct Element {
  Element(std::vector<RtmLevel> lv, RtmSettings s) : levels(lv), settings(s), rtm(lv, s) {
    first = rtm.decide(settings);
    level = first.level;
  }
  RtmDecision first;  // the decision before the first frame
  std::vector<RtmLevel> levels;
  RtmSettings settings;
  Rtm rtm;
  int level = 0;
  int changes = 0;
  long long frame = 0;
  long long last_change = -1000000;
  long long min_gap = std::numeric_limits<long long>::max();  // frames between two changes

  RtmDecision step(Machine& m, double interference = 1) {
    FrameCost f = m.run(levels, level, interference);
    last_ms = f.pre_ms + f.infer_ms;
    RtmDecision d = rtm.update(f, settings);
    ++frame;
    if (d.changed) {
      ++changes;
      min_gap = std::min(min_gap, frame - last_change);
      last_change = frame;
    }
    ck_assert_int_eq(d.changed, d.level != level);
    // A group's change says which rounds made it: the move is in their description
    // (from the first round's level to the last's where several rounds ran before this report).
    if (d.changed && d.reason == RtmReason::group)
      ck_assert_msg(d.group_round.find(": " + std::to_string(level) + "->") != std::string::npos &&
                        d.group_round.find("->" + std::to_string(d.level) + " ") != std::string::npos,
                    "round '%s' for %d -> %d", d.group_round.c_str(), level, d.level);
    else
      ck_assert(d.group_round.empty());
    level = d.level;
    return d;
  }
  void run(Machine& m, int frames) {
    for (int i = 0; i < frames; ++i) step(m);
  }
  void reset_counts() {
    changes = 0;
    last_change = -1000000;
    min_gap = std::numeric_limits<long long>::max();
  }
  double last_ms = 0;  // pre + infer of the frame just run
};

RtmSettings with_target(double t, RtmPolicy policy = RtmPolicy::lut) {
  RtmSettings s;
  s.target_ms = t;
  s.policy = policy;
  return s;
}

// The level lut must pick for a prediction: most accurate with pre + s * L <= T * (1 - margin).
int lut_choice(const std::vector<RtmLevel>& levels, const dofa::RtmStats& st, double target) {
  int best = 0;
  for (int i = 0; i < static_cast<int>(levels.size()); ++i)
    if (st.pre_p90_ms + st.slowdown * levels[i].latency_p90_ms <= target * (1 - Rtm::kMargin)) best = i;
  return best;
}

// The steady level of lut: it fits T * (1 - margin) by the RTM's own estimate, and
// is the most accurate that does, or one below (the dead band of moves up).
void check_lut_level(const Element& e, double target) {
  dofa::RtmStats st = e.rtm.stats();
  int best = lut_choice(e.levels, st, target);
  ck_assert_msg(e.level == best || e.level == best - 1, "level %d, most accurate that fits %d", e.level, best);
}

// ---------------------------------------------------------------- windows

START_TEST(window_percentiles) {
  dofa::LatencyWindow w(10);
  ck_assert_double_eq(w.percentile(0.9, -1), -1);
  for (int i = 1; i <= 30; ++i) w.push(i);  // keeps 21..30
  ck_assert_int_eq(w.size(), 10);
  ck_assert_double_eq(w.percentile(0.9), 29);  // nearest rank: 9th of 10
  ck_assert_double_eq(w.percentile(0.5), 25);
  ck_assert_double_eq(w.percentile(1.0), 30);
  w.set_capacity(4);  // the newest four stay
  ck_assert_int_eq(w.size(), 4);
  ck_assert_double_eq(w.percentile(0.01), 27);
  w.set_capacity(8);
  w.push(100);
  ck_assert_int_eq(w.size(), 5);
  ck_assert_double_eq(w.percentile(1.0), 100);
  ck_assert_double_eq(w.percentile(0.01), 27);
  w.clear();
  ck_assert_int_eq(w.size(), 0);
  DOFA_ASSERT_ERROR(w.set_capacity(0), "capacity 0");
}
END_TEST

// ---------------------------------------------------------------- bad input

START_TEST(malformed_input) {
  DOFA_ASSERT_ERROR(Rtm({}, RtmSettings{}), "empty");
  DOFA_ASSERT_ERROR(dofa::make_rtm_levels({70, 72}, {10}), "2 accuracies", "1 latencies");
  DOFA_ASSERT_ERROR(dofa::make_rtm_levels({70, 172}, {10, 20}), "level 1", "accuracy 172");
  DOFA_ASSERT_ERROR(dofa::make_rtm_levels({70, 72}, {10, -2}), "level 1", "latency p90 -2");
  DOFA_ASSERT_ERROR(dofa::make_rtm_levels({70}, {std::nan("")}), "level 0", "latency");

  RtmSettings s;
  s.window = 0;
  DOFA_ASSERT_ERROR(Rtm(six_levels(), s), "window 0");
  s.window = Rtm::kMaxWindow + 1;
  DOFA_ASSERT_ERROR(Rtm(six_levels(), s), "window 10001");
  DOFA_ASSERT_ERROR(Rtm(six_levels(), with_target(-5)), "target -5");
  s = RtmSettings{};
  s.accuracy_min = 101;
  DOFA_ASSERT_ERROR(Rtm(six_levels(), s), "accuracy-min 101");
  s = RtmSettings{};
  s.fixed_level = 6;
  DOFA_ASSERT_ERROR(Rtm(six_levels(), s), "level 6", "-1..5");

  Rtm rtm(six_levels(), with_target(30));
  RtmSettings ok = with_target(30);
  DOFA_ASSERT_ERROR(rtm.update({6, 1, 10}, ok), "frame level 6");
  DOFA_ASSERT_ERROR(rtm.update({-1, 1, 10}, ok), "frame level -1");
  DOFA_ASSERT_ERROR(rtm.update({0, -1, 10}, ok), "pre_ms -1");
  DOFA_ASSERT_ERROR(rtm.update({0, 1, std::numeric_limits<double>::infinity()}, ok), "infer_ms inf");
  RtmSettings bad = ok;
  bad.window = -3;
  DOFA_ASSERT_ERROR(rtm.update({0, 1, 10}, bad), "window -3");
  DOFA_ASSERT_ERROR(rtm.decide(with_target(-0.5)), "target -0.5");
  // A refused update changes nothing.
  ck_assert_int_eq(rtm.stats().frames, 0);
}
END_TEST

// ---------------------------------------------------------------- lut policy

START_TEST(initial_level_from_the_table) {
  // No samples: s = 1 and pre = 0, so the table alone decides.
  ck_assert_int_eq(Rtm(six_levels(), with_target(30)).level(), 2);  // 22 <= 30 * 0.9 < 28
  ck_assert_int_eq(Rtm(six_levels(), with_target(0)).level(), 5);
  ck_assert_int_eq(Rtm(six_levels(), with_target(5)).level(), 0);
}
END_TEST

START_TEST(new_target_takes_effect_on_the_next_frame) {
  Machine m(1);
  Element e(six_levels(), with_target(60));
  e.run(m, 100);
  ck_assert_int_eq(e.level, 5);
  for (double t : {25.0, 45.0, 18.0, 60.0, 33.0}) {
    e.settings.target_ms = t;
    RtmDecision d = e.step(m);
    int expected = lut_choice(e.levels, e.rtm.stats(), t);
    ck_assert_int_eq(d.level, expected);
    ck_assert_double_eq(d.target_ms, t);
    if (d.changed) {
      ck_assert_str_eq(to_string(d.reason), "target");
      ck_assert(!d.forced_by_load);
    }
    e.run(m, 50);
    ck_assert_int_eq(e.level, expected);
  }
}
END_TEST

// After a load step 1 -> 1.8: back under target within 10 frames, then at the
// oracle's best level or one below, and >= 90 % of frames meet the target.
START_TEST(lut_load_step) {
  for (double t : {26.0, 30.0, 38.0, 45.0, 55.0, 62.0, 75.0}) {
    for (uint64_t seed : {1, 2, 3}) {
      Machine m(seed);
      Element e(six_levels(), with_target(t));
      e.run(m, 200);
      m.load = 1.8;
      int under_at = -1, met = 0, late_frames = 0;
      bool forced = false;
      for (int i = 1; i <= 400; ++i) {
        RtmDecision d = e.step(m);
        forced = forced || d.forced_by_load;
        if (d.changed) ck_assert_str_eq(to_string(d.reason), "load");
        if (under_at < 0 && oracle_p90(e.levels, e.level, 1.8) <= t) under_at = i;
        if (i > 10) {
          ++late_frames;
          met += e.last_ms <= t;
        }
      }
      int best = oracle_best(e.levels, t, 1.8);
      ck_assert_msg(best >= 0, "T %g has no oracle level", t);
      ck_assert_msg(under_at >= 0 && under_at <= 10, "T %g seed %d: under target after %d frames", t,
                    static_cast<int>(seed), under_at);
      ck_assert_msg(e.level <= best && e.level >= best - 1, "T %g: level %d, oracle %d", t, e.level, best);
      ck_assert_msg(met >= 0.9 * late_frames, "T %g: %d of %d frames met", t, met, late_frames);
      ck_assert(forced);
    }
  }
}
END_TEST

// The load goes away again: the level climbs back, after the hold, at most one below the oracle.
START_TEST(lut_load_drop) {
  Machine m(7);
  Element e(six_levels(), with_target(45));
  m.load = 1.8;
  e.run(m, 200);
  int low = e.level;
  m.load = 1;
  e.run(m, 200);
  int best = oracle_best(e.levels, 45, 1);
  ck_assert_int_gt(e.level, low);
  ck_assert_msg(e.level >= best - 1 && e.level <= best, "level %d, oracle %d", e.level, best);
}
END_TEST

// At constant load at most one change per 100 frames, also with T within 5 %
// of a level's p90 (both the table's figure and the measured one).
void check_stability(RtmPolicy policy) {
  std::vector<RtmLevel> levels = six_levels();
  for (double load : {1.0, 1.8}) {
    std::vector<double> targets;
    for (int i = 0; i < 6; ++i)
      for (double f : {0.95, 0.97, 1.0, 1.03, 1.05}) {
        targets.push_back(oracle_p90(levels, i, load) * f);
        targets.push_back(levels[i].latency_p90_ms * f);
      }
    for (double t : targets) {
      for (uint64_t seed : {11, 12}) {
        Machine m(seed);
        m.load = load;
        Element e(levels, with_target(t, policy));
        e.run(m, 300);  // settle from the table's guess
        e.reset_counts();
        e.run(m, 1500);
        ck_assert_msg(e.changes <= 1,
                      "%s load %g T %.2f seed %d: %d changes, closest %lld frames apart",
                      to_string(policy), load, t, static_cast<int>(seed), e.changes, e.min_gap);
      }
    }
  }
}

START_TEST(lut_stability) { check_stability(RtmPolicy::lut); }
END_TEST

// The benchmark's stability case: a busy thread on the CPU from the first
// frame, the target near the middle level's loaded p90 (every level's is about
// the same): at most one level change per 100 frames.
START_TEST(lut_stability_under_a_time_slice_load) {
  for (const auto& levels : {builtin_like_levels(), flat_levels()}) {
    Machine like(0);
    like.slice_share = 0.3;
    like.slice_ms = 5;
    const double mid = oracle_p90(levels, 3, 1, 1, like);
    for (double t : {mid * 1.03, mid / (1 - Rtm::kMargin)}) {
      for (uint64_t seed : {51, 52, 53}) {
        Machine m(seed);
        m.slice_share = like.slice_share;
        m.slice_ms = like.slice_ms;
        Element e(levels, with_target(t));
        e.run(m, 300);
        e.reset_counts();
        e.run(m, 1500);
        ck_assert_msg(e.changes <= 15, "T %.2f seed %d: %d changes in 1500 frames, closest %lld apart", t,
                      static_cast<int>(seed), e.changes, e.min_gap);
      }
    }
  }
}
END_TEST

// The same with frames well under the thread's time slice (Machine::burst_ms):
// the fast levels' p90 fits between waits, the slow ones' does not; with the
// target within 5 % of a slow level's p90, and at the margin from it, at most
// one change per 100 frames, as `dofa bench rtm` counts them (from frame 100);
// with the benchmark's load-step target, also at most one level below the best.
START_TEST(lut_stability_under_short_time_slices) {
  const std::vector<RtmLevel> levels = builtin_fast_levels();
  const std::vector<double> loaded = oracle_p90s(levels, time_sliced(0));
  ck_assert_msg(loaded[1] < 1 && loaded[3] > 4, "oracle p90s %.2f / %.2f: not split by the waits", loaded[1],
                loaded[3]);
  // The third target is the benchmark's load step (its level is judged too).
  const double step_target = loaded[3] / ((1 - Rtm::kMargin) * (1 - Rtm::kUpBand));
  for (double t : {loaded[3] * 1.03, loaded[3] / (1 - Rtm::kMargin), step_target}) {
    for (uint64_t seed = 61; seed <= 70; ++seed) {
      Machine m = time_sliced(seed);
      Element e(levels, with_target(t));
      e.run(m, 100);
      e.reset_counts();
      e.run(m, 450);
      const int short_run = e.changes;
      e.run(m, 2550);
      ck_assert_msg(short_run <= 4 && e.changes <= 30, "T %.2f seed %d: %d changes in 450 frames, %d in 3000", t,
                    static_cast<int>(seed), short_run, e.changes);
      const int better = more_accurate_meeting(levels, loaded, t, e.level);
      ck_assert_msg(t != step_target || better <= 1, "T %.2f seed %d: level %d, %d more accurate levels meet T", t,
                    static_cast<int>(seed), e.level, better);
    }
  }
}
END_TEST

// The time-sliced load ends. Level 0's p90 never showed it, only its waits (one frame in 20-30);
// the drops the load forced are forgiven once 100 frames in a row have not waited
// (Rtm::kWaitFactor), where before the holds, doubled by every failed probe, kept the element
// low for up to 3200 frames.
START_TEST(lut_follows_a_time_slice_load_that_ends) {
  const std::vector<RtmLevel> levels = builtin_fast_levels();
  const double t = 3;  // under the load only the levels whose frames fit between the waits meet it
  for (uint64_t seed = 61; seed <= 70; ++seed) {
    Machine m = time_sliced(seed);
    Element e(levels, with_target(t));
    e.run(m, 1000);
    ck_assert_msg(e.level <= 2, "seed %d: level %d under the load", static_cast<int>(seed), e.level);
    m.burst_ms = 0;
    int back = -1;
    for (int i = 1; i <= 1000 && back < 0; ++i)
      if (e.step(m).level == 5) back = i;
    ck_assert_msg(back > 0 && back <= 300, "seed %d: back on level 5 after %d frames", static_cast<int>(seed), back);
  }
}
END_TEST

// A move up waits one window of frames that all want it; a move down does not wait.
START_TEST(lut_moves_up_after_a_window) {
  Machine m(14);
  Element e(six_levels(), with_target(45));
  m.load = 1.8;
  e.run(m, 300);
  int low = e.level;
  m.load = 1;
  long long dropped_at = e.frame;
  long long up_at = -1;
  for (int i = 0; i < 300 && up_at < 0; ++i)
    if (e.step(m).changed) up_at = e.frame;
  ck_assert_int_gt(e.level, low);
  // The window's p90 forgets the slow frames after ~27 frames, then one window of holding.
  ck_assert_int_ge(up_at - dropped_at, e.settings.window + 20);
}
END_TEST

// A stream's first frame runs on cold caches, as does a level's first frame after
// a switch: taken for the load, it sent the level down, and the hold of a forced
// drop (up_move_hold.h) kept it there for 100 frames.
START_TEST(a_slow_first_frame_does_not_move_the_level) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    Machine m(seed);
    m.load = 0.8;  // steady p90 about L + pre: the table's level fits
    Element e(six_levels(), with_target(30));
    ck_assert_int_eq(e.level, 2);  // 22 <= 30 * 0.9 < 28
    FrameCost f = m.run(e.levels, e.level);
    f.infer_ms *= 3;
    ck_assert(!e.rtm.update(f, e.settings).changed);
    e.run(m, 200);
    ck_assert_msg(e.changes == 0 && e.level == 2, "seed %d: %d changes, level %d", static_cast<int>(seed), e.changes,
                  e.level);
  }
}
END_TEST

// A move judged against a cold first frame: the pre taken at the move (the median
// of that one frame's) was 0.2 ms where later frames' is 0.03, and taking it out
// of both sides left level 0's own time near 0, so e = 3 said that load does not
// scale with the level. The smaller of the two pres is taken out.
START_TEST(a_move_is_judged_with_the_smaller_pre) {
  dofa::MeasuredLevels m;
  m.reset({0.2, 0.5}, 30);
  long long frame = 0;
  m.push(1, 1.0, ++frame, 0.2);
  m.entered(0, 1, 0.2, 10);
  ck_assert(m.judging(0));
  for (int i = 0; i < 30; ++i) m.push(0, 0.25, ++frame, 0.03);
  ck_assert(!m.judging(0));
  ck_assert(!m.prediction_fails());
  ck_assert_double_lt(m.elasticity(), 2);  // log(0.22 / 0.97) / log(0.2 / 0.5) = 1.6
}
END_TEST

START_TEST(up_move_hold_backs_off) {
  dofa::UpMoveHold h;
  h.reset(6);
  ck_assert_int_eq(h.frames_needed(2, 4, 30), 30);
  h.forced_down(4, 2);  // levels 3 and 4 failed
  ck_assert_int_eq(h.frames_needed(2, 3, 30), dofa::UpMoveHold::kRetryFrames);
  ck_assert_int_eq(h.frames_needed(0, 2, 30), 30);  // level 2 did not fail
  h.forced_down(3, 2);
  ck_assert_int_eq(h.frames_needed(2, 4, 30), 2 * dofa::UpMoveHold::kRetryFrames);
  for (int i = 0; i < 20; ++i) h.forced_down(3, 2);
  ck_assert_int_eq(h.frames_needed(2, 3, 30),
                   dofa::UpMoveHold::kRetryFrames << dofa::UpMoveHold::kMaxDoublings);
  ck_assert_int_eq(h.frames_needed(2, 3, 5000), 5000);  // never less than a window
  // A move up that lasts kProbationFactor times its wait earns one drop back.
  h.reset(6);
  h.forced_down(3, 2);
  h.forced_down(3, 2);
  h.moved_up(2, 3, 200);
  for (int i = 0; i < dofa::UpMoveHold::kProbationFactor * 200 - 1; ++i) h.next_frame();
  ck_assert_int_eq(h.frames_needed(2, 3, 30), 2 * dofa::UpMoveHold::kRetryFrames);
  h.next_frame();
  ck_assert_int_eq(h.frames_needed(2, 3, 30), dofa::UpMoveHold::kRetryFrames);
  // One that is forced down again earns nothing.
  h.moved_up(2, 3, 100);
  h.forced_down(3, 2);
  for (int i = 0; i < 1000; ++i) h.next_frame();
  ck_assert_int_eq(h.frames_needed(2, 3, 30), 2 * dofa::UpMoveHold::kRetryFrames);
}
END_TEST

// A slow tail (12 % of frames 1.6 times slower) puts a level's p90 on a cliff:
// retries of the level above become ever rarer instead of flipping every window.
START_TEST(slow_tail_retries_back_off) {
  for (RtmPolicy policy : {RtmPolicy::lut, RtmPolicy::reactive}) {
    for (double t : {27.4, 33.7, 41.8, 46.2, 51.0}) {
      Machine m(17);
      m.slow_share = 0.12;
      Element e(six_levels(), with_target(t, policy));
      e.run(m, 300);
      e.reset_counts();
      e.run(m, 3000);
      ck_assert_msg(e.changes <= 12, "%s T %g: %d changes in 3000 frames", to_string(policy), t, e.changes);
    }
  }
}
END_TEST

// Under a busy thread on the same CPU every level's p90 is about the same
// (`dofa bench rtm` measured 5.5-6.9 ms for levels of 1.4-3.0 ms idle), and
// s * L, taken on the fastest level, rules out all the others. The first move
// shows the prediction failing; lut then judges levels by what they measured,
// tries those it has not, and ends within one of the oracle's best by accuracy
// (levels' accuracies need not rise with their index), with >= 90 % of frames
// within target and retries that back off. In a dense family the first moves
// are one level each, too small to judge alone: the run of them is judged.
START_TEST(lut_under_a_time_slice_load) {
  for (const auto& levels : {builtin_like_levels(), flat_levels()}) {
    Machine like(0);
    like.slice_share = 0.3;
    like.slice_ms = 5;
    const std::vector<double> loaded = oracle_p90s(levels, like);
    for (double t : {loaded[5] / 0.88, loaded[5] / 0.8}) {
      for (uint64_t seed : {31, 32}) {
        Machine m(seed);
        Element e(levels, with_target(t));
        e.run(m, 200);
        ck_assert_int_eq(e.level, 5);  // idle
        m.slice_share = like.slice_share;
        m.slice_ms = like.slice_ms;
        int met = 0;
        e.run(m, 10);
        for (int i = 0; i < 1000; ++i) {
          e.step(m);
          met += e.last_ms <= t;
        }
        const int better = more_accurate_meeting(levels, loaded, t, e.level);
        ck_assert_msg(better <= 1, "T %.2f seed %d: level %d, %d more accurate levels meet T", t,
                      static_cast<int>(seed), e.level, better);
        ck_assert_msg(met >= 900, "T %.2f: %d of 1000 frames met", t, met);
        e.reset_counts();
        e.run(m, 1000);
        ck_assert_msg(e.changes <= 8, "T %.2f seed %d: %d changes in 1000 frames", t, static_cast<int>(seed), e.changes);
      }
    }
  }
}
END_TEST

// The same load present from the first frame: the first moves down are made
// before the level they leave has a window of its own; the few frames that made
// them are the reference (measured_levels.h). Seeds 47 and 70 ended at level 0
// without it (4 of 60 runs over seeds 41-70, 2 with it). A dense family's steps
// are too small to judge on a few frames: it stays where the prediction put it.
START_TEST(lut_under_a_time_slice_load_from_the_start) {
  const std::vector<RtmLevel> levels = builtin_like_levels();
  Machine like(0);
  like.slice_share = 0.3;
  like.slice_ms = 5;
  const std::vector<double> loaded = oracle_p90s(levels, like);
  for (double t : {loaded[5] / 0.88, loaded[5] / 0.8}) {
    for (uint64_t seed : {41, 47, 70}) {
      Machine m(seed);
      m.slice_share = like.slice_share;
      m.slice_ms = like.slice_ms;
      Element e(levels, with_target(t));
      e.run(m, 600);
      const int better = more_accurate_meeting(levels, loaded, t, e.level);
      ck_assert_msg(better <= 1, "T %.2f seed %d: level %d, %d more accurate levels meet T", t,
                    static_cast<int>(seed), e.level, better);
      int met = 0;
      e.reset_counts();
      for (int i = 0; i < 1000; ++i) {
        e.step(m);
        met += e.last_ms <= t;
      }
      ck_assert_msg(met >= 900, "T %.2f: %d of 1000 frames met", t, met);
      ck_assert_msg(e.changes <= 8, "T %.2f seed %d: %d changes in 1000 frames", t, static_cast<int>(seed), e.changes);
    }
  }
}
END_TEST

// ---------------------------------------------------------------- reactive policy

START_TEST(reactive_load_step) {
  for (double t : {30.0, 45.0, 62.0}) {
    Machine m(3);
    Element e(six_levels(), with_target(t, RtmPolicy::reactive));
    e.run(m, 400);
    int before = e.level;
    m.load = 1.8;
    int under_at = -1;
    int decided_down = 0;
    for (int i = 1; i <= 600; ++i) {
      RtmDecision d = e.step(m);
      if (d.changed) {
        ck_assert_int_eq(d.level, d.previous_level - 1);  // one level per step
        ck_assert(d.forced_by_load);
        ++decided_down;
      }
      if (under_at < 0 && oracle_p90(e.levels, e.level, 1.8) <= t) under_at = i;
    }
    int stepped = before - e.level;
    ck_assert_int_gt(stepped, 0);
    ck_assert_int_eq(decided_down, stepped);
    ck_assert_msg(under_at >= 0 && under_at <= (stepped + 1) * e.settings.window,
                  "T %g: %d levels stepped, under after %d frames", t, stepped, under_at);
    int best = oracle_best(e.levels, t, 1.8);
    ck_assert_msg(e.level >= best - 1 && e.level <= best, "T %g: level %d, oracle %d", t, e.level, best);
  }
}
END_TEST

START_TEST(reactive_decides_once_per_window) {
  Machine m(5);
  RtmSettings s = with_target(0, RtmPolicy::reactive);
  s.window = 10;
  Element e(six_levels(), s);
  ck_assert_int_eq(e.level, 5);
  e.settings.target_ms = 20;  // reactive steps there, one level per window
  std::vector<long long> change_frames;
  for (int i = 0; i < 100; ++i) {
    RtmDecision d = e.step(m);
    if (!d.changed) continue;
    change_frames.push_back(e.frame);
    ck_assert_int_eq(d.level, d.previous_level - 1);
  }
  ck_assert_int_ge(change_frames.size(), 4);
  for (long long f : change_frames) ck_assert_int_eq(f % 10, 0);  // window boundaries only
  ck_assert_int_le(e.level, 1);
}
END_TEST

START_TEST(reactive_stability) { check_stability(RtmPolicy::reactive); }
END_TEST

// ---------------------------------------------------------------- rules

START_TEST(accuracy_min_floor_and_energy_rule) {
  Machine m(9);
  RtmSettings s = with_target(60);
  s.accuracy_min = 74;
  Element e(six_levels(), s);
  e.run(m, 100);
  check_lut_level(e, 60);  // floor met: the most accurate that fits
  ck_assert(e.levels[e.level].accuracy >= 74);

  e.settings.target_ms = 0;  // no target: the fastest level meeting the floor saves energy
  RtmDecision d = e.step(m);
  ck_assert_int_eq(d.level, 2);
  ck_assert_str_eq(to_string(d.reason), "target");
  e.run(m, 300);
  ck_assert_int_eq(e.level, 2);

  e.settings.accuracy_min = 77;
  ck_assert_int_eq(e.step(m).level, 4);
  e.settings.accuracy_min = 95;  // no level reaches it: the most accurate
  ck_assert_int_eq(e.step(m).level, 5);
  e.settings.accuracy_min = 0;  // neither: the most accurate
  ck_assert_int_eq(e.step(m).level, 5);
  ck_assert(!e.step(m).conflict);
}
END_TEST

START_TEST(unreachable_posted_once_per_episode) {
  Machine m(4);
  Element e(six_levels(), with_target(8));  // level 0 alone is ~13.6 ms
  ck_assert(e.first.unreachable_started);  // known from the table before any frame
  int posts = 0, frames_unreachable = 0;
  for (int i = 0; i < 300; ++i) {
    RtmDecision d = e.step(m);
    ck_assert_int_eq(d.level, 0);
    posts += d.unreachable_started;
    frames_unreachable += d.unreachable;
  }
  ck_assert_int_eq(posts, 0);  // posted once, before the first frame
  ck_assert_int_eq(frames_unreachable, 300);

  // The episode ends when level 0 fits again, and a new one is posted again.
  e.settings.target_ms = 20;
  RtmDecision d = e.step(m);
  ck_assert(!d.unreachable);
  e.run(m, 100);
  m.load = 2.5;  // level 0: 10 * 2.5 * 1.26 + pre > 20
  posts = 0;
  for (int i = 0; i < 300; ++i) {
    d = e.step(m);
    posts += d.unreachable_started;
    if (d.changed) ck_assert_str_eq(to_string(d.reason), "unreachable");
  }
  ck_assert_int_eq(posts, 1);
  ck_assert_int_eq(e.level, 0);

  // Reactive: the same rule once level 0 is reached.
  Machine m2(4);
  Element r(six_levels(), with_target(8, RtmPolicy::reactive));
  posts = r.first.unreachable_started;
  for (int i = 0; i < 600; ++i) posts += r.step(m2).unreachable_started;
  ck_assert_int_eq(r.level, 0);
  ck_assert_int_eq(posts, 1);
}
END_TEST

START_TEST(latency_wins_over_accuracy_min) {
  Machine m(6);
  RtmSettings s = with_target(25);
  s.accuracy_min = 78;
  Element e(six_levels(), s);
  int posts = e.first.conflict_started, conflict_frames = 0;
  for (int i = 0; i < 300; ++i) {
    RtmDecision d = e.step(m);
    posts += d.conflict_started;
    conflict_frames += d.conflict;
  }
  check_lut_level(e, 25);  // latency decides
  ck_assert(e.levels[e.level].accuracy < 78);
  ck_assert_int_eq(posts, 1);
  ck_assert_int_eq(conflict_frames, 300);
  e.settings.target_ms = 60;  // both can be met: the conflict is over
  RtmDecision d = e.step(m);
  ck_assert(!d.conflict);
  ck_assert(e.levels[d.level].accuracy >= 78);
}
END_TEST

START_TEST(fixed_level_turns_the_rtm_off) {
  Machine m(8);
  RtmSettings s = with_target(8);
  s.fixed_level = 4;
  Element e(six_levels(), s);
  ck_assert_int_eq(e.level, 4);
  for (int i = 0; i < 200; ++i) {
    if (i == 100) m.load = 2;
    RtmDecision d = e.step(m);
    ck_assert_int_eq(d.level, 4);
    ck_assert(!d.unreachable && !d.unreachable_started && !d.conflict && !d.changed);
  }
  e.settings.fixed_level = 1;
  RtmDecision d = e.step(m);
  ck_assert_int_eq(d.level, 1);
  ck_assert_str_eq(to_string(d.reason), "fixed");
  ck_assert(!d.forced_by_load);
  e.settings.fixed_level = -1;  // automatic again: the target is unreachable
  d = e.step(m);
  ck_assert_int_eq(d.level, 0);
  ck_assert(d.unreachable_started);
  ck_assert_str_eq(to_string(d.reason), "unreachable");
}
END_TEST

START_TEST(qos_tightens_the_target) {
  Machine m(10);
  Element e(six_levels(), with_target(0));
  e.run(m, 50);
  ck_assert_int_eq(e.level, 5);
  // Downstream twice too slow at 30 fps: T_eff = 33.3 / 2.
  e.rtm.on_qos(2.0, 1000.0 / 30);
  ck_assert_double_eq_tol(e.rtm.qos_target_ms(), 16.667, 1e-3);
  RtmDecision d = e.step(m);
  ck_assert(d.changed && d.level < 5);
  ck_assert_str_eq(to_string(d.reason), "qos");
  ck_assert(d.forced_by_load);
  ck_assert_double_eq_tol(d.target_ms, 16.667, 1e-3);
  ck_assert_int_eq(d.level, lut_choice(e.levels, e.rtm.stats(), d.target_ms));

  // A looser QoS budget than latency-ms changes nothing.
  e.settings.target_ms = 12;
  e.rtm.on_qos(0.5, 1000.0 / 30);
  d = e.step(m);
  ck_assert_double_eq(d.target_ms, 12);

  // Cleared (unknown duration): the latency target alone again.
  e.settings.target_ms = 0;
  e.rtm.on_qos(1.5, 0);
  ck_assert_double_eq(e.rtm.qos_target_ms(), 0);
  e.run(m, 200);
  ck_assert_int_eq(e.level, 5);

  // QoS alone, then gone: down and back up, both for QoS.
  e.rtm.on_qos(2.0, 1000.0 / 30);
  d = e.step(m);
  ck_assert_str_eq(to_string(d.reason), "qos");
  e.rtm.clear_qos();
  for (int i = 0; i < 400 && e.level < 5; ++i) {
    d = e.step(m);
    if (d.changed) ck_assert_str_eq(to_string(d.reason), "qos");
  }
  ck_assert_int_eq(e.level, 5);
}
END_TEST

START_TEST(window_setting_changes_between_frames) {
  Machine m(12);
  Element e(six_levels(), with_target(40));
  e.run(m, 100);
  e.settings.window = 5;
  e.run(m, 3);
  ck_assert_int_eq(e.rtm.stats().samples, 5);
  e.settings.window = 200;
  e.run(m, 10);
  ck_assert_int_eq(e.rtm.stats().samples, 15);
}
END_TEST

START_TEST(statistics) {
  Rtm rtm(six_levels(), with_target(0));
  RtmSettings s = with_target(0);
  s.window = 10;
  for (int i = 1; i <= 10; ++i) rtm.update({5, static_cast<double>(i), 40.0 + i}, s);
  dofa::RtmStats st = rtm.stats();
  ck_assert_int_eq(st.frames, 10);
  ck_assert_int_eq(st.samples, 10);
  ck_assert_int_eq(st.switches, 0);
  ck_assert_double_eq(st.pre_p50_ms, 5);
  ck_assert_double_eq(st.pre_p90_ms, 9);
  ck_assert_double_eq(st.infer_p50_ms, 45);
  ck_assert_double_eq(st.infer_p90_ms, 49);
  ck_assert_double_eq(st.total_p90_ms, 58);
  ck_assert_double_eq_tol(st.slowdown, 49.0 / 40, 1e-12);
  s.target_ms = 30;
  RtmDecision d = rtm.update({5, 1, 40}, s);
  ck_assert(d.changed);
  ck_assert_int_eq(rtm.stats().switches, 1);
  ck_assert_double_eq(d.expected_accuracy, six_levels()[d.level].accuracy);
  ck_assert_double_eq(d.measured_ms, 58);
  ck_assert_str_eq(to_string(d.reason), "target");
}
END_TEST

// ---------------------------------------------------------------- groups

// Two networks on one device: each one's inference slows with the other's work
// (interference 1 + 0.5 * L_other / L_max), as in the paper's Fig. 8.
constexpr double kGamma = 0.5;
double interference(const std::vector<RtmLevel>& levels, int other_level) {
  return 1 + kGamma * levels[other_level].latency_p90_ms / levels.back().latency_p90_ms;
}

// Two members on one device for `frames` frames, each slowed by the other's
// level; returns the p90 of each one's last 100 frame times.
std::pair<double, double> run_pair(Element& a, Machine& ma, Element& b, Machine& mb, int frames) {
  dofa::LatencyWindow wa(100), wb(100);
  for (int i = 0; i < frames; ++i) {
    int la = a.level, lb = b.level;
    a.step(ma, interference(b.levels, lb));
    b.step(mb, interference(a.levels, la));
    wa.push(a.last_ms);
    wb.push(b.last_ms);
  }
  return std::make_pair(wa.percentile(0.9), wb.percentile(0.9));
}

// Brute force over the oracle: the pair with the highest summed accuracy meeting both targets.
std::pair<int, int> brute_force_pair(const std::vector<RtmLevel>& levels, double ta, double tb, double load,
                                     const Machine& like = Machine(0)) {
  std::pair<int, int> best{-1, -1};
  double best_sum = -1;
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 6; ++b) {
      if (oracle_p90(levels, a, load, interference(levels, b), like) > ta) continue;
      if (oracle_p90(levels, b, load, interference(levels, a), like) > tb) continue;
      double sum = levels[a].accuracy + levels[b].accuracy;
      if (sum > best_sum) {
        best_sum = sum;
        best = {a, b};
      }
    }
  return best;
}

START_TEST(group_of_two_after_a_load_step) {
  std::vector<RtmLevel> levels = six_levels();
  for (auto targets : {std::pair<double, double>{60, 40}, {50, 30}, {70, 45}}) {
    for (uint64_t seed : {21, 22}) {
      RtmSettings sa = with_target(targets.first), sb = with_target(targets.second);
      sa.group = sb.group = "fig8";
      sb.policy = RtmPolicy::reactive;  // a group's policy is the coordinator's
      Element a(levels, sa), b(levels, sb);
      ck_assert_int_eq(dofa::RtmGroup::member_count("fig8"), 2);
      Machine ma(seed), mb(seed + 100);
      run_pair(a, ma, b, mb, 400);
      ma.load = mb.load = 1.8;
      auto p90 = run_pair(a, ma, b, mb, 1200);
      auto best = brute_force_pair(levels, targets.first, targets.second, 1.8);
      ck_assert_int_ge(best.first, 0);
      ck_assert_msg(p90.first <= targets.first && p90.second <= targets.second,
                    "T %g/%g: p90 %.1f/%.1f ms", targets.first, targets.second, p90.first, p90.second);
      ck_assert_msg(std::abs(a.level - best.first) <= 1 && std::abs(b.level - best.second) <= 1,
                    "T %g/%g seed %d: levels %d/%d, brute force %d/%d", targets.first, targets.second,
                    static_cast<int>(seed), a.level, b.level, best.first, best.second);
      // Settled: no more changes at constant load.
      a.reset_counts();
      b.reset_counts();
      run_pair(a, ma, b, mb, 500);
      ck_assert_int_le(a.changes + b.changes, 2);
    }
  }
}
END_TEST

START_TEST(group_lowers_past_a_level_no_faster) {
  // Latencies measured at load need not rise with the level: here the most
  // accurate level is faster than the one below it. After the load step both
  // members miss at level 5, and stepping to level 4 would save nothing: the
  // coordinator must go to a level that is faster.
  std::vector<RtmLevel> levels = dofa::make_rtm_levels({70, 72, 74, 76, 77.5, 79}, {10, 16, 22, 28, 34, 31});
  RtmSettings sa = with_target(75), sb = with_target(80);
  sa.group = sb.group = "swapped";
  Element a(levels, sa), b(levels, sb);
  ck_assert_int_eq(a.level, 5);
  ck_assert_int_eq(b.level, 5);
  Machine ma(5), mb(6);
  run_pair(a, ma, b, mb, 300);
  ck_assert_int_eq(a.level, 5);  // 31 ms * 1.39 with the noise: within 75
  ma.load = mb.load = 1.8;
  auto p90 = run_pair(a, ma, b, mb, 900);
  ck_assert_msg(a.level < 4 || b.level < 4, "levels %d/%d: nobody was lowered past level 4", a.level, b.level);
  ck_assert_msg(p90.first <= 75 && p90.second <= 80, "p90 %.1f/%.1f ms", p90.first, p90.second);
}
END_TEST

START_TEST(group_raises_past_a_level_less_accurate) {
  // Accuracies need not rise with the level either (the built-in model's level
  // 4 tests below level 3): once the load is gone, a raise from level 3 must
  // go on to level 5, not stop at 3 because 4 is no gain.
  std::vector<RtmLevel> levels = dofa::make_rtm_levels({70, 72, 74, 76, 75, 79}, {10, 16, 22, 28, 34, 40});
  RtmSettings sa = with_target(120), sb = with_target(120);
  sa.group = sb.group = "inverted";
  Element a(levels, sa), b(levels, sb);
  Machine ma(8), mb(9);
  ma.load = mb.load = 2.5;
  run_pair(a, ma, b, mb, 600);
  ck_assert_msg(a.level < 5 && b.level < 5, "levels %d/%d under the load", a.level, b.level);
  ma.load = mb.load = 1;
  auto p90 = run_pair(a, ma, b, mb, 2000);
  ck_assert_msg(a.level == 5 && b.level == 5, "levels %d/%d without the load (p90 %.1f/%.1f ms)", a.level, b.level,
                p90.first, p90.second);
}
END_TEST

START_TEST(group_under_a_time_slice_load) {
  // The benchmark's group case: both members and a busy thread on one CPU, so
  // every pair of levels waits out the thread's time slices about alike, and
  // brute force finds 5/5. Judging each member's current level against T less
  // the margin, and a raise by s * L, the coordinator ended at 5/3.
  std::vector<RtmLevel> levels = builtin_like_levels();
  Machine like(0);
  like.slice_share = 0.3;
  like.slice_ms = 8;  // as on the benchmark's CPU: longer than any level's frame
  // Targets as the benchmark sets them: the pair (2, 4)'s loaded p90s fit with margin and band;
  // and looser (every pair's p90 near 0.88 T, as on the machine), where a half-window p90
  // crosses T less the margin on noise: with moves made before the last was judged, one
  // member ended at level 0 or 1 in half the seeds (one move at a time, rtm_group.h).
  for (double fit : {1 - Rtm::kMargin - Rtm::kUpBand, 0.88}) {
    for (uint64_t seed = 41; seed < 49; ++seed) {
      const double ta = oracle_p90(levels, 2, 1, interference(levels, 4), like) / fit;
      const double tb = oracle_p90(levels, 4, 1, interference(levels, 2), like) / fit;
      auto best = brute_force_pair(levels, ta, tb, 1, like);
      RtmSettings sa = with_target(ta), sb = with_target(tb);
      sa.group = sb.group = "sliced";
      Element a(levels, sa), b(levels, sb);
      Machine ma(seed), mb(seed + 100);
      run_pair(a, ma, b, mb, 300);
      for (Machine* m : {&ma, &mb}) {
        m->slice_share = like.slice_share;
        m->slice_ms = like.slice_ms;
      }
      auto p90 = run_pair(a, ma, b, mb, 1000);
      ck_assert_msg(p90.first <= ta && p90.second <= tb, "seed %d: p90 %.2f/%.2f ms, targets %.2f/%.2f",
                    static_cast<int>(seed), p90.first, p90.second, ta, tb);
      ck_assert_msg(std::abs(a.level - best.first) <= 1 && std::abs(b.level - best.second) <= 1,
                    "seed %d: levels %d/%d, brute force %d/%d", static_cast<int>(seed), a.level, b.level, best.first,
                    best.second);
    }
  }
}
END_TEST

START_TEST(group_member_leaves) {
  std::vector<RtmLevel> levels = six_levels();
  RtmSettings s = with_target(45);
  s.group = "pair";
  auto a = std::make_unique<Element>(levels, s);
  auto b = std::make_unique<Element>(levels, s);
  Machine ma(31), mb(32);
  ma.load = mb.load = 1.5;
  for (int i = 0; i < 600; ++i) {
    int la = a->level, lb = b->level;
    a->step(ma, interference(levels, lb));
    b->step(mb, interference(levels, la));
  }
  int shared = a->level;
  b.reset();  // element destroyed
  ck_assert_int_eq(dofa::RtmGroup::member_count("pair"), 1);
  for (int i = 0; i < 600; ++i) a->step(ma, 1);  // the device is its own now
  int best = oracle_best(levels, 45, 1.5);
  ck_assert_int_ge(a->level, shared);
  ck_assert_msg(a->level >= best - 1 && a->level <= best, "level %d, alone best %d", a->level, best);
  a.reset();
  ck_assert_int_eq(dofa::RtmGroup::member_count("pair"), 0);

  // Leaving by setting another group (or none) works the same way.
  Element c(levels, s), d(levels, s);
  ck_assert_int_eq(dofa::RtmGroup::member_count("pair"), 2);
  d.settings.group = "";
  Machine m(33);
  d.step(m);
  ck_assert_int_eq(dofa::RtmGroup::member_count("pair"), 1);
  c.run(m, 50);  // the remaining member still decides
}
END_TEST

// Members in their own streaming threads, QoS from a third: nothing is lost or torn.
START_TEST(group_members_in_threads) {
  std::vector<RtmLevel> levels = six_levels();
  RtmSettings s = with_target(40);
  s.group = "threads";
  Element a(levels, s), b(levels, s);
  std::thread ta([&] {
    Machine m(41);
    a.run(m, 3000);
  });
  std::thread tb([&] {
    Machine m(42);
    for (int i = 0; i < 3000; ++i) {
      b.settings.target_ms = (i / 500) % 2 ? 30 : 40;
      b.step(m);
    }
  });
  std::thread qos([&] {
    for (int i = 0; i < 2000; ++i) {
      a.rtm.on_qos(i % 3 ? 0.8 : 1.2, 33.3);
      (void)b.rtm.level();
    }
    a.rtm.clear_qos();
  });
  ta.join();
  tb.join();
  qos.join();
  ck_assert_int_eq(a.rtm.stats().frames, 3000);
  ck_assert_int_eq(b.rtm.stats().frames, 3000);
}
END_TEST

// A member going fixed is left alone; the others still share the device.
START_TEST(group_member_fixed) {
  std::vector<RtmLevel> levels = six_levels();
  RtmSettings s = with_target(40);
  s.group = "fixed";
  Element a(levels, s), b(levels, s);
  b.settings.fixed_level = 5;
  Machine ma(51), mb(52);
  ma.load = mb.load = 1.8;
  for (int i = 0; i < 800; ++i) {
    int la = a.level, lb = b.level;
    a.step(ma, interference(levels, lb));
    RtmDecision d = b.step(mb, interference(levels, la));
    if (i > 0) ck_assert_int_eq(d.level, 5);
  }
  double p90 = oracle_p90(levels, a.level, 1.8, interference(levels, 5));
  ck_assert_msg(p90 <= 40, "level %d p90 %.1f", a.level, p90);
}
END_TEST

Suite* rtm_suite() {
  Suite* s = suite_create("rtm");
  TCase* t = tcase_create("rtm");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, window_percentiles);
  tcase_add_test(t, malformed_input);
  tcase_add_test(t, initial_level_from_the_table);
  tcase_add_test(t, new_target_takes_effect_on_the_next_frame);
  tcase_add_test(t, lut_load_step);
  tcase_add_test(t, lut_load_drop);
  tcase_add_test(t, lut_stability);
  tcase_add_test(t, lut_moves_up_after_a_window);
  tcase_add_test(t, a_slow_first_frame_does_not_move_the_level);
  tcase_add_test(t, a_move_is_judged_with_the_smaller_pre);
  tcase_add_test(t, up_move_hold_backs_off);
  tcase_add_test(t, slow_tail_retries_back_off);
  tcase_add_test(t, lut_under_a_time_slice_load);
  tcase_add_test(t, lut_stability_under_a_time_slice_load);
  tcase_add_test(t, lut_stability_under_short_time_slices);
  tcase_add_test(t, lut_follows_a_time_slice_load_that_ends);
  tcase_add_test(t, lut_under_a_time_slice_load_from_the_start);
  tcase_add_test(t, reactive_load_step);
  tcase_add_test(t, reactive_decides_once_per_window);
  tcase_add_test(t, reactive_stability);
  tcase_add_test(t, accuracy_min_floor_and_energy_rule);
  tcase_add_test(t, unreachable_posted_once_per_episode);
  tcase_add_test(t, latency_wins_over_accuracy_min);
  tcase_add_test(t, fixed_level_turns_the_rtm_off);
  tcase_add_test(t, qos_tightens_the_target);
  tcase_add_test(t, window_setting_changes_between_frames);
  tcase_add_test(t, statistics);
  tcase_add_test(t, group_of_two_after_a_load_step);
  tcase_add_test(t, group_lowers_past_a_level_no_faster);
  tcase_add_test(t, group_raises_past_a_level_less_accurate);
  tcase_add_test(t, group_under_a_time_slice_load);
  tcase_add_test(t, group_member_leaves);
  tcase_add_test(t, group_members_in_threads);
  tcase_add_test(t, group_member_fixed);
  suite_add_tcase(s, t);
  return s;
}

}  // namespace

int main() { return dofa_test::run_suite(rtm_suite()); }
