// Training augmentation from the spec's "preprocess.train", ending in the one
// preprocessing definition (preprocess.h), and the small seeded generator that
// makes every random choice of training, calibration and search reproducible.
#pragma once

#include <cstdint>

#include "dataset.h"
#include "spec.h"

namespace dofa {

// splitmix64 (Steele, Lea, Flood 2014): a stream per (seed, purpose, step)
// without carrying generator state through checkpoints.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  Rng(uint64_t a, uint64_t b, uint64_t c = 0) : s_(mix(mix(mix(a) ^ b) ^ c)) {}
  uint64_t next() { return mix(s_ += 0x9e3779b97f4a7c15ull); }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return int(next() % uint64_t(n)); }
  static uint64_t mix(uint64_t z);

 private:
  uint64_t s_;
};

// One training example: pad + random crop (spec.train_pad > 0) or OFA's
// random resized crop (scale spec.train_scale_*, ratio 3/4..4/3, ofa-facts §4),
// horizontal flip, brightness and saturation jitter, then preprocess() to r x r.
// Writes in_channels * r * r floats (CHW). Needs OpenCV: builds without it throw Error.
void train_transform(const Image& img, const Spec& spec, int r, Rng& rng, float* out);
// The evaluation transform of an 8-bit grey or RGB picture (preprocess()).
void eval_transform(const Image& img, const Spec& spec, int r, float* out);

}  // namespace dofa
