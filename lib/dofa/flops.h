// Multiply-adds and parameters of a sub-network, by OFA's counting rules
// (ofa-facts §6.4: MBv3LatencyTable.count_flops_given_config; MFLOPs = MACs / 1e6).
#pragma once

#include "arch.h"
#include "spec.h"

namespace dofa {

struct NetCost {
  double mflops = 0;     // multiply-adds / 1e6 at the arch's resolution
  long long params = 0;  // parameters of the static sub-network (BN weight+bias included)
};

NetCost net_cost(const Spec& s, const Arch& a);

}  // namespace dofa
