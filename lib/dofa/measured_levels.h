// MeasuredLevels: what each level's own recent frames showed (pre + infer,
// per level), and whether the lut policy's prediction s * L_i holds on this
// machine now.
//
// s * L_i assumes that load stretches every level's work alike. A busy thread
// on the same CPU does not: the frame waits out the other thread's time slice
// whatever the level, so every level's p90 comes out about the same (measured
// here, `dofa bench rtm`: loaded p90 6.5-7.6 ms for levels whose idle p90 is
// 1.9-4.3 ms). Then s * L_i, taken on a fast level, rules out more accurate
// levels that would meet the target. A move between two levels shows which
// case holds: once the level moved to has a full window of frames, the
// elasticity of the time that depends on the level, e = d log(p90 - pre) /
// d log(L), is 1 where s * L holds and near 0 where the wait dominates. From a
// move with e below kMinElasticity (or above kMaxElasticity) until one with e
// near 1 (3 % noise on a p90 moves e by about 0.2), the lut policy judges levels by
// what was measured on them and tries the ones it has not measured lately; a
// level not measured lately is expected at pre + (p90_c - pre) * (L_i / L_c)^e
// from the current level c (rtm.h).
#pragma once

#include <vector>

#include "latency_window.h"

namespace dofa {

class MeasuredLevels {
 public:
  // A level's figures older than this many frames describe another load.
  static constexpr int kMemoryFrames = 300;
  // s * L holds for e near 1. Below kMinElasticity the wait dominates; above
  // kMaxElasticity the slower level's frames were preempted where the faster
  // one's fitted between the waits (frames well under a time slice: the p90
  // steps from L to L + the wait as L grows). It holds again within
  // [kHoldsElasticity, 1 / kHoldsElasticity].
  static constexpr double kMinElasticity = 0.5;
  static constexpr double kMaxElasticity = 1 / kMinElasticity;
  static constexpr double kHoldsElasticity = 0.8;
  // Levels closer than this in log L (16 %) say too little through 3 % noise in a p90.
  static constexpr double kMinLogStep = 0.15;
  // A reference of a few frames is noisier (one frame spans about 30 %): a
  // step of 0.6 in log L (1.8x) keeps its error in e near 0.25.
  static constexpr double kMinLogStepFewFrames = 0.6;

  // latency_ms: each level's figure (RtmLevel::latency_p90_ms).
  void reset(const std::vector<double>& latency_ms, int window);
  void set_window(int window);
  // pre_ms: the level-independent time now (rtm.h's median pre). A move is
  // judged with the smaller of it and the one at the move: the few frames
  // before a move at the start of a stream carry one-off costs, and taking out
  // too much leaves the level's own time near 0 (e far above 1).
  void push(int level, double total_ms, long long frame, double pre_ms);
  // The next frames run `level` instead of `from`; its old frames are dropped.
  // Once `level` has a full window the move is judged against `from`'s p90, or,
  // where `from` had fewer than `min_samples` frames or the moves since the last
  // judged one were each under kMinLogStep, against the level before them
  // (within kMemoryFrames), or, with no such level, against `from`'s few frames;
  // pre_ms (the level-independent time) is taken out of both.
  void entered(int level, int from, double pre_ms, int min_samples);
  // Something other than this level changed the load (another member of its
  // group moved): `level`'s frames so far, a move pending judgement and the
  // level a move would be judged against all describe another load.
  void disturbed(int level);

  // p90 of the level's own frames; -1 with fewer than `min_samples` of them or
  // when the newest is older than kMemoryFrames at frame `now`.
  double p90(int level, long long now, int min_samples) const;
  // Median of the level's own frames; -1 with fewer than `min_samples` of them.
  double median(int level, int min_samples) const;
  // How many of the level's own frames took longer than `ms`.
  int count_above(int level, double ms) const;
  bool prediction_fails() const { return prediction_fails_; }
  // `level`'s full window will judge the last move.
  bool judging(int level) const { return judged_level_ == level; }
  double elasticity() const { return elasticity_; }  // the last judged e, within 0..kMaxElasticity

 private:
  std::vector<LatencyWindow> own_;
  std::vector<long long> last_;  // frame of each level's newest sample
  std::vector<double> latency_ms_;
  int judged_level_ = -1;        // the level whose full window will judge the prediction
  double from_p90_ = 0, from_latency_ms_ = 0, pre_ms_ = 0;  // the level a move is judged against
  long long from_frame_ = 0;
  bool reference_open_ = false;  // the last move was too small to judge: the reference stays
  bool weak_ = false;            // the reference had fewer than min_samples frames
  bool prediction_fails_ = false;
  double elasticity_ = 1;
};

}  // namespace dofa
