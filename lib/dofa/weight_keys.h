// Names and shapes of the supernet's tensors, exactly as in the official OFA
// checkpoints (ofa-facts §3.2: old `mobile_inverted_conv` naming, double
// `.conv.conv.` / `.bn.bn.` inside elastic blocks).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "spec.h"

namespace dofa {

struct KeyShape {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor of the supernet, in checkpoint order; BN buffers included,
// num_batches_tracked excluded (optional in files).
std::vector<KeyShape> supernet_keys(const Spec& s);

// Module prefixes of one elastic or first block, e.g. "blocks.5.mobile_inverted_conv.depth_conv".
struct BlockKeys {
  std::string ib_conv, ib_bn;  // empty for the first block
  std::string dw_conv, dw_bn;  // dw_conv is the DynamicSeparableConv2d (holds the matrices)
  std::string se;              // "...depth_conv.se" (fc.reduce / fc.expand below it)
  std::string pw_conv, pw_bn;
};
BlockKeys block_keys(const SuperBlock& b);
const char* first_conv_key();   // "first_conv"  (.conv.weight, .bn.*)
const char* final_expand_key(); // "final_expand_layer"
const char* feature_mix_key();  // "feature_mix_layer"
const char* classifier_key();   // "classifier.linear"

// BN layers a sub-network uses: module name (e.g. "first_conv.bn",
// "blocks.5.mobile_inverted_conv.depth_conv.bn.bn") and active channels.
struct BnSite {
  std::string name;
  int channels = 0;
};
std::vector<BnSite> bn_sites(const Spec& s, const Arch& a);

}  // namespace dofa
