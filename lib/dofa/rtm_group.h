// RtmGroup: one coordinator shared by the runtime managers of elements with
// the same `group` name, for networks that share a device (the paper's two
// Dynamic-OFA models on one GPU, §4.4; DESIGN.md §5). Process-wide registry by
// name; every call is thread-safe (members run in different streaming
// threads) and short: a mutex around a few loops over members and levels.
//
// Algorithm (deterministic: same reports in the same order, same levels):
//  - Every member reports per frame its prediction (pre_p90 and slowdown s
//    over the frames since the group last changed a level, the lut estimate of
//    rtm.h), its effective target and its accuracy cap. A member misses when
//    pre + s * L(level) > T * (1 - margin); at level 0 only above T itself
//    (lut, too, runs level 0 without alarm until T is missed).
//  - Where load does not scale with the level (measured_levels.h), a member
//    reports what each level's own recent frames measured, and the group
//    judges as lut then does: a measured figure stands for its level; a raise
//    goes to the nearest more accurate level when its figure fits the budget
//    (no up band), else probes the most accurate level not measured lately;
//    and, the device being shared, every member's current level misses only
//    above T itself (the margin guards predictions). A member's moves are
//    judged only where no other member moved: a joint move says nothing of
//    one member's own elasticity.
//  - A round runs when every automatic member has measured `settle` frames
//    (half its window, at least 10) since the last change; members silent for
//    long are not waited for. While a member's own move awaits its judgement
//    (a full window on the level it moved to), no round runs unless someone
//    misses T itself: another move would leave it unjudged, and a half
//    window's p90 on a time-sliced device crosses T * (1 - margin) on noise.
//  - Someone misses -> lower: repeat one-level steps, each time the step with
//    the least accuracy lost per millisecond it saves toward the misses, until
//    the predicted misses are covered. A step saves s_k * (L_k(l) - L_k(l-1)) ms
//    on its own member, and `coupling` times that on every other member (how
//    much of another member's work shows in its own frame time, learned, see
//    below). Steps below a member's accuracy-min come last (latency wins).
//    When the group's last change was a raise, that raise is undone first.
//  - Nobody misses -> raise: one step, of the member with the most accuracy
//    gained per millisecond added among those whose step keeps its own
//    prediction, and every other member's prediction plus coupling * added ms,
//    within T * (1 - margin) * (1 - up band), and has done so on each of its
//    own frames for as long as UpMoveHold asks (one window; longer after load
//    forced it down from that level), exactly as a lone lut member.
//  - Coupling per member starts at 0.5 (between independent devices, 0, and
//    one device fully shared, 1); after each round that changed other members
//    but not it, it moves half-way to what was observed: the change in its own
//    predicted inference time over the others' change in ms, clamped 0..1.
//  - A member at level 0 still missing after every possible step is
//    `unreachable`. A member leaving, joining or choosing its own level (a
//    setting changed) starts a new measurement (epoch) for all.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "level_choice.h"
#include "rtm_level.h"

namespace dofa {

// One member's per-frame report.
struct GroupReport {
  long epoch = 0;         // the epoch its samples were measured in
  int fresh_frames = 0;   // samples behind `prediction` (since that epoch)
  int settle_frames = 1;  // samples it needs before its prediction counts
  FramePrediction prediction;
  // Judged by measure (measured_levels.h): each level's p90 over its own recent
  // frames, -1 where it has none; empty when the prediction holds.
  std::vector<double> measured_ms;
  double target_ms = 0;           // effective target; 0 = none
  double accuracy_cap = kNoLimit;  // energy rule: no level above this accuracy
  double accuracy_min = 0;
  // A move of its own awaits the judgement of its window (measured_levels.h).
  bool judging = false;
  int window = 30;         // its window setting: the hold of a raise is counted in it
  bool new_frame = false;  // a frame was measured since its last report
};

struct GroupVerdict {
  int level = 0;
  long epoch = 0;            // changes whenever a level in the group changed
  bool unreachable = false;  // this member misses even at level 0 with every step taken
  // Another member's level changed when this epoch began: what this member
  // measured before, and a move of its own judged across it, describe another load.
  bool disturbed = false;
  // The round that changed this member's level, once, on its next report: per
  // member "id: from->to p90 P / limit L ms[, by measure][, coupling C]"; the
  // rounds joined by " | then " where several changed it before it reported.
  std::string round;
};

class RtmGroup {
 public:
  // Coupling before anything was observed (see the algorithm above).
  static constexpr double kInitialCoupling = 0.5;
  // A member that has not reported while the others made this many reports
  // each is not waited for (a paused pipeline must not freeze the group).
  static constexpr int kSilentReports = 100;

  // The coordinator of `name`, made on first use; it lives while members hold it.
  static std::shared_ptr<RtmGroup> join(const std::string& name);
  // Members of group `name` now; 0 when there is no such group.
  static int member_count(const std::string& name);

  explicit RtmGroup(std::string name);
  ~RtmGroup();
  const std::string& name() const { return name_; }

  // Returns the member id. `level` is its current level.
  int add_member(const std::vector<RtmLevel>& levels, int level);
  void remove_member(int id);
  // The member chose its level itself: a setting changed, or it went fixed
  // (automatic = false: the coordinator then leaves it alone).
  void set_level(int id, int level, bool automatic);
  GroupVerdict report(int id, const GroupReport& report);

  int size() const;
  long epoch() const;
  double coupling(int id) const;  // for tests and diagnostics

 private:
  struct Member;
  Member* find(int id);
  const Member* find(int id) const;
  bool ready() const;
  bool heard_lately(const Member& m) const;  // not silent for kSilentReports reports of each other member
  void learn_coupling();
  void run_round(Member* reporter);
  bool lower(Member* just_raised);
  bool raise(Member* reporter);
  bool raise_fits(const Member& m) const;
  std::string describe_round(const char* what, const std::vector<int>& before, const std::vector<double>& limit) const;
  // Every member re-measures; all but `mover` (the only one whose level changed) are disturbed.
  void new_epoch(const Member* mover);

  const std::string name_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Member>> members_;  // in joining order: ties go to the earlier
  int next_id_ = 0;
  long epoch_ = 0;
  long long reports_ = 0;
  int last_raise_ = -1;  // member raised by the group's last change, if that was a raise
};

}  // namespace dofa
