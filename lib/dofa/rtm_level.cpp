#include "rtm_level.h"

#include <cmath>
#include <string>

#include "error.h"

namespace dofa {

std::vector<RtmLevel> make_rtm_levels(const std::vector<double>& accuracy_pct,
                                      const std::vector<double>& latency_p90_ms) {
  if (accuracy_pct.size() != latency_p90_ms.size())
    throw Error("runtime manager: " + std::to_string(accuracy_pct.size()) + " accuracies but " +
                std::to_string(latency_p90_ms.size()) + " latencies; one of each per level");
  std::vector<RtmLevel> levels;
  for (size_t i = 0; i < accuracy_pct.size(); ++i) levels.push_back({accuracy_pct[i], latency_p90_ms[i]});
  check_rtm_levels(levels);
  return levels;
}

void check_rtm_levels(const std::vector<RtmLevel>& levels) {
  if (levels.empty()) throw Error("runtime manager: the level list is empty; at least one level is needed");
  for (size_t i = 0; i < levels.size(); ++i) {
    const RtmLevel& l = levels[i];
    if (!std::isfinite(l.accuracy) || l.accuracy < 0 || l.accuracy > 100)
      throw Error("runtime manager: level " + std::to_string(i) + " accuracy " +
                  std::to_string(l.accuracy) + " is outside 0..100 percent");
    if (!std::isfinite(l.latency_p90_ms) || l.latency_p90_ms <= 0)
      throw Error("runtime manager: level " + std::to_string(i) + " latency p90 " +
                  std::to_string(l.latency_p90_ms) + " ms must be a finite number > 0");
  }
}

}  // namespace dofa
