// dofa report: luts/REPORT.md and its plots (gnuplot, png terminal) from the
// files training and search leave: W.pt.train.json, T.search.json, and the
// width-only search's summary.
#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "augment.h"
#include "cli.h"
#include "error.h"
#include "files.h"
#include "gnuplot.h"
#include "json_reader.h"

namespace dofa::cli {

namespace {

struct Point {
  std::string arch, source;
  double lat = 0, val = 0, test = -1, lo = 0, hi = 0, mflops = 0;
  std::string hits;
};

std::vector<Point> read_points(const JsonValue& list, bool levels) {
  std::vector<Point> out;
  for (size_t i = 0; i < list.size(); ++i) {
    JsonValue j = list.at(i);
    Point p;
    p.arch = j["arch"].as_string();
    p.lat = j["latency_ms"].as_double();
    p.val = j["top1_val"].as_double();
    if (levels) {
      p.test = j["top1_test"].as_double();
      p.lo = j["ci95"].at(0).as_double();
      p.hi = j["ci95"].at(1).as_double();
      p.mflops = j["mflops"].as_double();
      p.hits = j["test_hits"].as_string();
    } else {
      p.source = j["source"].as_string();
    }
    out.push_back(p);
  }
  return out;
}

// Paired bootstrap (Efron & Tibshirani 1993) of the top-1 difference a - b on
// the same test images: 95 % interval in percentage points.
std::pair<double, double> paired_bootstrap(const std::string& a, const std::string& b, int rounds = 2000) {
  const size_t n = std::min(a.size(), b.size());
  std::vector<double> d;
  Rng rng(12345);
  for (int r = 0; r < rounds; ++r) {
    long s = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t k = size_t(rng.below(int(n)));
      s += (a[k] == '1') - (b[k] == '1');
    }
    d.push_back(100.0 * double(s) / double(n));
  }
  std::sort(d.begin(), d.end());
  return {d[size_t(0.025 * rounds)], d[size_t(0.975 * rounds) - 1]};
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// A gnuplot datablock of (latency, validation top-1).
std::string datablock(const std::string& name, const std::vector<Point>& ps) {
  std::string s = "$" + name + " << EOD\n";
  for (const Point& p : ps) s += fmt("%.4f", p.lat) + " " + fmt("%.3f", p.val) + "\n";
  return s + "EOD\n";
}

// A level table's (arch, mean latency) pairs; empty when the file is absent.
std::vector<std::pair<std::string, double>> table_latencies(const std::string& path) {
  std::vector<std::pair<std::string, double>> out;
  if (path.empty() || !g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) return out;
  JsonValue ls = JsonValue::parse_file(path)["levels"];
  for (size_t i = 0; i < ls.size(); ++i)
    out.push_back({ls.at(i)["arch"].as_string(), ls.at(i)["latency_ms"]["mean"].as_double()});
  return out;
}

// The level table a search summary belongs to (T.json for T.search.json), "" if absent.
std::string table_of_summary(const std::string& summary) {
  const std::string suffix = ".search.json";
  if (summary.size() <= suffix.size() || summary.compare(summary.size() - suffix.size(), suffix.size(), suffix) != 0)
    return "";
  const std::string table = summary.substr(0, summary.size() - suffix.size()) + ".json";
  return g_file_test(table.c_str(), G_FILE_TEST_EXISTS) ? table : "";
}

// The levels' latencies from their table, which a later side-by-side
// `dofa measure` of several tables may have refreshed; true if any changed.
bool latencies_from_table(const std::string& summary, std::vector<Point>& levels) {
  bool changed = false;
  for (const auto& [arch, ms] : table_latencies(table_of_summary(summary)))
    for (Point& p : levels)
      if (p.arch == arch && p.lat != ms) p.lat = ms, changed = true;
  return changed;
}

// The GPU family beside the CPU one (accuracy and BN statistics carry over;
// only latency was measured on the GPU), and nets_6 on both devices.
std::string gpu_section(const std::string& gpu_path, const std::vector<Point>& cpu, const std::string& search_path) {
  const JsonValue g = JsonValue::parse_file(gpu_path);
  const std::vector<Point> gpu = read_points(g["levels"], true);
  // The card, from the provenance of the level table beside the summary.
  std::string card = "the GPU";
  const std::string table = table_of_summary(gpu_path);
  if (!table.empty()) card = JsonValue::parse_file(table)["provenance"]["device"].as_string();
  std::ostringstream md;
  md << "\n## GPU family\n\n`dofa search --device cuda --pool` on " << card << ": the CPU search's "
     << read_points(g["candidates"], false).size() << " calibrated candidates, each re-measured there (CUDA events, "
        "batch 1, NCHW), the Pareto front and the levels chosen again. The 28x28 model is launch-bound on a large "
        "GPU: its latencies bunch together, and the family says little.\n\n"
     << "| level | CPU arch | CPU ms | top-1 test | GPU arch | GPU ms | top-1 test |\n|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < std::max(cpu.size(), gpu.size()); ++i) {
    md << "| " << i;
    for (const std::vector<Point>* f : {&cpu, &gpu}) {
      if (i < f->size())
        md << " | `" << (*f)[i].arch << "` | " << fmt("%.3f", (*f)[i].lat) << " | " << fmt("%.2f", (*f)[i].test);
      else
        md << " | | |";
    }
    md << " |\n";
  }
  gchar* dir = g_path_get_dirname(search_path.c_str());
  const std::string luts = dir;
  g_free(dir);
  auto c = table_latencies(luts + "/ofa-mbv3-w12-cpu.json"), u = table_latencies(luts + "/ofa-mbv3-w12-cuda.json");
  if (!c.empty() && c.size() == u.size()) {
    const JsonValue cp = JsonValue::parse_file(luts + "/ofa-mbv3-w12-cpu.json")["provenance"];
    md << "\nDynamic-OFA's published `nets_6` (ofa-mbv3-w12, random weights: latency only), `dofa measure` on each "
          "device: the CPU column on " << cp["device"].as_string() << " (" << cp["threads"].as_int()
       << " thread), the GPU column on " << card << ". Two machines: the ratio compares the devices, not one "
          "run side by side.\n\n| level | arch | CPU ms | GPU ms | CPU / GPU |\n|---|---|---|---|---|\n";
    for (size_t i = 0; i < c.size(); ++i)
      md << "| " << i << " | `" << c[i].first << "` | " << fmt("%.2f", c[i].second) << " | " << fmt("%.3f", u[i].second)
         << " | " << fmt("%.1fx", c[i].second / u[i].second) << " |\n";
  }
  return md.str();
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  Options o(args, {"search", "width", "train", "gpu", "out", "plots"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa report --search T.search.json --width W.search.json [--train W.pt.train.json]\n"
        "                   [--gpu G.search.json] [--out luts/REPORT.md] [--plots luts/plots]\n"
        "  Writes the design-time report: training phases and times, the accuracy predictor,\n"
        "  the level table with test top-1 and 95 %% intervals, inversions, the width-only\n"
        "  family, the floors (levels, latency span, speed-up at the width family's fastest\n"
        "  accuracy, best top-1 gap at equal latency with a paired-bootstrap interval), and\n"
        "  a top-1 vs latency plot drawn by gnuplot. --gpu: the GPU family (dofa search --device\n"
        "  cuda) beside the CPU one, and Dynamic-OFA's nets_6 on both devices where\n"
        "  luts/ofa-mbv3-w12-cpu.json and -cuda.json are beside T.\n");
    return 0;
  }
  JsonValue s = JsonValue::parse_file(o.require("search"));
  JsonValue wj = JsonValue::parse_file(o.require("width"));
  const std::string out = o.get("out", "luts/REPORT.md"), plots = o.get("plots", "luts/plots");
  std::vector<Point> cands = read_points(s["candidates"], false), levels = read_points(s["levels"], true);
  std::vector<Point> wcands = read_points(wj["candidates"], false), wlevels = read_points(wj["levels"], true);
  if (levels.empty() || wlevels.empty()) throw Error("report: a search summary without levels");
  const bool retimed = latencies_from_table(o.require("search"), levels) | latencies_from_table(o.require("width"), wlevels);
  const std::string model = s["model"].as_string();
  std::ostringstream md;
  md << "# " << model << ": design-time report\n\n"
     << "Written by `dofa report` from the outputs of `dofa train`, `dofa search` and "
        "`dofa search --dims width`. Latency: batch 1, input tensor to logits, materialised "
        "level on its own CPU kernels, " << s["threads"].as_int() << " thread(s), this machine's CPU"
     << (retimed ? "; the levels and the width-only family as last measured side by side in their tables "
                   "(`dofa measure --level-table T,W`), the candidates as timed by their search"
                 : "")
     << ".\n\n";

  if (o.has("train")) {
    JsonValue t = JsonValue::parse_file(o.get("train", ""));
    md << "## Training (progressive shrinking)\n\n"
       << t["train_images"].as_int() << " training images, batch " << t["batch"].as_int() << ", "
       << t["threads"].as_int() << " threads, seed " << t["seed"].as_int64()
       << (t["sandwich"].as_bool()
               ? ", sandwich rule (the smallest sub-network in every step, the largest too where a step samples three "
                 "or more)"
               : "")
       << ".\n\n"
       << "| phase | epochs | lr | sub-networks per step | time |\n|---|---|---|---|---|\n";
    JsonValue ph = t["phases"];
    for (size_t i = 0; i < ph.size(); ++i)
      md << "| " << ph.at(i)["name"].as_string() << " | " << fmt("%.2f", ph.at(i)["epochs"].as_double()) << " | "
         << fmt("%.3g", ph.at(i)["lr"].as_double()) << " | " << ph.at(i)["subnets"].as_int() << " | "
         << fmt("%.1f min", ph.at(i)["seconds"].as_double() / 60) << " |\n";
    md << "\nTotal: " << fmt("%.1f", t["seconds"].as_double() / 60) << " min wall.\n\n"
       << "Validation top-1 at each phase end (largest and smallest open sub-network, BN recalibrated):\n\n"
       << "| phase | sub-network | arch | top-1 (val) |\n|---|---|---|---|\n";
    JsonValue ev = t["evals"];
    for (size_t i = 0; i < ev.size(); ++i)
      md << "| " << ev.at(i)["phase"].as_string() << " | " << ev.at(i)["subnet"].as_string() << " | `"
         << ev.at(i)["arch"].as_string() << "` | " << fmt("%.2f %%", ev.at(i)["top1_val"].as_double()) << " |\n";
    md << "\n";
  }

  JsonValue pred = s["predictor"], secs = s["seconds"];
  md << "## Search\n\n"
     << cands.size() << " candidates measured (each BN-calibrated on 2000 training images, top-1 on the "
        "10,000-image validation split, latency timed side by side in five interleaved rounds). "
        "Accuracy predictor (OFA's MLP): "
     << pred["train"].as_int() << " training / " << pred["holdout"].as_int() << " hold-out sub-networks, hold-out RMSE "
     << fmt("%.2f", pred["rmse_pp"].as_double()) << " pp, Kendall tau " << fmt("%.3f", pred["kendall_tau"].as_double())
     << ".\nSearch time: " << fmt("%.1f", secs["total"].as_double() / 60) << " min (predictor data and fit "
     << fmt("%.1f", secs["predictor"].as_double() / 60) << " min, Algorithm 1 + evolution "
     << fmt("%.1f", secs["search"].as_double() / 60) << " min); width-only search "
     << fmt("%.1f", wj["seconds"]["total"].as_double() / 60) << " min.\n\n";

  auto table = [&md](const std::vector<Point>& ls) {
    md << "| level | arch | latency ms | MFLOPs | top-1 val | top-1 test [95 % CI] |\n|---|---|---|---|---|---|\n";
    for (size_t i = 0; i < ls.size(); ++i)
      md << "| " << i << " | `" << ls[i].arch << "` | " << fmt("%.3f", ls[i].lat) << " | " << fmt("%.2f", ls[i].mflops)
         << " | " << fmt("%.2f", ls[i].val) << " | " << fmt("%.2f", ls[i].test) << " [" << fmt("%.2f", ls[i].lo)
         << ", " << fmt("%.2f", ls[i].hi) << "] |\n";
  };
  md << "## Levels (" << levels.size() << ", chosen on validation top-1 from the Pareto front)\n\n";
  table(levels);
  int inversions = 0;
  for (size_t i = 1; i < levels.size(); ++i)
    if (levels[i].test < levels[i - 1].test) {
      ++inversions;
      md << "\nInversion: level " << i << " tests at " << fmt("%.2f", levels[i].test) << " % [" << fmt("%.2f", levels[i].lo)
         << ", " << fmt("%.2f", levels[i].hi) << "], below level " << i - 1 << " at " << fmt("%.2f", levels[i - 1].test)
         << " % [" << fmt("%.2f", levels[i - 1].lo) << ", " << fmt("%.2f", levels[i - 1].hi) << "].";
    }
  md << (inversions ? "\n\n" : "\nTest top-1 rises with the level: no inversions.\n\n");

  md << "## Width-only family\n\nExpand-ratio-only sub-networks of this same supernet (depth, kernel and "
        "resolution at their maximum), searched and measured the same way (`--dims width`). They are not "
        "separately trained Slimmable or AutoSlim networks.\n\n";
  table(wlevels);

  // Floors.
  const double span = levels.back().lat / levels.front().lat;
  const Point& wfast = wlevels.front();
  const Point* match = nullptr;
  for (const Point& l : levels)
    if (l.test >= wfast.test) {
      match = &l;
      break;
    }
  double best_gap = -1e9;
  std::pair<double, double> best_ci{0, 0};
  std::string best_pair;
  for (const Point& w : wlevels) {
    const Point* ours = nullptr;  // the most accurate level no slower than w
    for (const Point& l : levels)
      if (l.lat <= w.lat && (!ours || l.test > ours->test)) ours = &l;
    if (!ours) continue;
    const double gap = ours->test - w.test;
    if (gap > best_gap) {
      best_gap = gap;
      best_ci = paired_bootstrap(ours->hits, w.hits);
      best_pair = "`" + ours->arch + "` (" + fmt("%.3f", ours->lat) + " ms) against `" + w.arch + "` (" +
                  fmt("%.3f", w.lat) + " ms)";
    }
  }
  md << "\n## Floors\n\n"
     << "- Levels: " << levels.size() << " (floor 6).\n"
     << "- Latency span: " << fmt("%.2f", span) << "x from level 0 to level " << levels.size() - 1 << " (floor 3x).\n";
  if (match)
    md << "- At the width-only family's fastest top-1 (" << fmt("%.2f", wfast.test) << " %, " << fmt("%.3f", wfast.lat)
       << " ms) the fastest level at least as accurate takes " << fmt("%.3f", match->lat) << " ms: L_width / L_level = "
       << fmt("%.2f", wfast.lat / match->lat) << " (floor 1.5).\n";
  else
    md << "- No level reaches the width-only family's fastest top-1 (" << fmt("%.2f", wfast.test) << " %).\n";
  if (!best_pair.empty())
    md << "- Best top-1 gap at equal or lower latency: " << fmt("%+.2f", best_gap) << " pp, paired-bootstrap 95 % "
       << "interval [" << fmt("%+.2f", best_ci.first) << ", " << fmt("%+.2f", best_ci.second) << "] (2000 resamples of "
       << "the 10,000 test images), " << best_pair << ".\n";

  if (o.has("gpu")) md << gpu_section(o.get("gpu", ""), levels, o.require("search"));

  // Plot.
  g_mkdir_with_parents(plots.c_str(), 0755);
  std::vector<Point> rnd, found;
  for (const Point& c : cands) (c.source == "random" ? rnd : found).push_back(c);
  const std::string png = plots + "/" + model + "-cpu-top1-latency.png";
  std::string gp = datablock("random", rnd) + datablock("search", found) + datablock("width_cands", wcands) +
                   datablock("levels", levels) + datablock("width", wlevels) +
                   "set terminal png size 1000,650 font ',11'\nset output '" + png + "'\n"
                   "set title '" + model + ": every measured candidate, the levels and the width-only family'\n"
                   "set xlabel 'latency (ms, batch 1, " + std::to_string(s["threads"].as_int()) + " thread)'\n"
                   "set ylabel 'top-1 on the validation split (%)'\nset key bottom right\nset grid\n"
                   "plot $random w p pt 7 ps 0.5 lc rgb '#b0b0b0' t 'random (predictor data)', \\\n"
                   "     $search w p pt 9 ps 1.2 lc rgb '#1f77b4' t 'Algorithm 1 + evolution', \\\n"
                   "     $width_cands w p pt 6 ps 0.8 lc rgb '#ff7f0e' t 'width-only candidates', \\\n"
                   "     $width w lp pt 5 ps 1.2 lw 2 lc rgb '#ff7f0e' t 'width-only family', \\\n"
                   "     $levels w lp pt 7 ps 1.5 lw 2 lc rgb '#d62728' t 'levels (luts/" + model + "-cpu.json)'\n";
  run_gnuplot(gp, "report");
  md << "\n## Plot\n\n![top-1 against latency](plots/" << model << "-cpu-top1-latency.png)\n";
  write_file_atomic(out, md.str());
  std::printf("wrote %s and %s\n", out.c_str(), png.c_str());
  return 0;
}

}  // namespace dofa::cli
