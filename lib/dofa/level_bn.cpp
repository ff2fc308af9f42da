// Per-level BN statistics file: one flat name -> tensor map whose keys carry
// the level index ("<level>/<bn module>.running_mean"), so one file serves
// every level of a table (Dynamic-OFA ships per-subnet BN stats too, ofa-facts §8.3).
#include "level_bn.h"

#include <glib.h>

#include <map>
#include <set>

#include "error.h"
#include "weight_keys.h"

namespace dofa {

namespace {

const char* const kStatSuffixes[] = {".running_mean", ".running_var"};

// "12/first_conv.bn.running_mean" -> level 12; -1 when the prefix is not a level index.
long level_of(const std::string& key, std::string* rest) {
  size_t slash = key.find('/');
  if (slash == 0 || slash == std::string::npos) return -1;
  long level = 0;
  for (size_t i = 0; i < slash; ++i) {
    char c = key[i];
    if (c < '0' || c > '9' || level > 1000000) return -1;
    level = level * 10 + (c - '0');
  }
  *rest = key.substr(slash + 1);
  return level;
}

}  // namespace

std::vector<BnStats> load_level_bn(const LevelTable& table, const Spec& spec) {
  std::vector<BnStats> out;
  if (table.bn_file.empty()) return out;
  const std::string file = table.bn_path();
  const std::string table_name = table.path.empty() ? std::string("level table") : table.path;
  if (!g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR))
    throw Error(table_name + ": bn_file '" + table.bn_file + "' not found (looked for " + file + ")");

  TensorMap all = load_tensors(file);

  // Split the flat map by level, rejecting keys that belong to no level.
  std::vector<TensorMap> by_level(table.levels.size());
  for (auto& [key, tensor] : all) {
    std::string rest;
    long level = level_of(key, &rest);
    if (level < 0)
      throw Error(file + ": entry '" + key + "' has no level prefix, expected '<level>/<bn name>.running_mean|var'");
    if (size_t(level) >= table.levels.size())
      throw Error(file + ": entry '" + key + "' is for level " + std::to_string(level) + ", but " + table_name +
                  " has " + std::to_string(table.levels.size()) + " levels");
    by_level[size_t(level)].emplace(rest, tensor);
  }

  for (size_t li = 0; li < table.levels.size(); ++li) {
    const std::string where = file + ": level " + std::to_string(li) + " (" + table.levels[li].arch.to_text() + ")";
    TensorMap& have = by_level[li];
    BnStats stats;
    for (const BnSite& site : bn_sites(spec, table.levels[li].arch)) {
      for (const char* suffix : kStatSuffixes) {
        const std::string name = site.name + suffix;
        auto it = have.find(name);
        if (it == have.end()) throw Error(where + ": missing BN statistics '" + name + "'");
        const at::Tensor& t = it->second;
        if (t.dim() != 1 || t.size(0) != site.channels)
          throw Error(where + ": " + name + " has shape " + c10::str(t.sizes()) + ", expected [" +
                      std::to_string(site.channels) + "]");
        if (!t.is_floating_point())
          throw Error(where + ": " + name + " has a non-floating-point type, expected float32");
        if (suffix == kStatSuffixes[1] && (t.lt(0).any().item<bool>()))
          throw Error(where + ": " + name + " has negative variances");
        stats.emplace(name, t.to(at::kFloat).contiguous());
        have.erase(it);
      }
    }
    if (!have.empty())
      throw Error(where + ": entry '" + std::to_string(li) + "/" + have.begin()->first +
                  "' names no BN layer of this level's arch (" + std::to_string(have.size()) + " such entries)");
    out.push_back(std::move(stats));
  }
  return out;
}

void save_level_bn(const std::string& path, const std::vector<BnStats>& stats) {
  TensorMap all;
  for (size_t li = 0; li < stats.size(); ++li)
    for (const auto& [name, tensor] : stats[li]) all.emplace(std::to_string(li) + "/" + name, tensor);
  save_tensors(path, all);
}

}  // namespace dofa
