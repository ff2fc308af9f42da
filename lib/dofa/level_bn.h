// Per-level BN statistics of a level table (internal: ATen types).
// File keys: "<level>/<bn module name>.running_mean" and ".running_var".
#pragma once

#include <vector>

#include "level_table.h"
#include "torchfile.h"

namespace dofa {

// One level's statistics: bn module name -> (mean, var); keys of the form
// "<bn name>.running_mean" / "<bn name>.running_var", sized to the level's channels.
using BnStats = TensorMap;

// Reads table.bn_path() and checks every level's statistics against its arch
// (missing BN, wrong shape, unknown entries): errors name the level and the problem.
// Returns one BnStats per level; empty vector when the table has no bn_file.
std::vector<BnStats> load_level_bn(const LevelTable& table, const Spec& spec);
void save_level_bn(const std::string& path, const std::vector<BnStats>& stats);

}  // namespace dofa
