// The latency look-up-table keys of a sub-network's ops, in the form OFA's
// MBv3LatencyTable and Dynamic-OFA's tables use (ofa-facts §6.1):
//   Conv-input:28x28x1-output:28x28x16
//   expanded_conv-input:14x14x16-output:7x7x24-expand:96-kernel:7-stride:2-idskip:0-se:0-hs:0
//   Conv_1-…, AvgPool2D-…, Conv_2-…, Logits-input:1x1x512-output:10
// "expand" is the middle channel count, as in OFA's MBv3 tables.
#pragma once

#include <string>
#include <vector>

#include "arch.h"

namespace dofa {

// First conv, every active block (the first block included), final expand,
// pool, feature mix, logits: the order of Level::forward's op timings.
std::vector<std::string> op_keys(const Spec& spec, const Arch& arch);

}  // namespace dofa
