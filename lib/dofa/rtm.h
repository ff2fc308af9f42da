// Runtime manager (RTM): picks the level of the next frame so that one frame's
// time in the element (pre_ms: map, preprocess, meta; plus infer_ms: input
// tensor to logits) stays within the latency target while load and settings
// change (DESIGN.md §5). Plain C++: no GStreamer, no LibTorch.
//
// Use, from the one streaming thread that classifies:
//   Rtm rtm(levels, settings);                 // levels: accuracy + latency p90 per level
//   int level = rtm.decide(settings).level;    // before the first frame
//   per frame: run `level`, then
//   RtmDecision d = rtm.update({level, pre_ms, infer_ms}, settings);  // settings: this frame's snapshot
//   level = d.level;  if (d.changed) post dofa-level-changed with d.reason ...
// on_qos() and level() may be called from any thread; an Rtm in a group may
// be destroyed in any thread that does not use it at the same time.
//
// Policies (RtmSettings::policy; a group overrides it):
//  - lut (default): s = window p90 of infer_ms / L_i,p90, each sample divided by
//    the p90 of the level that produced it; the next level is the most accurate
//    one with pre_p90 + s * L_i,p90 <= T * (1 - kMargin). A new target is used by
//    the very next decision; a load change is corrected in one jump. A move to
//    a more accurate level under unchanged settings needs the prediction to fit
//    T * (1 - kMargin) * (1 - kUpBand) (dead band) on every frame of one window,
//    longer after load forced the RTM down from that level (up_move_hold.h):
//    jitter does not flip the level. Where a move shows that load does not
//    scale with the level (a busy thread on the same CPU: every level waits out
//    its time slice; measured_levels.h), levels are judged by their own recent
//    frames instead: the current one misses when more than a tenth of its
//    window is over T itself (the margin guards predictions), a move up to a
//    level with recent frames needs their p90 within T * (1 - kUpBand), a level
//    not measured lately is expected at pre + (p90_c - pre) * (L_i / L_c)^e, a
//    jump down must save more than the dead band, and the most accurate level
//    not measured lately is tried (paced by up_move_hold.h, twice as long as
//    other moves up); a level that misses goes down to the most accurate level
//    whose own recent frames met T, where one has them, so that a failed probe
//    goes straight back.
//  - reactive (the paper's, for shared resources): one decision per window of
//    frames (tumbling: the window starts afresh after each decision): window p90
//    of pre + infer above T -> one level down; within T with head-room for the
//    next level (same prediction as lut) for kReactiveUpWindows windows in a
//    row (or as long as up_move_hold.h asks, if longer) -> one level up. A new
//    target, too, is followed one level per window.
//  - group (RtmSettings::group non-empty): members with the same name share one
//    coordinator (rtm_group.h), which lowers and raises their levels jointly.
// Rules for every policy (DESIGN.md §5): accuracy-min is a floor among levels
// that fit T; with no target the fastest level meeting accuracy-min (energy);
// with neither the most accurate level. Nothing fits T -> level 0 and
// `unreachable`; T and accuracy-min in conflict -> latency wins, flagged.
// fixed_level >= 0 turns the RTM off. Upstream QoS tightens the target:
// T_eff = min(T, frame duration / proportion).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rtm_level.h"

namespace dofa {

enum class RtmPolicy { lut, reactive };
const char* to_string(RtmPolicy policy);

// 30 frames: 1 s at 30 fps, so one window is about the paper's ~50-image
// reaction; its p90 (27th of 30) moves after 4 slow frames, well within a
// 10-frame reaction.
constexpr int kRtmDefaultWindow = 30;

struct RtmSettings {
  double target_ms = 0;     // T, the `latency-ms` property; 0 = no target
  double accuracy_min = 0;  // percent, 0 = none
  RtmPolicy policy = RtmPolicy::lut;
  int window = kRtmDefaultWindow;  // frames
  int fixed_level = -1;     // -1 = automatic; >= 0 = that level, RTM off
  std::string group;        // "" = none; members of one group share a coordinator
};

// Why the level changed. to_string() gives the word for the bus message.
enum class RtmReason {
  none,          // no change
  target,        // latency-ms changed
  accuracy_min,  // accuracy-min changed
  policy,        // policy or group changed
  automatic,     // level went back to -1 (automatic)
  fixed,         // the level setting
  load,          // measured slowdown changed (either way)
  qos,           // the QoS-tightened target moved it
  group,         // the group coordinator moved it
  unreachable,   // nothing fits the target: level 0
};
const char* to_string(RtmReason reason);

// What one frame cost, as the element measured it.
struct FrameCost {
  int level = 0;        // the level the frame ran on
  double pre_ms = 0;    // map + preprocess + meta (level independent)
  double infer_ms = 0;  // input tensor -> logits
};

struct RtmDecision {
  int level = 0;           // for the next frame
  int previous_level = 0;  // before this decision
  bool changed = false;
  RtmReason reason = RtmReason::none;  // none unless changed
  // A move down forced by measured load or QoS (not by a setting): post a QoS message.
  bool forced_by_load = false;
  // Nothing meets the target (level 0 runs). `unreachable` holds for the whole
  // episode; `unreachable_started` only on the frame it begins: post
  // dofa-target-unreachable then. An episode ends when level 0 fits T*(1-kMargin)
  // or the settings change (a new target is a new episode).
  bool unreachable = false;
  bool unreachable_started = false;
  // A target is in force and the level runs below accuracy-min: latency wins.
  // Same episode rule: `conflict_started` on the first frame only.
  bool conflict = false;
  bool conflict_started = false;
  double target_ms = 0;          // effective target used (QoS-tightened); 0 = none
  double measured_ms = 0;        // window p90 of pre + infer; 0 before any frame
  double expected_accuracy = 0;  // of `level`
  // Group: the round that changed the level, member by member (for debug logs).
  std::string group_round;
};

// Per-window statistics for dofa-stats (the element adds fps, which needs its clock).
struct RtmStats {
  int level = 0;
  long long frames = 0;    // updates since construction
  long long switches = 0;  // level changes since construction
  int samples = 0;         // frames in the window behind the percentiles
  double pre_p50_ms = 0, pre_p90_ms = 0;
  double infer_p50_ms = 0, infer_p90_ms = 0;
  double total_p90_ms = 0;  // pre + infer
  double slowdown = 1;      // s of the lut policy
};

class Rtm {
 public:
  static constexpr int kDefaultWindow = kRtmDefaultWindow;
  static constexpr int kMaxWindow = 10000;  // bounds the memory a window setting can take
  // Head-room kept below T (DESIGN.md §5): a p90 estimate lags a rising load by a few frames.
  static constexpr double kMargin = 0.1;
  // Dead band for moves up under unchanged settings: the window p90 of 30 frames
  // with 0.9-1.3 noise has about 2 % standard deviation, so 5 %, with the hold
  // of up_move_hold.h, keeps a level whose prediction sits on the boundary from
  // flipping back and forth.
  static constexpr double kUpBand = 0.05;
  // reactive: windows in a row with head-room before one level up (hysteresis,
  // after Dynamic-OFA run.sh, which pins a level it just failed at; ofa-facts §8.5).
  static constexpr int kReactiveUpWindows = 2;
  // lut, judging levels by measure: a level's figure needs this many of its own frames.
  static constexpr int kMinMeasuredFrames = 10;
  // lut, judging levels by measure: a move up to a level with no recent frames of its
  // own (a probe) waits this many times the hold of up_move_hold.h. Under a busy
  // thread the probe mostly fails, and a failed probe is two changes (the stability
  // bound: at most one per 100 frames).
  static constexpr int kProbeHoldFactor = 2;
  // lut: a frame over this many times its level's own median waited out another thread's
  // time slice. Drops made while frames waited are forgiven (up_move_hold.h) once
  // UpMoveHold::kRetryFrames frames in a row have not: a time-sliced load shows as such
  // waits even on a level whose p90 it spares (one frame in 20-30 of level 0 here), so
  // their end is the load's, which that level's p90 does not show.
  static constexpr double kWaitFactor = 3;

  // Throws Error on an empty list, a bad value or bad settings.
  Rtm(std::vector<RtmLevel> levels, const RtmSettings& settings = {});
  ~Rtm();  // leaves its group
  Rtm(const Rtm&) = delete;
  Rtm& operator=(const Rtm&) = delete;

  // Records the frame and decides the next level. Streaming thread only.
  // Throws Error naming the value for a bad frame (level out of range, negative
  // or non-finite time) or bad settings (window outside 1..kMaxWindow, negative
  // target, accuracy-min outside 0..100, fixed level >= number of levels).
  RtmDecision update(const FrameCost& frame, const RtmSettings& settings);
  // Decides with no new frame: before the first frame, or when settings change
  // while no frames flow. Streaming thread only.
  RtmDecision decide(const RtmSettings& settings);

  // Upstream QoS (GstEvent QOS): T_eff = min(T, frame_duration_ms / proportion),
  // also when T = 0. A proportion or duration <= 0 (unknown) clears it, as does
  // clear_qos() (flush, READY). Any thread.
  void on_qos(double proportion, double frame_duration_ms);
  void clear_qos();
  double qos_target_ms() const;  // 0 = none

  int level() const { return level_.load(std::memory_order_acquire); }  // any thread
  int num_levels() const;
  const std::vector<RtmLevel>& levels() const;
  RtmStats stats() const;  // streaming thread only

 private:
  struct State;
  RtmDecision decide_after(const RtmSettings& settings, bool new_frame);

  std::unique_ptr<State> state_;
  std::atomic<int> level_{0};
};

}  // namespace dofa
