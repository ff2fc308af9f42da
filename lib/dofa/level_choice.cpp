#include "level_choice.h"

#include <cstddef>

namespace dofa {

int most_accurate_fitting(const std::vector<RtmLevel>& levels, const FramePrediction& p,
                          double budget_ms, double accuracy_cap) {
  std::vector<double> ms;
  for (const RtmLevel& l : levels) ms.push_back(p.ms(l));
  return most_accurate_fitting(levels, ms, budget_ms, accuracy_cap);
}

int most_accurate_fitting(const std::vector<RtmLevel>& levels, const std::vector<double>& ms,
                          double budget_ms, double accuracy_cap) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(levels.size()); ++i) {
    const RtmLevel& l = levels[i];
    if (l.accuracy > accuracy_cap || ms[static_cast<std::size_t>(i)] > budget_ms) continue;
    if (best < 0 || l.accuracy > levels[best].accuracy ||
        (l.accuracy == levels[best].accuracy && l.latency_p90_ms < levels[best].latency_p90_ms))
      best = i;
  }
  return best;
}

int most_accurate_unmeasured(const std::vector<RtmLevel>& levels, int current, const std::vector<double>& seen_ms,
                             double accuracy_cap) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(levels.size()); ++i)
    if (levels[i].accuracy > levels[current].accuracy && levels[i].accuracy <= accuracy_cap &&
        seen_ms[static_cast<std::size_t>(i)] < 0 && (best < 0 || levels[i].accuracy > levels[best].accuracy))
      best = i;
  return best;
}

int energy_level(const std::vector<RtmLevel>& levels, double accuracy_min) {
  int fastest = -1;
  if (accuracy_min > 0) {
    for (int i = 0; i < static_cast<int>(levels.size()); ++i) {
      const RtmLevel& l = levels[i];
      if (l.accuracy < accuracy_min) continue;
      if (fastest < 0 || l.latency_p90_ms < levels[fastest].latency_p90_ms ||
          (l.latency_p90_ms == levels[fastest].latency_p90_ms && l.accuracy > levels[fastest].accuracy))
        fastest = i;
    }
  }
  return fastest >= 0 ? fastest : most_accurate_fitting(levels, FramePrediction{}, kNoLimit);
}

}  // namespace dofa
