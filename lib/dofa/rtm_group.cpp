#include "rtm_group.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "error.h"
#include "rtm.h"
#include "up_move_hold.h"

namespace dofa {

struct RtmGroup::Member {
  int id = 0;
  std::vector<RtmLevel> levels;
  int level = 0;
  bool automatic = true;
  bool has_report = false;
  GroupReport last;
  long long last_report = 0;  // reports_ when it last reported
  bool unreachable = false;
  double coupling = kInitialCoupling;
  UpMoveHold hold;       // as lut: how long a raise must be wanted
  int raise_wanted = 0;  // its own frames in a row on which its raise was possible
  // Left by the round that changed only other members, read by the next one.
  bool learn = false;
  double infer_before_ms = 0;  // s * L(level) before that round
  double others_change_ms = 0;  // signed sum of the others' changes in ms
  long disturbed_epoch = -1;    // the epoch that began with another member's level changing
  // Some member's moves showed load that does not scale with the level: the
  // device they share is time-sliced, so every member's current level is
  // judged by its window p90 against T itself. Set per round.
  bool time_sliced = false;
  std::string round;  // the round that changed its level, until its next report

  double budget_ms() const {
    return last.target_ms > 0 ? last.target_ms * (1 - Rtm::kMargin) : kNoLimit;
  }
  bool by_measure() const { return !last.measured_ms.empty(); }
  double measured_ms(int l) const { return by_measure() ? last.measured_ms[static_cast<size_t>(l)] : -1; }
  // Above this the member misses. At level 0 it has no faster level of its own
  // and, as lut runs level 0 until T itself is missed, the others are only
  // lowered for T, not for the margin; on a time-sliced device, neither is it.
  double miss_limit_ms() const {
    return (level == 0 || time_sliced) && last.target_ms > 0 ? last.target_ms : budget_ms();
  }
  double predicted_ms(int l) const {
    const double seen = measured_ms(l);
    return seen >= 0 ? seen : last.prediction.ms(levels[l]);
  }
  double infer_ms(int l) const {
    const double seen = measured_ms(l);
    return seen >= 0 ? std::max(0.0, seen - last.prediction.pre_ms) : last.prediction.infer_ms(levels[l]);
  }
  // The level a step down goes to: the nearest one below that is faster. Levels'
  // latencies measured at load need not rise with the level (the built-in
  // model's two most accurate can swap), and a step to a level no faster would
  // save nothing: the member would never be lowered. -1 when none is faster.
  int below() const {
    for (int l = level - 1; l >= 0; --l)
      if (levels[l].latency_p90_ms < levels[level].latency_p90_ms) return l;
    return -1;
  }
  // The level a raise goes to: the nearest one above that is more accurate (the
  // built-in model's level 4 tests below level 3). -1 when none is.
  int above() const {
    for (int l = level + 1; l < static_cast<int>(levels.size()); ++l)
      if (levels[l].accuracy > levels[level].accuracy) return l;
    return -1;
  }
  // Where a raise goes: above(); judged by measure, that level only when its own
  // recent frames fit the budget, and otherwise, as lut does, the most accurate
  // level not measured lately: a probe, paced by the hold. -1 when none.
  int raise_to() const {
    const int up = above();
    if (!by_measure() || up < 0 || (measured_ms(up) >= 0 && measured_ms(up) <= budget_ms())) return up;
    return most_accurate_unmeasured(levels, level, last.measured_ms, last.accuracy_cap);
  }
  bool counts() const { return automatic && has_report; }
};

namespace {

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<RtmGroup>>& registry() {
  static std::map<std::string, std::weak_ptr<RtmGroup>> groups;
  return groups;
}

}  // namespace

RtmGroup::RtmGroup(std::string name) : name_(std::move(name)) {}
RtmGroup::~RtmGroup() = default;

std::shared_ptr<RtmGroup> RtmGroup::join(const std::string& name) {
  if (name.empty()) throw Error("runtime manager: a group needs a non-empty name");
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto& groups = registry();
  for (auto it = groups.begin(); it != groups.end();)  // forget groups whose members all left
    it = it->second.expired() ? groups.erase(it) : std::next(it);
  std::shared_ptr<RtmGroup> group = groups[name].lock();
  if (!group) {
    group = std::make_shared<RtmGroup>(name);
    groups[name] = group;
  }
  return group;
}

int RtmGroup::member_count(const std::string& name) {
  std::shared_ptr<RtmGroup> group;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto it = registry().find(name);
    if (it != registry().end()) group = it->second.lock();
  }
  return group ? group->size() : 0;
}

int RtmGroup::add_member(const std::vector<RtmLevel>& levels, int level) {
  check_rtm_levels(levels);
  std::lock_guard<std::mutex> lock(mutex_);
  auto m = std::make_unique<Member>();
  m->id = next_id_++;
  m->levels = levels;
  m->level = std::clamp(level, 0, static_cast<int>(levels.size()) - 1);
  m->hold.reset(static_cast<int>(levels.size()));
  members_.push_back(std::move(m));
  new_epoch(members_.back().get());  // one more user of the device: everybody re-measures
  return members_.back()->id;
}

void RtmGroup::remove_member(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(members_.begin(), members_.end(), [id](const auto& m) { return m->id == id; });
  if (it == members_.end()) return;
  members_.erase(it);
  new_epoch(nullptr);  // its share of the device is free: the next rounds may raise the others
}

void RtmGroup::set_level(int id, int level, bool automatic) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member* m = find(id);
  if (!m) return;
  m->level = std::clamp(level, 0, static_cast<int>(m->levels.size()) - 1);
  m->automatic = automatic;
  m->unreachable = false;
  m->hold.reset(static_cast<int>(m->levels.size()));
  new_epoch(m);
}

GroupVerdict RtmGroup::report(int id, const GroupReport& report) {
  std::lock_guard<std::mutex> lock(mutex_);
  Member* m = find(id);
  if (!m) throw Error("runtime manager: member " + std::to_string(id) + " is not in group '" + name_ + "'");
  m->last = report;
  m->has_report = true;
  m->last_report = ++reports_;
  if (report.new_frame) m->hold.next_frame();
  if (m->automatic && ready()) run_round(m);
  GroupVerdict v{m->level, epoch_, m->automatic && m->unreachable, m->disturbed_epoch == epoch_, {}};
  v.round.swap(m->round);
  return v;
}

int RtmGroup::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(members_.size());
}

long RtmGroup::epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return epoch_;
}

double RtmGroup::coupling(int id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Member* m = find(id);
  return m ? m->coupling : 0;
}

RtmGroup::Member* RtmGroup::find(int id) {
  for (auto& m : members_)
    if (m->id == id) return m.get();
  return nullptr;
}

const RtmGroup::Member* RtmGroup::find(int id) const {
  for (const auto& m : members_)
    if (m->id == id) return m.get();
  return nullptr;
}

bool RtmGroup::heard_lately(const Member& m) const {
  return reports_ - m.last_report <= static_cast<long long>(kSilentReports) * static_cast<long long>(members_.size());
}

bool RtmGroup::ready() const {
  for (const auto& m : members_) {
    if (!m->automatic) continue;
    if (!heard_lately(*m)) continue;  // paused: not waited for
    if (!m->has_report || m->last.epoch != epoch_ || m->last.fresh_frames < m->last.settle_frames)
      return false;
  }
  return true;
}

void RtmGroup::new_epoch(const Member* mover) {
  ++epoch_;
  last_raise_ = -1;
  for (auto& m : members_) {
    m->learn = false;  // the change was not only the others' levels
    m->raise_wanted = 0;
    if (m.get() != mover) m->disturbed_epoch = epoch_;
  }
}

std::string RtmGroup::describe_round(const char* what, const std::vector<int>& before,
                                     const std::vector<double>& limit) const {
  std::string s = what;
  char part[160];
  for (size_t k = 0; k < members_.size(); ++k) {
    const Member& m = *members_[k];
    if (!m.counts()) continue;
    const int b = before[k];
    std::snprintf(part, sizeof part, "; %d: %d->%d p90 %.2f / limit %.2f ms%s, coupling %.2f", m.id, b, m.level,
                  m.predicted_ms(b), limit[k], m.by_measure() ? ", by measure" : "", m.coupling);
    s += part;
  }
  return s;
}

void RtmGroup::learn_coupling() {
  for (auto& m : members_) {
    if (!m->learn || !m->counts()) continue;
    m->learn = false;
    double change = m->others_change_ms;
    // Too small a change is lost in the p90's noise (about 2 %).
    if (std::fabs(change) < std::max(0.5, 0.05 * m->infer_before_ms)) continue;
    double observed = (m->infer_ms(m->level) - m->infer_before_ms) / change;
    m->coupling = 0.5 * m->coupling + 0.5 * std::clamp(observed, 0.0, 1.0);
  }
}

void RtmGroup::run_round(Member* reporter) {
  learn_coupling();
  bool sliced = false;
  for (const auto& m : members_) sliced = sliced || (m->counts() && m->by_measure());
  for (auto& m : members_) m->time_sliced = sliced;
  std::vector<int> before;
  std::vector<double> infer_before, limit_before;
  for (const auto& m : members_) {
    before.push_back(m->level);
    limit_before.push_back(m->miss_limit_ms());
    infer_before.push_back(m->counts() ? m->infer_ms(m->level) : 0);
  }
  bool missing = false, judging = false, missing_target = false;
  for (const auto& m : members_) {
    if (!m->counts()) continue;
    if (m->predicted_ms(m->level) > m->miss_limit_ms()) missing = true;
    if (m->last.target_ms > 0 && m->predicted_ms(m->level) > m->last.target_ms) missing_target = true;
    if (m->last.judging && heard_lately(*m)) judging = true;
  }
  if (judging && !missing_target) return;  // a member's move awaits its judgement
  bool changed = missing ? lower(find(last_raise_)) : raise(reporter);
  if (!changed) return;
  const std::string round = describe_round(missing ? "lower" : "raise", before, limit_before);
  int raised = -1;
  for (size_t k = 0; k < members_.size(); ++k) {
    Member& m = *members_[k];
    if (m.level < before[k]) m.hold.forced_down(before[k], m.level);
    else if (m.level > before[k]) m.hold.moved_up(before[k], m.level, m.raise_wanted);
    if (m.level > before[k]) raised = m.id;
    // A member that has not reported since an earlier round changed it gets both.
    if (m.level != before[k]) m.round = m.round.empty() ? round : m.round + " | then " + round;
  }

  // What each member saw change in the others, for the next round's learning.
  std::vector<double> change_ms(members_.size(), 0);
  for (size_t k = 0; k < members_.size(); ++k)
    if (members_[k]->level != before[k] && members_[k]->counts())
      change_ms[k] = members_[k]->infer_ms(members_[k]->level) - infer_before[k];
  int movers = 0;
  const Member* mover = nullptr;
  for (size_t k = 0; k < members_.size(); ++k)
    if (members_[k]->level != before[k]) ++movers, mover = members_[k].get();
  new_epoch(movers == 1 ? mover : nullptr);
  last_raise_ = raised;
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& m = *members_[i];
    if (!m.counts() || m.level != before[i]) continue;
    m.learn = true;
    m.infer_before_ms = infer_before[i];
    m.others_change_ms = 0;
    for (size_t k = 0; k < members_.size(); ++k)
      if (k != i) m.others_change_ms += change_ms[k];
  }
}

bool RtmGroup::lower(Member* just_raised) {
  const size_t n = members_.size();
  std::vector<double> deficit(n, 0);  // predicted ms over budget, per member
  for (size_t i = 0; i < n; ++i) {
    const Member& m = *members_[i];
    if (m.counts()) deficit[i] = std::max(0.0, m.predicted_ms(m.level) - m.miss_limit_ms());
  }
  // ms a step by member k saves toward member i's miss.
  auto credit = [&](size_t i, size_t k, double saved_ms) {
    return i == k ? saved_ms : members_[i]->coupling * saved_ms;
  };
  bool changed = false;
  auto step_down = [&](size_t k) {
    Member& m = *members_[k];
    const int to = m.below();
    double saved = m.infer_ms(m.level) - m.infer_ms(to);
    m.level = to;
    changed = true;
    for (size_t i = 0; i < n; ++i) deficit[i] = std::max(0.0, deficit[i] - credit(i, k, saved));
  };
  // The group's last change raised `just_raised` and now someone misses: undo
  // that raise first (its level is then held back, UpMoveHold), as Dynamic-OFA's
  // run.sh steps back from a level it just moved up to (ofa-facts §8.5).
  for (size_t k = 0; k < n; ++k)
    if (members_[k].get() == just_raised && just_raised->counts() && just_raised->below() >= 0) step_down(k);
  for (;;) {
    bool open = false;
    for (double d : deficit) open = open || d > 0;
    if (!open) break;
    // The cheapest step: (below accuracy-min last, accuracy lost per useful ms, join order).
    int best = -1;
    bool best_breaks_floor = false;
    double best_cost = 0, best_reach = 0;
    for (size_t k = 0; k < n; ++k) {
      const Member& m = *members_[k];
      const int to = m.counts() ? m.below() : -1;
      if (to < 0) continue;
      double saved = m.infer_ms(m.level) - m.infer_ms(to);
      double useful = 0, reach = 0;  // ms toward the misses; and before capping at them
      for (size_t i = 0; i < n; ++i) {
        if (deficit[i] <= 0) continue;
        useful += std::min(deficit[i], credit(i, k, saved));
        reach += credit(i, k, saved);
      }
      if (useful <= 0) continue;
      double lost = std::max(0.0, m.levels[m.level].accuracy - m.levels[to].accuracy);
      bool breaks_floor = m.last.accuracy_min > 0 && m.levels[to].accuracy < m.last.accuracy_min;
      double cost = lost / useful;
      // Equal cost (both cover what is left): the step that reaches further, which is
      // the missing member's own, whose effect is known rather than estimated.
      bool better = best < 0 || breaks_floor < best_breaks_floor ||
                    (breaks_floor == best_breaks_floor &&
                     (cost < best_cost || (cost == best_cost && reach > best_reach)));
      if (better) {
        best = static_cast<int>(k);
        best_breaks_floor = breaks_floor;
        best_cost = cost;
        best_reach = reach;
      }
    }
    if (best < 0) break;  // nothing left to lower that would help
    step_down(static_cast<size_t>(best));
  }
  for (size_t i = 0; i < n; ++i) {
    Member& m = *members_[i];
    if (!m.counts()) continue;
    if (deficit[i] > 0 && m.below() < 0 && m.last.target_ms > 0 && m.predicted_ms(m.level) > m.last.target_ms)
      m.unreachable = true;
    else if (deficit[i] <= 0)
      m.unreachable = false;
  }
  return changed;
}

bool RtmGroup::raise(Member* reporter) {
  for (auto& m : members_)
    if (m->counts()) m->unreachable = false;  // nobody misses
  int best = -1;
  double best_gain = 0;
  for (size_t k = 0; k < members_.size(); ++k) {
    Member& m = *members_[k];
    if (!m.counts() || !raise_fits(m)) {
      m.raise_wanted = 0;
      continue;
    }
    // Counted on its own frames only, so the hold is in its frames, as in lut.
    if (&m == reporter && m.last.new_frame) ++m.raise_wanted;
    const int up = m.raise_to();
    if (m.raise_wanted < m.hold.frames_needed(m.level, up, m.last.window)) continue;
    double gain = (m.levels[up].accuracy - m.levels[m.level].accuracy) / std::max(m.infer_ms(up) - m.infer_ms(m.level), 1e-9);
    if (best < 0 || gain > best_gain) {
      best = static_cast<int>(k);
      best_gain = gain;
    }
  }
  if (best < 0) return false;
  members_[best]->level = members_[best]->raise_to();
  return true;
}

// A raise of `m` (to raise_to()) keeps it and every other member within target
// with the up band (a measured figure needs none: it is what the window will
// show). A probe is not predicted for `m` itself: its frames will tell.
bool RtmGroup::raise_fits(const Member& m) const {
  const int up = m.raise_to();
  if (up < 0 || m.levels[up].accuracy > m.last.accuracy_cap) return false;
  const bool probe = m.by_measure() && m.measured_ms(up) < 0;
  if (!probe && m.predicted_ms(up) > m.budget_ms() * (m.by_measure() ? 1 : 1 - Rtm::kUpBand)) return false;
  double added = std::max(0.0, m.infer_ms(up) - m.infer_ms(m.level));
  for (const auto& o : members_) {
    if (o.get() == &m || !o->counts()) continue;
    if (o->predicted_ms(o->level) + o->coupling * added > o->miss_limit_ms() * (1 - Rtm::kUpBand)) return false;
  }
  return true;
}

}  // namespace dofa
