// dofa bench: machine-readable benchmarks of the engine.
//   switch  switch latency while another thread classifies, first-frame ratio, dropped frames
//   levels  batch-1 latency of materialised levels against the dynamic supernet forward
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include <glib.h>

#include "dofa_config.h"

#include "cli.h"
#include "error.h"
#include "flops.h"
#include "json_reader.h"
#include "level.h"
#include "level_table.h"
#include "model_impl.h"
#include "runner.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double rss_mb() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Dynamic-OFA's six published levels (UoS-EEC/DynamicOFA runtime_demo nets_6.pickle; ofa-facts §8.4).
const char* const kNets6[] = {
    "r176-d32322-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4334",
    "r176-d32332-k7357.7357.5753.5335.3337-e6444.4666.3346.4663.4333",
    "r192-d33333-k5573.7773.7775.7773.7777-e3434.4443.4433.4444.4444",
    "r208-d23334-k7353.5733.5557.7755.3337-e6633.4433.6444.6446.4633",
    "r224-d24443-k5337.7333.7535.7573.7757-e6643.4663.4634.6666.4446",
    "r224-d44444-k5555.5773.5777.7755.7555-e6666.6646.6466.6666.6663",
};

void print_or_json(const Options& o, JsonWriter& w, const std::string& text) {
  if (o.flag("json")) std::fputs(w.str().c_str(), stdout);
  else std::fputs(text.c_str(), stdout);
}

int bench_switch(const Options& o) {
  Spec spec = load_spec(o);
  const int threads = o.get_int("threads", 1);
  const int n_levels = o.get_int("levels", 8), n_switches = o.get_int("switches", 10000);
  const int burst = o.get_int("burst", 50), hold = o.get_int("hold-frames", 4), r = o.get_int("resolution", spec.resolutions.front());
  if (n_levels < 2 || n_switches < 1 || burst < 1 || hold < 2)
    throw Error("--levels must be >= 2, --switches and --burst >= 1, --hold-frames >= 2");
  set_threads(threads);

  ModelOptions mo;
  mo.spec = spec.path;
  mo.weights = o.get("weights", "random:1");
  mo.device = device_option(o);
  for (int i = 0; i < n_levels; ++i) {
    Arch a = Arch::random(spec, 100 + i);
    a.r = r;
    mo.archs.push_back(a.to_text());
  }
  auto model = Model::load(mo);
  Runner runner(model, 0);
  std::vector<uint8_t> image(size_t(r) * r * 3, 128);
  const ImageView view{image.data(), r, r, size_t(r) * 3, PixelFormat::RGB};

  // The classifier runs frames back to back and records each frame's level and time.
  struct Frame {
    int level;
    double ms;
  };
  std::vector<Frame> log;
  log.reserve(1 << 16);
  std::atomic<bool> stop{false};
  std::atomic<long> frames{0}, dropped{0};
  std::thread classifier([&] {
    set_threads(threads);  // applied in this thread too
    while (!stop.load()) {
      try {
        Classification res = runner.classify(view);
        if (res.level < 0 || res.level >= n_levels || res.class_id < 0) ++dropped;
        else log.push_back({res.level, res.infer_ms});
      } catch (const std::exception&) {
        ++dropped;
      }
      ++frames;
    }
  });

  // Switches come in bursts between random levels, then the level holds for
  // `hold` frames: the first of them is a first frame after a switch, the rest
  // give each level's steady time under the same conditions, in the same run.
  std::mt19937 rng(7);
  std::vector<double> switch_us;
  switch_us.reserve(n_switches);
  auto t_run = Clock::now();
  while (int(switch_us.size()) < n_switches) {
    for (int i = 0; i < burst && int(switch_us.size()) < n_switches; ++i) {
      int to = std::uniform_int_distribution<int>(0, n_levels - 1)(rng);
      auto t0 = Clock::now();
      runner.switch_to(to);
      switch_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    const long until = frames.load() + hold;
    while (frames.load() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  classifier.join();
  const double run_s = ms_since(t_run) / 1000.0;

  std::vector<std::vector<double>> steady_ms(n_levels);
  for (size_t i = 1; i < log.size(); ++i)
    if (log[i].level == log[i - 1].level) steady_ms[log[i].level].push_back(log[i].ms);
  std::vector<double> steady(n_levels), first_ratio, steady_ratio;
  for (int l = 0; l < n_levels; ++l) steady[l] = percentile(steady_ms[l], 50);
  for (size_t i = 1; i < log.size(); ++i) {
    if (steady[log[i].level] <= 0) continue;
    // Steady frames' own spread is the yardstick: the machine's jitter, with no switch.
    (log[i].level != log[i - 1].level ? first_ratio : steady_ratio).push_back(log[i].ms / steady[log[i].level]);
  }

  JsonWriter w;
  w.begin_object().key("bench").value("switch").key("spec").value(spec.name);
  w.key("weights").value(mo.weights).key("resolution").value(r).key("levels").value(n_levels);
  w.key("threads").value(threads).key("materialize").value("all").key("device").value(mo.device);
  w.key("switches").value(n_switches).key("frames").value((long long)frames.load());
  w.key("run_s").value(run_s);
  w.key("switch_p50_us").value(percentile(switch_us, 50)).key("switch_p99_us").value(percentile(switch_us, 99));
  w.key("switch_max_us").value(percentile(switch_us, 100));
  w.key("first_frames").value((long long)first_ratio.size());
  w.key("first_frame_ratio_p50").value(percentile(first_ratio, 50));
  w.key("first_frame_ratio_p99").value(percentile(first_ratio, 99));
  w.key("steady_frame_ratio_p99").value(percentile(steady_ratio, 99));
  w.key("frames_dropped").value((long long)dropped.load());
  w.key("steady_median_ms").begin_array();
  for (double s : steady) w.value(s);
  w.end_array();
  w.key("system").raw(system_info_json(system_info()));
  w.end_object();

  char text[512];
  std::snprintf(text, sizeof text,
                "switch: %d switches, %ld frames over %.1f s (%d levels, r=%d, %d thread(s), %s)\n"
                "  switch p50 %.3f us, p99 %.3f us\n  first frame after a switch / steady median: p50 %.3f, p99 %.3f "
                "(%zu frames)\n  steady frames / steady median: p99 %.3f\n  frames dropped: %ld\n",
                n_switches, frames.load(), run_s, n_levels, r, threads, mo.device.c_str(), percentile(switch_us, 50),
                percentile(switch_us, 99), percentile(first_ratio, 50), percentile(first_ratio, 99),
                first_ratio.size(), percentile(steady_ratio, 99), dropped.load());
  print_or_json(o, w, text);
  return 0;
}

int bench_levels(const Options& o) {
  Spec spec = load_spec(o);
  const int threads = o.get_int("threads", 1), runs = o.get_int("runs", 20);
  if (runs < 1) throw Error("--runs must be >= 1");
  const std::string device = device_option(o);
  const bool cuda = device == "cuda";
  set_threads(threads);
  Supernet net = Supernet::open(spec, o.get("weights", "random:1"));
  const double rss_supernet = rss_mb();

  std::vector<std::pair<std::string, Arch>> archs;
  if (o.has("arch")) {
    archs.push_back({"arch", load_arch(o, spec)});
  } else {
    archs.push_back({"max", Arch::max(spec)});
    archs.push_back({"min", Arch::min(spec)});
    if (spec.name == "ofa-mbv3-w12") {
      for (int i = 0; i < 6; ++i) archs.push_back({"nets6_L" + std::to_string(i), Arch::parse(kNets6[i], spec)});
    } else if (g_file_test((luts_dir(spec) + "/" + spec.name + "-cpu.json").c_str(), G_FILE_TEST_EXISTS)) {
      // The model's own CPU family (luts/<model>-cpu.json).
      LevelTable t = LevelTable::load(luts_dir(spec) + "/" + spec.name + "-cpu.json", spec);
      for (size_t i = 0; i < t.levels.size(); ++i) archs.push_back({"L" + std::to_string(i), t.levels[i].arch});
    }
  }

  JsonWriter w;
  w.begin_object().key("bench").value("levels").key("spec").value(spec.name);
  w.key("weights").value(o.get("weights", "random:1")).key("threads").value(threads).key("runs").value(runs);
  w.key("device").value(device);
  w.key("levels").begin_array();
  std::string text = "levels: batch 1, " + std::to_string(threads) + " thread(s), median of " +
                     std::to_string(runs) + " runs (ms)\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-10s %-64s %8s %9s %8s %8s %8s %7s%s\n", "name", "arch", "level", "level-aten",
                "dyn-nchw", "dyn-cl", "level-p90", "speedup", cuda ? "     cuda cpu/cuda" : "");
  text += line;
  double min_speedup = 1e9;
  std::vector<std::unique_ptr<Level>> keep;  // all levels resident, as a Model holds them
  for (const auto& [name, arch] : archs) {
    keep.push_back(std::make_unique<Level>(net, arch, nullptr));
    const Level& level = *keep.back();
    const Level aten(net, arch, nullptr, CpuKernels::AtenChannelsLast);  // the reference kernels, side by side
    std::unique_ptr<Level> on_gpu;
    if (cuda) on_gpu = std::make_unique<Level>(net, arch, nullptr, CpuKernels::Own, c10::Device(c10::kCUDA, 0));
    at::Tensor x = at::randn({1, spec.in_channels, arch.r, arch.r});
    at::Tensor x_gpu = cuda ? x.to(c10::Device(c10::kCUDA, 0)) : at::Tensor();
    std::vector<double> t_gpu;
    ForwardOptions nchw, cl;
    cl.channels_last = true;
    std::vector<double> t_level, t_aten, t_nchw, t_cl;
    c10::InferenceMode guard;
    for (int i = 0; i < runs + 3; ++i) {  // round-robin so load hits all alike; 3 warm-up rounds
      auto t0 = Clock::now();
      level.forward(x);
      double a = ms_since(t0);
      t0 = Clock::now();
      aten.forward(x);
      double a2 = ms_since(t0);
      t0 = Clock::now();
      net.forward(x, arch, nchw);
      double b = ms_since(t0);
      t0 = Clock::now();
      net.forward(x, arch, cl);
      double c = ms_since(t0);
      double g = on_gpu ? on_gpu->timed_forward(x_gpu) : 0;
      if (i < 3) continue;
      t_level.push_back(a), t_aten.push_back(a2), t_nchw.push_back(b), t_cl.push_back(c), t_gpu.push_back(g);
    }
    const double speedup = percentile(t_nchw, 50) / percentile(t_level, 50);
    min_speedup = std::min(min_speedup, speedup);
    NetCost cost = net_cost(spec, arch);
    auto stat = [&w](const char* key, const std::vector<double>& t) {
      w.key(key).begin_object().key("median_ms").value(percentile(t, 50)).key("p90_ms").value(percentile(t, 90));
      w.end_object();
    };
    w.begin_object().key("name").value(name).key("arch").value(arch.to_text());
    w.key("mflops").value(cost.mflops).key("params").value(cost.params);
    w.key("level_mb").value(double(level.bytes()) / (1 << 20));
    stat("materialised", t_level);
    stat("materialised_aten_channels_last", t_aten);
    w.key("own_kernels_speedup").value(percentile(t_aten, 50) / percentile(t_level, 50));
    stat("dynamic_nchw", t_nchw);
    stat("dynamic_channels_last", t_cl);
    w.key("speedup_vs_dynamic_nchw").value(speedup);
    if (cuda) {
      stat("cuda", t_gpu);
      w.key("cpu_over_cuda").value(percentile(t_level, 50) / percentile(t_gpu, 50));
    }
    w.end_object();
    std::snprintf(line, sizeof line, "  %-10s %-64s %8.2f %9.2f %8.2f %8.2f %8.2f %6.2fx", name.c_str(),
                  arch.to_text().c_str(), percentile(t_level, 50), percentile(t_aten, 50), percentile(t_nchw, 50),
                  percentile(t_cl, 50),
                  percentile(t_level, 90), speedup);
    text += line;
    if (cuda) {
      std::snprintf(line, sizeof line, " %8.3f %7.1fx", percentile(t_gpu, 50), percentile(t_level, 50) / percentile(t_gpu, 50));
      text += line;
    }
    text += "\n";
  }
  w.end_array();
  const double rss = rss_mb();
  w.key("min_speedup_vs_dynamic_nchw").value(min_speedup);
  w.key("rss_mb").value(rss).key("rss_mb_supernet").value(rss_supernet);
  w.key("system").raw(system_info_json(system_info()));
  w.end_object();
  std::snprintf(line, sizeof line, "  min speed-up %.2fx; RSS %.0f MB (%.0f MB with the supernet alone)\n",
                min_speedup, rss, rss_supernet);
  text += line;
  print_or_json(o, w, text);
  return 0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  Options o(args,
            {"spec", "weights", "threads", "runs", "arch", "levels", "switches", "burst", "hold-frames", "resolution",
             "model", "level-table", "level", "frames", "cpu", "data", "oracle-frames", "target-ms", "window",
             "device", "rounds"},
            {"json"});
  const std::string what = o.positional().empty() ? "" : o.positional()[0];
  if (o.help() || what.empty()) {
    std::printf(
        "usage: dofa bench switch|levels|element|rtm [--json] [--spec S] [--weights W] [--threads N]\n"
        "       [--device cpu|cuda]\n"
        "  switch  a Model of --levels (8) random archs at --resolution (the smallest) with random weights;\n"
        "          --switches (10000) switches between random levels in bursts of --burst (50), each\n"
        "          followed by --hold-frames (4) frames, while another thread classifies. Reports\n"
        "          switch_p50_us, switch_p99_us, first_frame_ratio_p99 (first frame after a switch /\n"
        "          that level's steady median in the same run) and frames_dropped. --device cuda: the\n"
        "          levels in GPU memory, frames preprocessed on the GPU, frame times from CUDA events.\n"
        "  levels  batch-1 latency (median, p90) of max, min and the model's levels (its CPU table;\n"
        "          Dynamic-OFA's nets_6 for ofa-mbv3-w12) or --arch:\n"
        "          the materialised level on its own kernels and on ATen's (channels-last:\n"
        "          own_kernels_speedup), the dynamic supernet forward with views in NCHW (as OFA runs\n"
        "          it) and in channels-last, measured round-robin in one run (--runs 20); rss_mb.\n"
        "          --device cuda adds each level on the GPU (CUDA events) and cpu_over_cuda.\n"

        "  element preprocessing of video frames (1080p NV12 and the other formats the element accepts) to\n"
        "          a 28x28 grey and a 224x224 RGB input: median and p90 ms (--runs 200), the per-pixel\n"
        "          reference's largest difference and, with --device cuda, the GPU's (upload and kernels,\n"
        "          waited for) and its difference from the CPU in levels of 255; then fps through\n"
        "          dofaclassify at --level (default the top) and at level 0 against the engine's own\n"
        "          preprocess + classify of the same bytes, 28x28 GRAY8 and 1080p NV12, in turns of 20\n"
        "          frames in appsrc's streaming thread (20 engine frames, then 20 buffers through appsrc !\n"
        "          dofaclassify ! fakesink), --rounds (20) pipelines of --frames (200): overhead_ratio\n"
        "          (fps of the median frames, element / engine, the lower of the two inputs;\n"
        "          overhead_ratio_level0 at level 0), added_us_per_frame (what the element and the\n"
        "          pipeline add to a frame) and pipeline_us_per_frame (a buffer through appsrc !\n"
        "          identity ! fakesink, timed the same way: GStreamer's own share).\n"
        "          --model (default: the built-in model) and --level-table choose the model; --device\n"
        "          cuda runs both on the GPU. The process runs pinned to --cpu (the first online CPU).\n"
        "  rtm     the runtime manager in appsrc ! dofaclassify ! fakesink (--data, default fmnist:test;\n"
        "          unpaced, the streaming thread on --cpu) when a busy thread pinned to the same CPU\n"
        "          starts: the oracle (each level's p90 at a fixed level, idle and loaded, the highest of\n"
        "          3 rounds of --oracle-frames, 150); frames until a new latency-ms takes effect; for lut\n"
        "          and reactive (--window, 30) after the load step, reaction_frames, the share of the\n"
        "          later --frames (450) within target and the level against the oracle's best; level\n"
        "          changes per 100 frames at constant load; two elements in one group against the pair\n"
        "          brute force over a pair oracle finds best. The target: the loaded p90 of the most\n"
        "          accurate level (pair) that runs between the load's time slices, with the runtime\n"
        "          manager's margins, or --target-ms. --model and --level-table choose the model.\n"
        "  Default spec %s, weights random:1, 1 thread.\n",
        kDefaultModel);
    return what.empty() && !o.help() ? 2 : 0;
  }
  if (what == "switch") return bench_switch(o);
  if (what == "levels") return bench_levels(o);
  if (what == "element") return bench_element(o);
#if DOFA_HAVE_GSTREAMER
  if (what == "rtm") return bench_rtm(o);
#else
  if (what == "rtm") throw Error("bench rtm runs pipelines, and this build has no GStreamer");
#endif
  throw Error("unknown benchmark '" + what + "', expected switch, levels, element or rtm");
}

}  // namespace dofa::cli
