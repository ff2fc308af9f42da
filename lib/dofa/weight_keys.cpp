#include "weight_keys.h"

#include <algorithm>

namespace dofa {

namespace {

const char* const kBnFields[] = {"weight", "bias", "running_mean", "running_var"};

void add_bn(std::vector<KeyShape>& out, const std::string& bn, int64_t c) {
  for (const char* f : kBnFields) out.push_back({bn + "." + f, {c}});
}

std::string block_prefix(const SuperBlock& b) {
  return "blocks." + std::to_string(b.index) + ".mobile_inverted_conv.";
}

}  // namespace

BlockKeys block_keys(const SuperBlock& b) {
  const std::string p = block_prefix(b);
  BlockKeys k;
  if (b.stage < 0) {  // static first block: single .conv / .bn
    k.dw_conv = p + "depth_conv.conv";
    k.dw_bn = p + "depth_conv.bn";
    k.se = p + "depth_conv.se";
    k.pw_conv = p + "point_linear.conv";
    k.pw_bn = p + "point_linear.bn";
  } else {  // elastic block: Dynamic* wrappers add a level (ofa-facts §10.1)
    k.ib_conv = p + "inverted_bottleneck.conv.conv";
    k.ib_bn = p + "inverted_bottleneck.bn.bn";
    k.dw_conv = p + "depth_conv.conv";
    k.dw_bn = p + "depth_conv.bn.bn";
    k.se = p + "depth_conv.se";
    k.pw_conv = p + "point_linear.conv.conv";
    k.pw_bn = p + "point_linear.bn.bn";
  }
  return k;
}

const char* first_conv_key() { return "first_conv"; }
const char* final_expand_key() { return "final_expand_layer"; }
const char* feature_mix_key() { return "feature_mix_layer"; }
const char* classifier_key() { return "classifier.linear"; }

std::vector<KeyShape> supernet_keys(const Spec& s) {
  std::vector<KeyShape> out;
  const int64_t fc = s.first_conv.width;
  const int64_t k0 = s.first_conv.kernel;
  out.push_back({"first_conv.conv.weight", {fc, s.in_channels, k0, k0}});
  add_bn(out, "first_conv.bn", fc);

  for (const SuperBlock& b : s.blocks) {
    BlockKeys k = block_keys(b);
    const int64_t mid = b.max_mid;
    if (b.stage < 0) {
      out.push_back({k.dw_conv + ".weight", {mid, 1, b.kernel, b.kernel}});
    } else {
      out.push_back({k.ib_conv + ".weight", {mid, b.in, 1, 1}});
      add_bn(out, k.ib_bn, mid);
      // One transform matrix per consecutive kernel pair, registered smallest
      // first (ofa-facts §2.2: 5to3, then 7to5).
      for (size_t i = 0; i + 1 < s.kernel_sizes.size(); ++i) {
        int64_t small = s.kernel_sizes[i], large = s.kernel_sizes[i + 1];
        out.push_back({k.dw_conv + "." + std::to_string(large) + "to" + std::to_string(small) + "_matrix",
                       {small * small, small * small}});
      }
      int64_t kmax = s.kernel_sizes.back();
      out.push_back({k.dw_conv + ".conv.weight", {mid, 1, kmax, kmax}});
    }
    add_bn(out, k.dw_bn, mid);
    if (b.se) {
      int64_t se_mid = make_divisible(b.max_mid / 4);
      out.push_back({k.se + ".fc.reduce.weight", {se_mid, mid, 1, 1}});
      out.push_back({k.se + ".fc.reduce.bias", {se_mid}});
      out.push_back({k.se + ".fc.expand.weight", {mid, se_mid, 1, 1}});
      out.push_back({k.se + ".fc.expand.bias", {mid}});
    }
    out.push_back({k.pw_conv + ".weight", {b.out, mid, 1, 1}});
    add_bn(out, k.pw_bn, b.out);
  }

  const int64_t last = s.blocks.back().out;
  out.push_back({"final_expand_layer.conv.weight", {s.final_expand.width, last, 1, 1}});
  add_bn(out, "final_expand_layer.bn", s.final_expand.width);
  out.push_back({"feature_mix_layer.conv.weight", {s.feature_mix.width, s.final_expand.width, 1, 1}});
  out.push_back({"classifier.linear.weight", {s.classes, s.feature_mix.width}});
  out.push_back({"classifier.linear.bias", {s.classes}});
  return out;
}

std::vector<BnSite> bn_sites(const Spec& s, const Arch& a) {
  NetShape n = net_shape(s, a);
  std::vector<BnSite> out;
  out.push_back({"first_conv.bn", s.first_conv.width});
  for (const LayerShape& l : n.blocks) {
    BlockKeys k = block_keys(*l.block);
    if (l.expand) out.push_back({k.ib_bn, l.mid});
    out.push_back({k.dw_bn, l.mid});
    out.push_back({k.pw_bn, l.out});
  }
  out.push_back({"final_expand_layer.bn", s.final_expand.width});
  return out;
}

}  // namespace dofa
