// Latency look-up tables: per resolution, op key (op_keys.h) -> {count, mean,
// std} in ms, as Dynamic-OFA stores them (<r>_lookup_table.json, ofa-facts
// §6.2). A sub-network's predicted latency is the sum of its ops' means (§6.3).
#pragma once

#include <map>
#include <string>

#include "arch.h"

namespace dofa {

struct OpStat {
  long long count = 0;
  double mean = 0, std = 0;  // ms
};

class LatencyLut {
 public:
  using Table = std::map<std::string, OpStat>;

  // A file (one resolution, Dynamic-OFA's JSON) or a folder of <r>_lookup_table.json.
  // The resolution comes from the file name, else from its Conv key.
  static LatencyLut load(const std::string& path);
  // Writes one <r>_lookup_table.json per resolution into dir (created).
  void save(const std::string& dir) const;

  // Sum of the op means; throws Error naming the resolution and the missing key.
  double predict(const Spec& spec, const Arch& arch) const;

  std::map<int, Table> tables;
};

}  // namespace dofa
