// Cost of a static sub-network. MACs follow OFA's
// MBv3LatencyTable.count_flops_given_config (ofa-facts §6.4): biases, BN and
// activations are not counted, and SE counts its two 1x1 convs at size 1.
#include "flops.h"

namespace dofa {

namespace {

// OFA's count_conv_flop: multiply-adds of a k x k conv producing out_hw x out_hw.
double conv_macs(int out_hw, int cin, int cout, int k, int groups) {
  return double(cin) * cout * k * k * out_hw * out_hw / groups;
}

long long conv_params(int cin, int cout, int k, int groups, bool bias) {
  return (long long)cin / groups * cout * k * k + (bias ? cout : 0);
}

long long bn_params(int channels) { return 2LL * channels; }  // weight + bias

}  // namespace

NetCost net_cost(const Spec& s, const Arch& a) {
  const NetShape shape = net_shape(s, a);
  double macs = 0;
  long long params = 0;

  // First conv: conv + BN.
  macs += conv_macs(shape.first_hw, s.in_channels, s.first_conv.width, s.first_conv.kernel, 1);
  params += conv_params(s.in_channels, s.first_conv.width, s.first_conv.kernel, 1, false) +
            bn_params(s.first_conv.width);

  for (const LayerShape& b : shape.blocks) {
    if (b.expand) {  // inverted bottleneck runs at the input size (ofa-facts §6.4)
      macs += conv_macs(b.in_hw, b.in, b.mid, 1, 1);
      params += conv_params(b.in, b.mid, 1, 1, false) + bn_params(b.mid);
    }
    macs += conv_macs(b.out_hw, b.mid, b.mid, b.kernel, b.mid);
    params += conv_params(b.mid, b.mid, b.kernel, b.mid, false) + bn_params(b.mid);
    if (b.block->se) {  // reduce and expand 1x1 convs with bias (ofa-facts §1.4)
      macs += conv_macs(1, b.mid, b.se_mid, 1, 1) + conv_macs(1, b.se_mid, b.mid, 1, 1);
      params += conv_params(b.mid, b.se_mid, 1, 1, true) + conv_params(b.se_mid, b.mid, 1, 1, true);
    }
    macs += conv_macs(b.out_hw, b.mid, b.out, 1, 1);
    params += conv_params(b.mid, b.out, 1, 1, false) + bn_params(b.out);
  }

  const int last = shape.blocks.empty() ? s.first_conv.width : shape.blocks.back().out;
  macs += conv_macs(shape.final_hw, last, s.final_expand.width, 1, 1);
  params += conv_params(last, s.final_expand.width, 1, 1, false) + bn_params(s.final_expand.width);

  // Feature mix (no BN, no bias) and classifier run on the pooled 1x1 map.
  macs += conv_macs(1, s.final_expand.width, s.feature_mix.width, 1, 1);
  params += conv_params(s.final_expand.width, s.feature_mix.width, 1, 1, false);
  macs += conv_macs(1, s.feature_mix.width, s.classes, 1, 1);
  params += conv_params(s.feature_mix.width, s.classes, 1, 1, true);

  return NetCost{macs / 1e6, params};
}

}  // namespace dofa
