#include "op_keys.h"

namespace dofa {

namespace {

std::string hwc(int hw, int c) { return std::to_string(hw) + "x" + std::to_string(hw) + "x" + std::to_string(c); }

}  // namespace

std::vector<std::string> op_keys(const Spec& spec, const Arch& arch) {
  const NetShape n = net_shape(spec, arch);
  std::vector<std::string> keys;
  keys.push_back("Conv-input:" + hwc(n.r, spec.in_channels) + "-output:" + hwc(n.first_hw, spec.first_conv.width));
  for (const LayerShape& l : n.blocks) {
    const SuperBlock& b = *l.block;
    keys.push_back("expanded_conv-input:" + hwc(l.in_hw, l.in) + "-output:" + hwc(l.out_hw, l.out) +
                   "-expand:" + std::to_string(l.mid) + "-kernel:" + std::to_string(l.kernel) +
                   "-stride:" + std::to_string(l.stride) + "-idskip:" + (b.residual ? "1" : "0") +
                   "-se:" + (b.se ? "1" : "0") + "-hs:" + (b.act == Act::HSwish ? "1" : "0"));
  }
  const int f = n.final_hw, fe = spec.final_expand.width, mix = spec.feature_mix.width;
  const int last = n.blocks.back().out;
  keys.push_back("Conv_1-input:" + hwc(f, last) + "-output:" + hwc(f, fe));
  keys.push_back("AvgPool2D-input:" + hwc(f, fe) + "-output:" + hwc(1, fe));
  keys.push_back("Conv_2-input:" + hwc(1, fe) + "-output:" + hwc(1, mix));
  keys.push_back("Logits-input:" + hwc(1, mix) + "-output:" + std::to_string(spec.classes));
  return keys;
}

}  // namespace dofa
