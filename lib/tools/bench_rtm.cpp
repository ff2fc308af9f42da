// dofa bench rtm: the runtime manager in a real pipeline (appsrc !
// dofaclassify ! fakesink, unpaced, Fashion-MNIST test frames) while a pinned
// `dofa load` thread starts on the CPU of its streaming thread (the paper's
// RTM reacts in ~50 frames, 1-2 s):
//   oracle     each level's p90 (pre + infer) at a fixed level, without and with the load,
//              the highest of kOracleRounds rounds: a level meets a target when it met it in
//              every round
//   target     frames until a new latency-ms changes the level
//   lut        reaction_frames after the load step, share of later frames within
//              target, the level it settles on against the oracle's best, switches
//   stability  level changes per 100 frames at constant load, the target within
//              5 % of a level's p90 and at the RTM's margin from it
//   reactive   the paper's policy: reaction within (levels stepped + 1) windows
//   group      two elements in one group with different targets sharing the CPU:
//              each against the pair brute force over the oracle finds best
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "busy_load.h"
#include "cli.h"
#include "error.h"
#include "frame_stats.h"
#include "json_reader.h"
#include "rtm.h"
#include "stream_run.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

// The most accurate level whose p90 meets the target (-1: none).
int best_fitting(const LevelInfo& lv, const std::vector<double>& p90, double target) {
  int best = -1;
  for (int i = 0; i < lv.size(); ++i)
    if (p90[i] <= target && (best < 0 || lv.accuracy[i] > lv.accuracy[best])) best = i;
  return best;
}

// How many levels whose p90 meets the target are more accurate than `level`:
// "at most one below the best level that meets it" by accuracy, since the
// levels' test accuracies need not rise with their index.
int better_fitting(const LevelInfo& lv, const std::vector<double>& p90, double target, int level) {
  int better = 0;
  for (int i = 0; i < lv.size(); ++i) better += p90[i] <= target && lv.accuracy[i] > lv.accuracy[level];
  return better;
}

void write_levels(JsonWriter& w, const char* key, const std::vector<double>& v) {
  w.key(key).begin_array();
  for (double x : v) w.value(x);
  w.end_array();
}

}  // namespace

// One chain on `cpu`, n frames, a pinned busy thread from frame `load_at` on (-1: never; 0: from the start).
std::vector<FrameRecord> run_one(const GreyFrames& frames, const std::string& props, int cpu, int n, int load_at) {
  StreamRun run(frames, {{"dofa", props, n, cpu}});
  std::unique_ptr<BusyLoad> load;
  if (load_at >= 0) run.at(0, load_at, [&load, cpu](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu}); });
  return run.run()[0];
}

int bench_rtm(const Options& o) {
  const std::vector<int> online = online_cpus();
  const int cpu = o.has("cpu") ? parse_cpus(o.get("cpu", ""), online, "--cpu").at(0) : online.front();
  const int oracle_frames = o.get_int("oracle-frames", 150), post = o.get_int("frames", 450), pre = 150;
  const int window = o.get_int("window", 30);
  if (oracle_frames < int(kWarmupFrames) + 10 || post < 100 || window < 1)
    throw Error("--oracle-frames must be >= 20, --frames >= 100, --window >= 1");
  std::string props = "threads=1 stats-interval=0";
  if (o.has("model")) props += " model=\"" + o.get("model", "") + "\"";
  if (o.has("level-table")) props += " level-table=\"" + o.get("level-table", "") + "\"";
  const GreyFrames frames = load_grey_frames(o.get("data", "fmnist:test"), 1000);
  init_gstreamer();
  std::fprintf(stderr, "bench rtm: streaming thread and load on CPU %d\n", cpu);

  const LevelInfo levels = level_info(frames, props, cpu);
  const int n = levels.size(), mid = n / 2;
  std::fprintf(stderr, "bench rtm: oracle (%d levels, %d rounds of %d frames, without and with the load)\n", n,
               kOracleRounds, oracle_frames);
  const std::vector<double> idle = level_p90s(frames, props, cpu, n, oracle_frames, false, kOracleRounds);
  const std::vector<double> loaded = level_p90s(frames, props, cpu, n, oracle_frames, true, kOracleRounds);
  // The target: the loaded p90 of the most accurate level that runs between the load's time slices
  // (its loaded p90 within twice its idle one) with the RTM's margins, so that the load step forces
  // the levels above it down; the middle level's where none or every level does.
  const int between = level_between_slices(levels, idle, loaded);
  const int target_level = between >= 0 && between < n - 1 ? between : mid;
  const double target = o.has("target-ms") ? o.get_double("target-ms", 0) : loaded[target_level] / rtm_fit_fraction();
  if (!(target > 0)) throw Error("--target-ms " + o.get("target-ms", "") + ": expected a time > 0");
  const int oracle_best = best_fitting(levels, loaded, target);

  JsonWriter w;
  w.begin_object().key("bench").value("rtm").key("cpu").value(cpu).key("threads").value(1).key("levels").value(n);
  write_levels(w, "accuracy", levels.accuracy);
  write_levels(w, "table_p90_ms", levels.table_p90_ms);
  write_levels(w, "measured_at_load_ms", levels.measured_ms);  // what the RTM takes for L_i
  w.key("oracle_rounds").value(kOracleRounds);
  write_levels(w, "oracle_p90_ms", idle);
  write_levels(w, "oracle_loaded_p90_ms", loaded);
  w.key("target_ms").value(target).key("oracle_best_level").value(oracle_best);
  std::string text;
  char line[320];
  std::snprintf(line, sizeof line,
                "rtm: CPU %d, 1 thread, %d levels; oracle p90 ms (idle / loaded), measured at load (the RTM's L):\n",
                cpu, n);
  text += line;
  for (int i = 0; i < n; ++i) {
    std::snprintf(line, sizeof line, "  L%d %6.2f %%  %7.3f / %7.3f  %7.3f\n", i, levels.accuracy[i], idle[i],
                  loaded[i], levels.measured_ms[i]);
    text += line;
  }

  // A new target, set just before frame `at` enters the element: frames until the level changes.
  {
    std::fprintf(stderr, "bench rtm: target step\n");
    const int at = 100;
    // Level 0 fits it with the RTM's margins; the top level, at well over its p90, does not (p90s of a
    // noisy machine can put level 0 near the top level).
    const double tight = std::min(idle[0] / rtm_fit_fraction(), 0.6 * idle[n - 1]);
    StreamRun run(frames, {{"dofa", props, at + 50, cpu}});
    run.at(0, at, [tight](GstElement* e) { g_object_set(e, "latency-ms", tight, NULL); });
    const auto r = run.run()[0];
    const int effect = frames_to_level_change(r, at);
    w.key("target_step").begin_object().key("from_ms").value(0).key("to_ms").value(tight);
    w.key("level_before").value(r[at - 1].level).key("level_after").value(r.back().level);
    w.key("frames_to_effect").value(effect).end_object();
    std::snprintf(line, sizeof line,
                  "target step: latency-ms 0 -> %.3f before frame %d: level %d -> %d, on frame %d (%d after the change)\n",
                  tight, at, r[at - 1].level, r.back().level, at + effect, effect);
    text += line;
  }

  // The load step under one policy.
  auto load_step = [&](const char* name, const std::string& extra, int win) {
    std::fprintf(stderr, "bench rtm: load step, %s\n", name);
    const auto r = run_one(frames, props + " latency-ms=" + std::to_string(target) + " " + extra, cpu, pre + post, pre);
    const int before = settled_level({r, size_t(pre - 50), size_t(pre)});
    const int react = reaction_frames(r, pre);
    const FrameSpan tail{r, r.size() - std::min<size_t>(300, r.size() - pre)};
    const int settled = settled_level(tail);
    const double met = react < 0 ? 0 : met_share({r, size_t(pre + react)});
    const double per100 = 100.0 * level_changes(tail) / double(tail.size());
    w.key(name).begin_object().key("level_before").value(before).key("reaction_frames").value(react);
    w.key("met_share_after").value(met).key("settled_level").value(settled);
    const int better = better_fitting(levels, loaded, target, settled);
    w.key("level_gap_to_oracle").value(oracle_best - settled);
    w.key("more_accurate_meeting_target").value(better);
    w.key("switches_per_100_frames").value(per100);
    if (win > 0) {
      const int stepped = std::max(0, before - settled);
      w.key("window").value(win).key("levels_stepped").value(stepped).key("reaction_bound_frames").value((stepped + 1) * win);
    }
    w.end_object();
    std::snprintf(line, sizeof line,
                  "%-8s target %.3f ms: level %d -> %d (oracle's best %d; %d more accurate levels meet the target), "
                  "back under target after %d frames, %.1f %% of later frames within target, %.2f level changes / "
                  "100 frames\n",
                  name, target, before, settled, oracle_best, better, react, 100 * met, per100);
    text += line;
  };
  load_step("lut", "", 0);
  load_step("reactive", "policy=reactive window=" + std::to_string(window), window);

  // Stability at constant load, the target near a level's loaded p90.
  w.key("stability").begin_array();
  for (auto [what, t] : {std::pair<const char*, double>{"p90*1.03", loaded[mid] * 1.03},
                         {"p90/(1-margin)", loaded[mid] / (1 - Rtm::kMargin)}}) {
    std::fprintf(stderr, "bench rtm: stability, target %s\n", what);
    const auto r = run_one(frames, props + " latency-ms=" + std::to_string(t), cpu, 100 + post, 0);
    const FrameSpan settled{r, 100};
    const int sw = level_changes(settled);
    const double per100 = 100.0 * sw / double(settled.size());
    w.begin_object().key("target").value(what).key("target_ms").value(t).key("switches").value(sw);
    w.key("frames").value(int(settled.size())).key("switches_per_100_frames").value(per100).end_object();
    std::snprintf(line, sizeof line, "stability target %s = %.3f ms: %d level changes in %d frames (%.2f / 100)\n",
                  what, t, sw, int(settled.size()), per100);
    text += line;
  }
  w.end_array();

  // Two elements in one group (the paper's Fig. 8), both threads and the load on one CPU.
  {
    std::fprintf(stderr, "bench rtm: group oracle (%d pairs, %d rounds)\n", n * n, kOracleRounds);
    // Rounds over all pairs, each pair's p90 the highest of its rounds, as for single levels: with
    // frames well under the busy thread's time slice a pair's p90 is either about one wait or two,
    // and one round of a pair near the edge shows either. Only frames while both run count: the
    // faster level gets more frames (by the ratio of the levels' latencies), and what either ran
    // after the other had finished (with the load alone, one wait where the pair has two) is left out.
    const int pair_frames = std::max(int(kWarmupFrames) + 30, oracle_frames / 2);
    std::vector<std::vector<double>> pa(n, std::vector<double>(n)), pb = pa;
    {
      BusyLoad load(1, {cpu});
      for (int round = 0; round < kOracleRounds; ++round)
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) {
            const double slow = std::max(levels.measured_ms[i], levels.measured_ms[j]);
            auto frames_at = [&](int l) { return int(std::ceil(pair_frames * slow / levels.measured_ms[l])); };
            StreamRun run(frames, {{"a", props + " level=" + std::to_string(i), frames_at(i), cpu},
                                   {"b", props + " level=" + std::to_string(j), frames_at(j), cpu}});
            const auto r = run.run();
            const double both_ran_ms = std::min(r[0].back().t_ms, r[1].back().t_ms);
            double p90[2];
            for (int k = 0; k < 2; ++k) {
              std::vector<FrameRecord> kept;
              for (size_t f = kWarmupFrames; f < r[k].size() && r[k][f].t_ms <= both_ran_ms; ++f) kept.push_back(r[k][f]);
              p90[k] = p90_total_ms({kept});
            }
            pa[i][j] = std::max(pa[i][j], p90[0]);
            pb[i][j] = std::max(pb[i][j], p90[1]);
          }
    }
    // The targets, as for one element: the loaded p90s, with the RTM's margins, of the most accurate
    // pair that runs between the load's time slices (each member's loaded p90 within twice its
    // level's idle one), so that the load step forces the pairs above it down; a pair around the
    // middle where none does, or where every pair fits. The two targets differ where the levels or
    // the members' waits do.
    auto best_pair = [&](double ta, double tb) {
      std::pair<int, int> best{-1, -1};
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          if (pa[i][j] <= ta && pb[i][j] <= tb &&
              (best.first < 0 || levels.accuracy[i] + levels.accuracy[j] >
                                     levels.accuracy[best.first] + levels.accuracy[best.second]))
            best = {i, j};
      return best;
    };
    auto between_slices = [&](int i, int j) { return pa[i][j] <= 2 * idle[i] && pb[i][j] <= 2 * idle[j]; };
    int sa = -1, sb = -1;
    for (int i = 0; i < n; ++i)
      for (int j = i; j < n; ++j)
        if (between_slices(i, j) && (sa < 0 || levels.accuracy[i] + levels.accuracy[j] >
                                                   levels.accuracy[sa] + levels.accuracy[sb]))
          sa = i, sb = j;
    if (sa < 0 || best_pair(pa[sa][sb] / rtm_fit_fraction(), pb[sa][sb] / rtm_fit_fraction()) ==
                      std::make_pair(n - 1, n - 1))
      sa = std::max(0, mid - 1), sb = std::min(n - 1, mid + 1);
    const double ta = pa[sa][sb] / rtm_fit_fraction(), tb = pb[sa][sb] / rtm_fit_fraction();
    const auto [best_a, best_b] = best_pair(ta, tb);
    std::fprintf(stderr, "bench rtm: group load step\n");
    StreamRun run(frames, {{"a", props + " group=bench latency-ms=" + std::to_string(ta), pre + post, cpu},
                           {"b", props + " group=bench latency-ms=" + std::to_string(tb), pre + post, cpu}});
    std::unique_ptr<BusyLoad> load;
    run.at(0, pre, [&load, cpu](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu}); });
    const auto r = run.run();
    load.reset();
    w.key("group").begin_object().key("pair_frames").value(pair_frames);
    w.key("target_pair").begin_array().value(sa).value(sb).end_array();
    for (const auto& [key, m] : {std::make_pair("oracle_loaded_p90_ms_a", &pa), std::make_pair("oracle_loaded_p90_ms_b", &pb)}) {
      w.key(key).begin_array();  // [level of a][level of b]
      for (const auto& row : *m) {
        w.begin_array();
        for (double x : row) w.value(x);
        w.end_array();
      }
      w.end_array();
    }
    w.key("best_pair").begin_array().value(best_a).value(best_b).end_array();
    w.key("members").begin_array();
    std::snprintf(line, sizeof line, "group targets from pair %d/%d's loaded p90s; best pair %d/%d\n", sa, sb, best_a,
                  best_b);
    text += line;
    const int best[2] = {best_a, best_b};
    for (int k = 0; k < 2; ++k) {
      // The load started when member a reached frame `pre`: b's first frame after that.
      const size_t step = k == 0 ? size_t(pre) : first_frame_at(r[1], r[0][pre].t_ms);
      const int react = reaction_frames(r[k], step);
      const FrameSpan tail{r[k], r[k].size() - std::min<size_t>(300, r[k].size() - step)};
      const int settled = settled_level(tail);
      const double met = react < 0 ? 0 : met_share({r[k], step + react});
      const double t = k ? tb : ta;
      w.begin_object().key("target_ms").value(t).key("reaction_frames").value(react);
      w.key("met_share_after").value(met).key("settled_level").value(settled).key("best_level").value(best[k]);
      w.key("level_gap_to_best").value(best[k] - settled);
      if (best[1 - k] >= 0) {  // this member's p90 at each level, the other at its best pair's level
        std::vector<double> mine(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) mine[size_t(i)] = k ? pb[best_a][i] : pa[i][best_b];
        w.key("more_accurate_meeting_target").value(better_fitting(levels, mine, t, settled));
      }
      w.end_object();
      std::snprintf(line, sizeof line,
                    "group %c  target %.3f ms: settles on level %d (best pair's %d), back under target after %d "
                    "frames, %.1f %% of later frames within target\n",
                    'a' + k, t, settled, best[k], react, 100 * met);
      text += line;
    }
    w.end_array().end_object();
  }
  w.key("system").raw(system_info_json(system_info()));
  w.end_object();
  std::fputs((o.flag("json") ? w.str() : text).c_str(), stdout);
  return 0;
}

}  // namespace dofa::cli
