// dofa bench rtm: the runtime manager in a real pipeline (appsrc !
// dofaclassify ! fakesink, unpaced, Fashion-MNIST test frames) while a pinned
// `dofa load` thread starts on the CPU of its streaming thread (issue 4's
// benchmarks; the paper's RTM reacts in ~50 frames, 1-2 s):
//   oracle     each level's p90 (pre + infer) at a fixed level, without and with the load
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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "busy_load.h"
#include "cli.h"
#include "error.h"
#include "json_reader.h"
#include "stream_run.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

// The RTM's head-room below the target (rtm.h kMargin) and its dead band for
// moves up (kUpBand): targets are set so that a level fits with both.
constexpr double kMargin = 0.1, kUpBand = 0.05;
constexpr int kSkip = 10;  // first frames of a run left out of percentiles (caches, model start)

struct Levels {
  int n = 0;
  std::vector<double> accuracy, table_p90;
};

std::vector<double> doubles(const GstStructure* s, const char* field) {
  std::vector<double> v;
  const GValue* arr = gst_structure_get_value(s, field);
  if (arr && GST_VALUE_HOLDS_ARRAY(arr))
    for (guint i = 0; i < gst_value_array_get_size(arr); ++i) v.push_back(g_value_get_double(gst_value_array_get_value(arr, i)));
  return v;
}

double p90_total(const std::vector<FrameRecord>& r, size_t from = kSkip, size_t to = SIZE_MAX) {
  std::vector<double> t;
  for (size_t i = from; i < std::min(to, r.size()); ++i) t.push_back(r[i].total_ms());
  return percentile(t, 90);
}

// Frames of [from, to) within the target.
double met_share(const std::vector<FrameRecord>& r, double target, size_t from, size_t to = SIZE_MAX) {
  to = std::min(to, r.size());
  if (from >= to) return 0;
  int met = 0;
  for (size_t i = from; i < to; ++i) met += r[i].total_ms() <= target;
  return double(met) / double(to - from);
}

// Frames after `step` until the first frame within target from which on at
// least 90 % of the next `span` frames are within target too; -1 if never.
int reaction_frames(const std::vector<FrameRecord>& r, double target, size_t step, size_t span = 30) {
  for (size_t i = step; i + span <= r.size(); ++i)
    if (r[i].total_ms() <= target && met_share(r, target, i, i + span) >= 0.9) return int(i - step);
  return -1;
}

int switches(const std::vector<FrameRecord>& r, size_t from, size_t to = SIZE_MAX) {
  int n = 0;
  for (size_t i = std::max<size_t>(from, 1); i < std::min(to, r.size()); ++i) n += r[i].level != r[i - 1].level;
  return n;
}

// The level most frames of [from, end) ran on.
int settled_level(const std::vector<FrameRecord>& r, size_t from) {
  std::map<int, int> count;
  for (size_t i = from; i < r.size(); ++i) ++count[r[i].level];
  int best = -1, most = 0;
  for (auto [level, c] : count)
    if (c > most) best = level, most = c;
  return best;
}

// The most accurate level whose p90 meets the target (-1: none).
int best_fitting(const Levels& lv, const std::vector<double>& p90, double target) {
  int best = -1;
  for (int i = 0; i < lv.n; ++i)
    if (p90[i] <= target && (best < 0 || lv.accuracy[i] > lv.accuracy[best])) best = i;
  return best;
}

struct Bench {
  GreyFrames frames;
  std::string props;  // model, level table, threads
  int cpu = 0;
  int pre = 150, post = 450, oracle_frames = 150;
  Levels levels;

  std::vector<FrameRecord> run_one(const std::string& extra, int n, bool loaded, int load_at = -1) {
    StreamRun run(frames, {{"dofa", props + " " + extra, n, cpu}});
    std::unique_ptr<BusyLoad> load;
    if (loaded) load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu});
    if (load_at >= 0) run.at(0, load_at, [&load, this](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu}); });
    return run.run()[0];
  }

  void read_levels() {
    StreamRun run(frames, {{"dofa", props, 5, cpu}});
    run.run();
    for (const StreamMessage& m : run.messages())
      if (g_str_equal(gst_structure_get_name(m.structure.get()), "dofa-levels-measured")) {
        levels.accuracy = doubles(m.structure.get(), "accuracy");
        levels.table_p90 = doubles(m.structure.get(), "table-p90-ms");
        levels.n = int(levels.accuracy.size());
      }
    if (levels.n < 2) throw Error("bench rtm: the model needs at least 2 levels (it has " + std::to_string(levels.n) + ")");
  }

  std::vector<double> oracle(bool loaded) {
    std::vector<double> p90;
    for (int i = 0; i < levels.n; ++i) p90.push_back(p90_total(run_one("level=" + std::to_string(i), oracle_frames, loaded)));
    return p90;
  }
};

void write_levels(JsonWriter& w, const char* key, const std::vector<double>& v) {
  w.key(key).begin_array();
  for (double x : v) w.value(x);
  w.end_array();
}

}  // namespace

int bench_rtm(const Options& o) {
  Bench b;
  const std::vector<int> online = online_cpus();
  b.cpu = o.has("cpu") ? parse_cpus(o.get("cpu", ""), online).at(0) : online.front();
  b.frames = load_grey_frames(o.get("data", "fmnist:test"), 1000);
  b.props = "threads=1 stats-interval=0";
  if (o.has("model")) b.props += " model=\"" + o.get("model", "") + "\"";
  if (o.has("level-table")) b.props += " level-table=\"" + o.get("level-table", "") + "\"";
  b.oracle_frames = o.get_int("oracle-frames", 150);
  b.post = o.get_int("frames", 450);
  const int window = o.get_int("window", 30);
  if (b.oracle_frames < 2 * kSkip || b.post < 100 || window < 1)
    throw Error("--oracle-frames must be >= 20, --frames >= 100, --window >= 1");
  init_gstreamer();
  std::fprintf(stderr, "bench rtm: streaming thread and load on CPU %d\n", b.cpu);

  b.read_levels();
  const int n = b.levels.n, mid = n / 2;
  std::fprintf(stderr, "bench rtm: oracle (%d levels, %d frames each, without and with the load)\n", n, b.oracle_frames);
  const std::vector<double> idle = b.oracle(false), loaded = b.oracle(true);
  const double target = o.has("target-ms") ? o.get_double("target-ms", 0) : loaded[mid] / (1 - kMargin - kUpBand);
  if (!(target > 0)) throw Error("--target-ms " + o.get("target-ms", "") + ": expected a time > 0");
  const int oracle_best = best_fitting(b.levels, loaded, target);

  JsonWriter w;
  w.begin_object().key("bench").value("rtm").key("cpu").value(b.cpu).key("threads").value(1);
  w.key("levels").value(n);
  write_levels(w, "accuracy", b.levels.accuracy);
  write_levels(w, "table_p90_ms", b.levels.table_p90);
  write_levels(w, "oracle_p90_ms", idle);
  write_levels(w, "oracle_loaded_p90_ms", loaded);
  w.key("target_ms").value(target).key("oracle_best_level").value(oracle_best);
  std::string text;
  char line[256];
  std::snprintf(line, sizeof line, "rtm: CPU %d, 1 thread, %d levels; oracle p90 ms (idle / loaded):\n", b.cpu, n);
  text += line;
  for (int i = 0; i < n; ++i) {
    std::snprintf(line, sizeof line, "  L%d %6.2f %%  %7.3f / %7.3f\n", i, b.levels.accuracy[i], idle[i], loaded[i]);
    text += line;
  }

  // A new target: frames until the level changes (1 = the next frame).
  {
    std::fprintf(stderr, "bench rtm: target step\n");
    const int at = 100;
    const double tight = idle[1] / (1 - kMargin - kUpBand);
    StreamRun run(b.frames, {{"dofa", b.props, at + 50, b.cpu}});
    run.at(0, at, [tight](GstElement* e) { g_object_set(e, "latency-ms", tight, NULL); });
    const auto r = run.run()[0];
    int effect = -1;
    for (size_t i = at; i < r.size(); ++i)
      if (r[i].level != r[at - 1].level) {
        effect = int(i) - at;
        break;
      }
    w.key("target_step").begin_object().key("from_ms").value(0).key("to_ms").value(tight);
    w.key("level_before").value(r[at - 1].level).key("level_after").value(r.back().level);
    w.key("frames_to_effect").value(effect).end_object();
    std::snprintf(line, sizeof line, "target step 0 -> %.3f ms: level %d -> %d, %d frame(s) after the change\n", tight,
                  r[at - 1].level, r.back().level, effect);
    text += line;
  }

  // The load step under one policy; returns its summary line.
  auto load_step = [&](const char* name, const std::string& extra, int win) {
    std::fprintf(stderr, "bench rtm: load step, %s\n", name);
    const auto r = b.run_one("latency-ms=" + std::to_string(target) + " " + extra, b.pre + b.post, false, b.pre);
    const int before = settled_level({r.begin() + b.pre - 50, r.begin() + b.pre}, 0);
    const int react = reaction_frames(r, target, size_t(b.pre));
    const size_t tail = r.size() - std::min<size_t>(300, r.size() - b.pre);
    const int settled = settled_level(r, tail);
    const double met = react < 0 ? 0 : met_share(r, target, size_t(b.pre + react));
    const int sw = switches(r, tail);
    const double per100 = 100.0 * sw / double(r.size() - tail);
    w.key(name).begin_object().key("level_before").value(before).key("reaction_frames").value(react);
    w.key("met_share_after").value(met).key("settled_level").value(settled);
    w.key("level_gap_to_oracle").value(oracle_best - settled);
    w.key("switches_per_100_frames").value(per100);
    if (win > 0) {
      const int stepped = std::max(0, before - settled);
      w.key("window").value(win).key("levels_stepped").value(stepped).key("reaction_bound_frames").value((stepped + 1) * win);
    }
    w.end_object();
    std::snprintf(line, sizeof line,
                  "%-8s target %.3f ms: level %d -> %d (oracle best %d), back under target after %d frames, "
                  "%.1f %% of later frames within target, %.2f switches / 100 frames\n",
                  name, target, before, settled, oracle_best, react, 100 * met, per100);
    text += line;
  };
  load_step("lut", "", 0);
  load_step("reactive", "policy=reactive window=" + std::to_string(window), window);

  // Stability at constant load, the target near a level's loaded p90.
  w.key("stability").begin_array();
  for (auto [what, t] : {std::pair<const char*, double>{"p90*1.03", loaded[mid] * 1.03},
                         {"p90/(1-margin)", loaded[mid] / (1 - kMargin)}}) {
    std::fprintf(stderr, "bench rtm: stability, target %s\n", what);
    const auto r = b.run_one("latency-ms=" + std::to_string(t), 100 + b.post, true);
    const int sw = switches(r, 100);
    const double per100 = 100.0 * sw / double(r.size() - 100);
    w.begin_object().key("target").value(what).key("target_ms").value(t).key("switches").value(sw);
    w.key("frames").value(int(r.size() - 100)).key("switches_per_100_frames").value(per100).end_object();
    std::snprintf(line, sizeof line, "stability target %s = %.3f ms: %d switches in %d frames (%.2f / 100)\n", what, t, sw,
                  int(r.size() - 100), per100);
    text += line;
  }
  w.end_array();

  // Two elements in one group (the paper's Fig. 8), both threads and the load on one CPU.
  {
    std::fprintf(stderr, "bench rtm: group oracle (%d pairs)\n", n * n);
    const int pair_frames = std::max(2 * kSkip + 20, b.oracle_frames / 2);
    std::vector<std::vector<double>> pa(n, std::vector<double>(n)), pb = pa;
    {
      BusyLoad load(1, {b.cpu});
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          StreamRun run(b.frames, {{"a", b.props + " level=" + std::to_string(i), pair_frames, b.cpu},
                                   {"b", b.props + " level=" + std::to_string(j), pair_frames, b.cpu}});
          const auto r = run.run();
          pa[i][j] = p90_total(r[0]);
          pb[i][j] = p90_total(r[1]);
        }
    }
    const int sa = std::max(0, mid - 1), sb = std::min(n - 1, mid + 1);
    const double ta = pa[sa][sb] / (1 - kMargin - kUpBand), tb = pb[sa][sb] / (1 - kMargin - kUpBand);
    int best_a = -1, best_b = -1;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (pa[i][j] <= ta && pb[i][j] <= tb &&
            (best_a < 0 || b.levels.accuracy[i] + b.levels.accuracy[j] > b.levels.accuracy[best_a] + b.levels.accuracy[best_b]))
          best_a = i, best_b = j;
    std::fprintf(stderr, "bench rtm: group load step\n");
    StreamRun run(b.frames, {{"a", b.props + " group=bench latency-ms=" + std::to_string(ta), b.pre + b.post, b.cpu},
                             {"b", b.props + " group=bench latency-ms=" + std::to_string(tb), b.pre + b.post, b.cpu}});
    std::unique_ptr<BusyLoad> load;
    run.at(0, b.pre, [&load, &b](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{b.cpu}); });
    const auto r = run.run();
    load.reset();
    w.key("group").begin_object().key("pair_frames").value(pair_frames);
    w.key("best_pair").begin_array().value(best_a).value(best_b).end_array();
    w.key("members").begin_array();
    const double targets[2] = {ta, tb};
    const int best[2] = {best_a, best_b};
    for (int k = 0; k < 2; ++k) {
      // The load started when member a reached frame `pre`: find b's frame at that time.
      size_t step = b.pre;
      if (k == 1) {
        step = 0;
        while (step < r[1].size() && r[1][step].t_ms < r[0][b.pre].t_ms) ++step;
      }
      const int react = reaction_frames(r[k], targets[k], step);
      const size_t tail = r[k].size() - std::min<size_t>(300, r[k].size() - step);
      const int settled = settled_level(r[k], tail);
      const double met = react < 0 ? 0 : met_share(r[k], targets[k], step + react);
      w.begin_object().key("target_ms").value(targets[k]).key("reaction_frames").value(react);
      w.key("met_share_after").value(met).key("settled_level").value(settled).key("best_level").value(best[k]);
      w.key("level_gap_to_best").value(best[k] - settled).end_object();
      std::snprintf(line, sizeof line,
                    "group %c  target %.3f ms: settles on level %d (best pair's %d), back under target after %d "
                    "frames, %.1f %% of later frames within target\n",
                    'a' + k, targets[k], settled, best[k], react, 100 * met);
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
