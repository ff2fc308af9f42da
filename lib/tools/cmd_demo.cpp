// dofa demo: the paper's runtime experiments (Figs. 6-8) on the built-in model
// with real pipelines: Fashion-MNIST test images as video frames through
// appsrc ! dofaclassify ! appsink, unpaced, the streaming threads pinned to
// one CPU.
//   target  latency-ms follows a GstController timeline: loose -> tight -> medium
//   load    a `dofa load` thread on the same CPU starts at 1/3 and stops at 2/3
//   group   two elements in one group with different targets share the CPU;
//           the load starts half-way
//   fixed   one level, no target: top-1 through the pipeline (equals `dofa eval`)
// After each scenario: a summary per phase and a timeline plot (gnuplot PNG).
#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "busy_load.h"
#include "cli.h"
#include "error.h"
#include "frame_stats.h"
#include "gnuplot.h"
#include "json_reader.h"
#include "stream_run.h"

namespace dofa::cli {

namespace {

// A level whose p90 is p fits a target of p / kFit (the RTM's head-room and dead band).
const double kFit = rtm_fit_fraction();

struct Phase {
  std::string name;
  int from;  // first frame (of the chain it belongs to)
};

struct Scenario {
  std::string name, title;
  std::vector<std::string> chains;                 // element names
  std::vector<std::vector<FrameRecord>> records;   // per chain
  std::vector<std::vector<Phase>> phases;          // per chain, in order
  std::vector<std::pair<int, int>> load;           // frames of chain 0 with the load on [from, to)
};

struct Demo {
  GreyFrames frames;
  std::string props;
  int cpu = 0, n = 900;  // frames per scenario (per element)
  LevelInfo levels;
  std::vector<double> idle, loaded;  // p90 per level, without and with the load
  std::string out;

  // Progress on stderr, from the streaming threads.
  std::function<void(int, const FrameRecord&)> progress(const std::string& name, int total) {
    return [name, total](int chain, const FrameRecord& r) {
      if (chain == 0 && (r.index % 50 == 0 || r.index + 1 == total))
        std::fprintf(stderr, "\r  %-6s frame %4d/%d  level %d  %6.3f ms  target %6.3f ms ", name.c_str(), r.index + 1,
                     total, r.level, r.total_ms(), r.target_ms);
    };
  }
};

// A gnuplot single-quoted string: ' doubled.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

Scenario run_target(Demo& d) {
  // From each level's p90 measured just before, with the RTM's head-room:
  // loose fits every level, tight only the fastest, medium the middle ones.
  const size_t top = d.idle.size() - 1;
  // p90s of 60 frames are noisy, and this kind of machine drifts: tight stays
  // well below the top level's p90 and medium well above tight.
  const double loose = 3 * d.idle[top], tight = std::min(d.idle[0] / kFit, 0.6 * d.idle[top]);
  const double medium = std::max(d.idle[top / 2 + 1] / kFit, 1.5 * tight);
  const int third = d.n / 3;
  StreamRun run(d.frames, {{"dofa", d.props, d.n, d.cpu}});
  // The timeline, in stream time (frame i at i/30 s): steps, no interpolation.
  GstControlSource* cs = gst_interpolation_control_source_new();
  g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  GstTimedValueControlSource* tv = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
  gst_timed_value_control_source_set(tv, 0, loose);
  gst_timed_value_control_source_set(tv, GstClockTime(third) * GST_SECOND / 30, tight);
  gst_timed_value_control_source_set(tv, GstClockTime(2 * third) * GST_SECOND / 30, medium);
  gst_object_add_control_binding(GST_OBJECT(run.element(0)),
                                 gst_direct_control_binding_new_absolute(GST_OBJECT(run.element(0)), "latency-ms", cs));
  gst_object_unref(cs);
  run.on_frame(d.progress("target", d.n));
  Scenario s{"target", "latency-ms follows a timeline: " + fmt("%.2f", loose) + " -> " + fmt("%.2f", tight) + " -> " +
                           fmt("%.2f", medium) + " ms, nothing else running",
             {"dofa"}, run.run(), {{{"loose", 0}, {"tight", third}, {"medium", 2 * third}}}, {}};
  return s;
}

Scenario run_load(Demo& d) {
  // Below the top level's p90 under the load, well above it without (both measured just before):
  // a sub-millisecond frame's window p90 wanders by half of itself on an idle shared machine.
  const double target = std::min(0.8 * d.loaded.back(), 2.0 * d.idle.back());
  const int third = d.n / 3;
  StreamRun run(d.frames, {{"dofa", d.props + " latency-ms=" + std::to_string(target), d.n, d.cpu}});
  std::unique_ptr<BusyLoad> load;
  const int cpu = d.cpu;
  run.at(0, third, [&load, cpu](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu}); });
  run.at(0, 2 * third, [&load](GstElement*) { load.reset(); });
  run.on_frame(d.progress("load", d.n));
  Scenario s{"load", "latency-ms " + fmt("%.2f", target) + " ms; a busy thread on CPU " + std::to_string(cpu) +
                         " from 1/3 to 2/3",
             {"dofa"}, run.run(), {{{"idle", 0}, {"loaded", third}, {"idle again", 2 * third}}}, {{third, 2 * third}}};
  return s;
}

// The larger p90 of two elements at one level with the busy thread, all on `cpu`: the
// highest of kOracleRounds rounds, as for the levels' p90s.
double pair_loaded_p90(const Demo& d, int level) {
  BusyLoad load(1, {d.cpu});
  const std::string props = d.props + " level=" + std::to_string(level);
  double p90 = 0;
  for (int round = 0; round < kOracleRounds; ++round) {
    StreamRun run(d.frames, {{"a", props, 100, d.cpu}, {"b", props, 100, d.cpu}});
    const auto r = run.run();
    p90 = std::max({p90, p90_total_ms({r[0], kWarmupFrames}), p90_total_ms({r[1], kWarmupFrames})});
  }
  return p90;
}

Scenario run_group(Demo& d) {
  // Targets the pair can meet under the load, measured just before: a's with both at the
  // most accurate level that runs between the load's time slices (level 0 where none or
  // every level does), b's with both at the top level (at least 20 % looser).
  const int top = d.levels.size() - 1;
  const int b = level_between_slices(d.levels, d.idle, d.loaded);
  const int between = b >= 0 && b < top ? b : 0;
  const double ta = pair_loaded_p90(d, between) / kFit;
  const double tb = std::max(1.2 * ta, pair_loaded_p90(d, top) / kFit);
  const int half = d.n / 2;
  StreamRun run(d.frames, {{"a", d.props + " group=demo latency-ms=" + std::to_string(ta), d.n, d.cpu},
                           {"b", d.props + " group=demo latency-ms=" + std::to_string(tb), d.n, d.cpu}});
  std::unique_ptr<BusyLoad> load;
  const int cpu = d.cpu;
  run.at(0, half, [&load, cpu](GstElement*) { load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu}); });
  run.on_frame(d.progress("group", d.n));
  auto records = run.run();
  load.reset();
  // b's load step: its first frame after a's frame `half` left.
  const int step_b = int(first_frame_at(records[1], records[0][size_t(half)].t_ms));
  Scenario s{"group", "two elements in one group on CPU " + std::to_string(cpu) + ", latency-ms " + fmt("%.2f", ta) +
                          " and " + fmt("%.2f", tb) + " ms; a busy thread from half-way",
             {"a", "b"}, records, {{{"shared", 0}, {"loaded", half}}, {{"shared", 0}, {"loaded", step_b}}}, {{half, d.n}}};
  return s;
}

Scenario run_fixed(Demo& d, int level) {
  StreamRun run(d.frames, {{"dofa", d.props + " level=" + std::to_string(level), d.n, d.cpu}});
  run.on_frame(d.progress("fixed", d.n));
  return Scenario{"fixed", "level " + std::to_string(level) + ", no target", {"dofa"}, run.run(), {{{"fixed", 0}}}, {}};
}

// The timeline: latency per frame coloured by level, the target dashed,
// the level's expected top-1 on the second axis; one panel per element.
std::string plot(const Demo& d, const Scenario& s) {
  const std::string png = d.out + "/demo-" + s.name + ".png";
  const int nl = d.levels.size();
  std::string gp;
  double ymax = 0;
  for (size_t c = 0; c < s.chains.size(); ++c) {
    gp += "$" + s.chains[c] + " << EOD\n";
    for (const FrameRecord& r : s.records[c]) {
      gp += std::to_string(r.index) + " " + fmt("%.4f", r.total_ms()) + " " + std::to_string(r.level) + " " +
            fmt("%.4f", r.target_ms) + " " + fmt("%.2f", r.expected_accuracy) + "\n";
      ymax = std::max(ymax, r.target_ms);
    }
    gp += "EOD\n";
  }
  if (ymax <= 0) ymax = p90_total_ms({s.records[0]});  // no target: the frames' own scale
  // Tall enough for the frames that waited out the load's slices (not for a rare stall).
  std::vector<double> ms;
  for (const auto& chain : s.records)
    for (const FrameRecord& r : chain) ms.push_back(r.total_ms());
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) ymax = std::max(ymax, ms[ms.size() * 995 / 1000] / 2);
  const int height = 420 * int(s.chains.size()) + 60;
  gp += "set terminal png size 1200," + std::to_string(height) + " font ',10'\nset output '" + png + "'\n";
  gp += "set multiplot layout " + std::to_string(s.chains.size()) + ",1 title " + quoted("dofa demo: " + s.title) + "\n";
  gp += "set xlabel 'frame'\nset ylabel 'pre + infer (ms)'\nset y2label 'expected top-1 of the level (%)'\n"
        "set ytics nomirror\nset y2tics\nset grid\nset key top left opaque\n"
        "set yrange [0:" + fmt("%.3f", ymax * 2.2) + "]\n"
        "set y2range [" + fmt("%.1f", *std::min_element(d.levels.accuracy.begin(), d.levels.accuracy.end()) - 3) +
        ":" + fmt("%.1f", *std::max_element(d.levels.accuracy.begin(), d.levels.accuracy.end()) + 1) + "]\n"
        "set cblabel 'level'\nset cbrange [-0.5:" + std::to_string(nl) + "-0.5]\nset cbtics 1\n"
        "set palette maxcolors " + std::to_string(nl) + " defined (0 '#d62728', 1 '#ff7f0e', 2 '#bcbd22', 3 '#2ca02c', 4 '#17becf', 5 '#1f77b4', 6 '#9467bd')\n";
  const int dash = std::max<int>(2, int(s.records[0].size()) / 120);  // frames per dash
  for (size_t c = 0; c < s.chains.size(); ++c) {
    gp += "unset object\n";
    for (auto [from, to] : s.load) {
      // The load window in this chain's frames (chain 0 defines it; others by time).
      int f = from, t = to;
      if (c > 0) {
        const double t0 = s.records[0][size_t(std::min<int>(from, int(s.records[0].size()) - 1))].t_ms;
        const double t1 = s.records[0][size_t(std::min<int>(to, int(s.records[0].size())) - 1)].t_ms;
        f = t = 0;
        for (const FrameRecord& r : s.records[c]) {
          if (r.t_ms < t0) f = r.index + 1;
          if (r.t_ms <= t1) t = r.index + 1;
        }
        // A load until chain 0's end stays on until every chain has ended.
        if (to >= int(s.records[0].size())) t = int(s.records[c].size());
      }
      gp += "set object rect from " + std::to_string(f) + ", graph 0 to " + std::to_string(t) +
            ", graph 1 fc rgb '#e8e8e8' fs solid noborder behind\n";
    }
    gp += "set title '" + (s.chains.size() > 1 ? "element " + s.chains[c] : std::string("dofaclassify")) +
          (s.load.empty() ? "" : " (grey: dofa load running)") + "'\n";
    gp += "plot $" + s.chains[c] + " u 1:2:3 w p pt 7 ps 0.4 lc palette t 'frame latency', "
          // Dashed by hand: gnuplot-nox's png terminal draws no dash patterns.
          "$" + s.chains[c] + " u 1:($4 > 0 && int($1 / " + std::to_string(dash) + ") % 2 == 0 ? $4 : 1/0) w l lw 2 "
          "lc rgb 'black' t 'latency-ms', "
          "$" + s.chains[c] + " u 1:5 axes x1y2 w steps lw 1.5 lc rgb '#7f7f7f' t 'expected top-1 (right axis)'\n";
  }
  gp += "unset multiplot\n";
  run_gnuplot(gp, "demo");
  return png;
}

// Per phase: top-1, share within target, level changes, the level most
// frames ran on; after each step, frames until the level changed and until
// frames were back under target.
std::string summarise(const Scenario& s, JsonWriter& w, const std::string& png) {
  std::string text = "scenario " + s.name + ": " + s.title + "\n";
  w.begin_object().key("scenario").value(s.name).key("title").value(s.title).key("plot").value(png);
  w.key("elements").begin_array();
  for (size_t c = 0; c < s.chains.size(); ++c) {
    const auto& r = s.records[c];
    w.begin_object().key("element").value(s.chains[c]).key("frames").value(int(r.size()));
    w.key("top1").value(top1({r})).key("phases").begin_array();
    for (size_t p = 0; p < s.phases[c].size(); ++p) {
      const Phase& ph = s.phases[c][p];
      const size_t to = p + 1 < s.phases[c].size() ? size_t(s.phases[c][p + 1].from) : r.size();
      const FrameSpan span{r, size_t(ph.from), to};
      const int change = p ? frames_to_level_change(r, size_t(ph.from)) : -1;
      const int back = p ? reaction_frames(r, size_t(ph.from)) : -1;
      w.begin_object().key("phase").value(ph.name).key("from").value(ph.from).key("frames").value(int(span.size()));
      w.key("top1").value(top1(span)).key("met_share").value(met_share(span)).key("level_changes").value(level_changes(span));
      w.key("level").value(settled_level(span)).key("p90_ms").value(p90_total_ms(span));
      w.key("target_ms").value(span.size() ? r[span.begin()].target_ms : 0.0);
      if (p) {
        w.key("frames_to_level_change").value(change).key("frames_back_under_target").value(back);
        // The level the step's first change went to (-1: none), the direction of the reaction.
        w.key("level_after_change").value(change >= 0 ? r[size_t(ph.from + change)].level : -1);
        // Frames until the level first went below the one the step found (-1: never), which a
        // move up the idle phase had already earned may precede.
        w.key("frames_to_level_drop").value(frames_to_level_drop(r, size_t(ph.from)));
      }
      w.end_object();
      char line[300];
      std::snprintf(line, sizeof line,
                    "  %s%-10s frames %4d-%-4d level %d  top-1 %5.1f %%  within target %5.1f %%  p90 %6.3f ms  "
                    "%d level change(s)",
                    s.chains.size() > 1 ? (s.chains[c] + " ").c_str() : "", ph.name.c_str(), ph.from, int(to) - 1,
                    settled_level(span), top1(span), 100 * met_share(span), p90_total_ms(span), level_changes(span));
      text += line;
      if (p) {
        text += change < 0 ? "; no level change after the step" : "; after the step the level changed on frame +" + std::to_string(change);
        text += back < 0 ? ", never back under target" : ", back under target after " + std::to_string(back) + " frames";
      }
      text += "\n";
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return text;
}

}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  Options o(args, {"scenario", "frames", "out", "cpu", "model", "level-table", "data", "level"}, {"json"});
  if (o.help()) {
    std::printf(
        "usage: dofa demo [--scenario all|target|load|group|fixed] [--frames N] [--out DIR] [--json]\n"
        "  The paper's runtime experiments (Figs. 6-8) with real pipelines: Fashion-MNIST test images\n"
        "  as video frames through appsrc ! dofaclassify ! appsink, unpaced, the streaming threads\n"
        "  pinned to one CPU, on the built-in model and its CPU level table.\n"
        "    target  latency-ms follows a GstController timeline: loose -> tight -> medium\n"
        "    load    a `dofa load` busy thread on the same CPU from 1/3 to 2/3 of the run\n"
        "    group   two elements in one group with different targets share the CPU; load from half-way\n"
        "    fixed   one --level (default the top), no target: top-1 through the pipeline, which\n"
        "            equals `dofa eval --level N --data fmnist:test --limit N` on the same images\n"
        "  all (the default) runs target, load and group. Each prints a summary per phase (top-1\n"
        "  against the labels, share of frames within target, level changes, frames until the level\n"
        "  changed and until frames were back under target after each step) and writes\n"
        "  DIR/demo-<scenario>.png: latency per frame coloured by level, the target dashed, the\n"
        "  level's expected top-1 on the right axis.\n"
        "  --frames N   frames per scenario and element (default 900)\n"
        "  --out DIR    where the plots go (default demo-out)\n"
        "  --cpu C      the CPU of the streaming threads and the load (default the first)\n"
        "  --model M, --level-table T   another model (default the built-in one)\n"
        "  --data D     frames and labels (default fmnist:test)\n"
        "  --json       the summaries as JSON on stdout\n");
    return 0;
  }
  if (!o.positional().empty()) throw Error("demo: unexpected argument '" + o.positional()[0] + "'");
  const std::string which = o.get("scenario", "all");
  if (which != "all" && which != "target" && which != "load" && which != "group" && which != "fixed")
    throw Error("--scenario " + which + ": expected all, target, load, group or fixed");
  Demo d;
  d.n = o.get_int("frames", 900);
  if (d.n < 60) throw Error("--frames " + std::to_string(d.n) + ": expected at least 60");
  d.out = o.get("out", "demo-out");
  const std::vector<int> online = online_cpus();
  d.cpu = o.has("cpu") ? parse_cpus(o.get("cpu", ""), online, "--cpu").at(0) : online.front();
  d.props = "threads=1 stats-interval=0";
  if (o.has("model")) d.props += " model=\"" + o.get("model", "") + "\"";
  if (o.has("level-table")) d.props += " level-table=\"" + o.get("level-table", "") + "\"";
  d.frames = load_grey_frames(o.get("data", "fmnist:test"), d.n);
  init_gstreamer();
  if (g_mkdir_with_parents(d.out.c_str(), 0755) != 0) throw Error("--out " + d.out + ": cannot create the folder");

  d.levels = level_info(d.frames, d.props, d.cpu);
  const int nl = d.levels.size();
  const bool json = o.flag("json");
  JsonWriter w;
  w.begin_object().key("cpu").value(d.cpu).key("frames").value(d.n).key("levels").value(nl);
  w.key("scenarios").begin_array();
  std::vector<std::string> plots;
  auto report = [&](const Scenario& s) {
    std::fprintf(stderr, "\n");
    const std::string png = plot(d, s);
    plots.push_back(png);
    const std::string text = summarise(s, w, png);
    if (!json) std::fputs(text.c_str(), stdout), std::fflush(stdout);
  };
  if (which == "fixed") {
    const int level = o.get_int("level", nl - 1);
    if (level < 0 || level >= nl)
      throw Error("--level " + std::to_string(level) + ": expected 0.." + std::to_string(nl - 1));
    report(run_fixed(d, level));
  } else {
    std::fprintf(stderr, "demo: each level's p90 on CPU %d, without and with the load\n", d.cpu);
    d.loaded = level_p90s(d.frames, d.props, d.cpu, nl, 150, true, kOracleRounds);
    d.idle = level_p90s(d.frames, d.props, d.cpu, nl, 150, false, kOracleRounds);
    if (which == "all" || which == "target") report(run_target(d));
    if (which == "all" || which == "load") report(run_load(d));
    if (which == "all" || which == "group") report(run_group(d));
  }
  w.end_array().key("plots").begin_array();
  for (const auto& p : plots) w.value(p);
  w.end_array().end_object();
  if (json) std::fputs(w.str().c_str(), stdout);
  else
    for (const auto& p : plots) std::printf("plot: %s\n", p.c_str());
  return 0;
}

}  // namespace dofa::cli
