// Arch: one sub-network of a supernet: kernel size and expand ratio per
// elastic block, depth per stage, input resolution.
//
// Forms: OFA's dict {"ks":[..],"e":[..],"d":[..],"r":[..]} and a compact line
//   r160-d44444-k7777.7777.7777.7777.7777-e6666.6666.6666.6666.6666
// (one digit per block, stages separated by '.').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spec.h"

namespace dofa {

struct Arch {
  std::vector<int> ks, e, d;
  int r = 0;

  bool operator==(const Arch& o) const { return ks == o.ks && e == o.e && d == o.d && r == o.r; }
  bool operator!=(const Arch& o) const { return !(*this == o); }

  static Arch max(const Spec& s);
  static Arch min(const Spec& s);
  static Arch random(const Spec& s, uint64_t seed);
  static Arch from_text(const std::string& text);
  static Arch from_ofa_json(const std::string& json);
  // Command-line form: max | min | random[:SEED] | text | OFA JSON | @FILE. Validated.
  static Arch parse(const std::string& arg, const Spec& s);

  std::string to_text() const;
  std::string to_ofa_json() const;
  // Throws Error naming the block or stage, the value and the allowed set.
  void validate(const Spec& s) const;
  bool active(const Spec& s, int stage, int pos) const { (void)s; return pos < d[stage]; }
  // The same network with every block that depth skips set to the smallest
  // kernel and expand: archs differing only there compare equal.
  Arch canonical(const Spec& s) const;
};

// The concrete shape of every layer of a sub-network.
struct LayerShape {
  const SuperBlock* block = nullptr;
  int in = 0, mid = 0, out = 0, kernel = 0, stride = 1, se_mid = 0;
  int in_hw = 0, out_hw = 0;
  bool expand = true;  // has an inverted bottleneck (false for the first block)
};

struct NetShape {
  int r = 0;
  int first_hw = 0;            // after the first conv
  std::vector<LayerShape> blocks;  // active blocks, first block included
  int final_hw = 0;
};

NetShape net_shape(const Spec& s, const Arch& a);

// OFA's feature-size rule: conv with padding k//2.
inline int conv_out(int hw, int stride) { return (hw - 1) / stride + 1; }

}  // namespace dofa
