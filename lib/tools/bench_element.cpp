// dofa bench element: what the element adds around the engine, per section.
//   preprocess  frame -> input tensor for every video format the element
//               accepts, 1920x1080 (and 28x28 GRAY8) to a 28x28 grey and a
//               224x224 RGB input, one thread; the per-pixel reference's
//               difference; with --device cuda the GPU kernels too
//   overhead    frames per second through dofaclassify at a fixed level (the top
//               one and 0) against the engine's own preprocess + classify on the
//               same frame bytes, model, level and device, in turns of 20 frames in
//               one thread: overhead_ratio = element fps / engine fps (builds with
//               GStreamer)
#include <glib.h>

#include "dofa_config.h"
#if DOFA_HAVE_GSTREAMER
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#endif
#if DOFA_HAVE_OPENCV
#include <opencv2/core.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "busy_load.h"
#include "error.h"
#include "gpu_preprocess.h"
#include "model.h"
#include "runner.h"
#include "json_reader.h"
#include "preprocess.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

using Clock = std::chrono::steady_clock;

// A 1-channel 28x28 model as the built-in Fashion-MNIST one: only the input
// and preprocess blocks matter here.
const char* const kGreySpec = R"({
  "schema": 1, "name": "grey-28", "description": "1-channel 28x28 input for the preprocessing benchmark",
  "input": {"channels": 1, "mean": [0.286], "std": [0.353]},
  "preprocess": {"eval_crop": 1.0, "train": {"pad": 2, "flip": true}},
  "first_conv": {"width": 8, "kernel": 3, "stride": 1, "act": "h_swish"},
  "first_block": {"width": 8, "kernel": 3, "stride": 1, "act": "relu", "se": false},
  "stages": [{"width": 16, "stride": 2, "act": "relu", "se": false}],
  "final_expand": {"width": 48, "act": "h_swish"},
  "feature_mix": {"width": 64, "act": "h_swish"},
  "classifier": {"classes": 10, "dropout": 0.0},
  "elastic": {"kernel_sizes": [3], "expand_ratios": [3], "depths": [2], "resolutions": [28]},
  "bn": {"momentum": 0.1, "eps": 1e-5},
  "weights": null
})";

// One frame in one format, laid out as GStreamer does (NV12: Y then UV; I420: Y, U, V),
// with the view into it: the engine and the element read the very same bytes.
struct Frame {
  PixelFormat format;
  int width, height;
  std::vector<uint8_t> data;
  ImageView view;
};

// A frame with what camera video has: gradients, saturated shapes with sharp
// edges, sensor noise.
std::vector<uint8_t> scene_rgb(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  uint32_t noise = 2463534242u;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      noise ^= noise << 13, noise ^= noise >> 17, noise ^= noise << 5;
      const int n = int(noise & 15) - 8;
      int r = 30 + 170 * x / w + n, g = 50 + 140 * y / h + n, b = 210 - 150 * x / w + n;
      const int dx = x - w / 3, dy = y - h / 2;
      if (dx * dx + dy * dy < h * h / 16) r = 220 + n, g = 40 + n, b = 30 + n;
      if (x > 2 * w / 3 && x < 5 * w / 6 && y > h / 5 && y < h / 2) r = 30 + n, g = 170 + n, b = 70 + n;
      uint8_t* p = &px[(size_t(y) * w + x) * 3];
      p[0] = uint8_t(std::clamp(r, 0, 255));
      p[1] = uint8_t(std::clamp(g, 0, 255));
      p[2] = uint8_t(std::clamp(b, 0, 255));
    }
  return px;
}

// The scene in one format (even sizes). YUV: BT.601 limited range, chroma of
// each 2x2 block's top-left pixel; grey: OpenCV's RGB -> grey weights.
Frame make_frame(PixelFormat f, int w, int h) {
  Frame fr{f, w, h, {}, {}};
  const std::vector<uint8_t> rgb = scene_rgb(w, h);
  auto px = [&](int x, int y, int k) { return float(rgb[(size_t(y) * w + x) * 3 + k]); };
  const size_t luma = size_t(w) * h, cw = size_t(w) / 2, chroma = cw * (h / 2);
  if (f == PixelFormat::NV12 || f == PixelFormat::I420) {
    fr.data.resize(luma + 2 * chroma);
    uint8_t* uv = fr.data.data() + luma;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        fr.data[size_t(y) * w + x] = pixel::to_u8(16 + 0.257f * px(x, y, 0) + 0.504f * px(x, y, 1) + 0.098f * px(x, y, 2));
    for (size_t y = 0; y < size_t(h / 2); ++y)
      for (size_t x = 0; x < cw; ++x) {
        const float r = px(2 * x, 2 * y, 0), g = px(2 * x, 2 * y, 1), b = px(2 * x, 2 * y, 2);
        const uint8_t U = pixel::to_u8(128 - 0.148f * r - 0.291f * g + 0.439f * b);
        const uint8_t V = pixel::to_u8(128 + 0.439f * r - 0.368f * g - 0.071f * b);
        if (f == PixelFormat::NV12) uv[2 * (y * cw + x)] = U, uv[2 * (y * cw + x) + 1] = V;
        else uv[y * cw + x] = U, uv[chroma + y * cw + x] = V;  // U then V
      }
  } else {
    const int bpp = bytes_per_pixel(f);
    const bool bgr = f == PixelFormat::BGR || f == PixelFormat::BGRA || f == PixelFormat::BGRx;
    fr.data.assign(luma * bpp, 255);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        uint8_t* o = &fr.data[(size_t(y) * w + x) * bpp];
        if (f == PixelFormat::Gray8) o[0] = pixel::rgb_grey(px(x, y, 0), px(x, y, 1), px(x, y, 2));
        else
          for (int k = 0; k < 3; ++k) o[k] = uint8_t(px(x, y, bgr ? 2 - k : k));
      }
  }
  fr.view = ImageView{fr.data.data(), w, h, size_t(w) * bytes_per_pixel(f), f};
  if (f == PixelFormat::NV12) {
    fr.view.planes[0] = fr.data.data() + luma;
    fr.view.plane_strides[0] = 2 * cw;
  } else if (f == PixelFormat::I420) {
    fr.view.planes[0] = fr.data.data() + luma;
    fr.view.planes[1] = fr.data.data() + luma + chroma;
    fr.view.plane_strides[0] = fr.view.plane_strides[1] = cw;
  }
  return fr;
}

struct Target {
  std::string name;  // "28 grey", "224 rgb"
  Spec spec;
  int r;
};

struct PreprocessResult {
  std::string format;
  int width, height;
  std::string to;
  double median_ms, p90_ms;
  double reference_diff;             // levels of 255 between the per-pixel reference and the CPU path
  double gpu_median_ms = 0, gpu_diff = 0;  // --device cuda: upload and kernels, waited for; levels from the CPU
};

// The largest difference of two inputs in levels of 255 (before normalisation).
double max_levels(const std::vector<float>& a, const std::vector<float>& b, const Spec& s) {
  double m = 0;
  const size_t plane = a.size() / size_t(s.in_channels);
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]) * s.std[i / plane] * 255.0);
  return m;
}

// Each (frame, target) pair N times in a row after 5 warm-up runs: the frame
// stays in cache, as one just written by the element upstream would be. With
// `gpu`, the GPU path alternates with the CPU one.
std::vector<PreprocessResult> bench_preprocess(const std::vector<Frame>& frames, const std::vector<Target>& targets,
                                               int runs, gpu::FramePreprocess* gpu) {
  std::vector<PreprocessResult> res;
  for (const Frame& f : frames)
    for (const Target& t : targets) {
      const size_t n = size_t(t.spec.in_channels) * t.r * t.r;
      std::vector<float> out(n), ref(n), on_gpu(n);
      std::vector<double> ms, gpu_ms;
      for (int i = 0; i < runs + 5; ++i) {
        auto t0 = Clock::now();
        preprocess(f.view, t.spec, t.r, out.data());
        if (i >= 5) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!gpu) continue;
        t0 = Clock::now();
        const float* d = gpu->run(f.view, t.spec, t.r, t.spec.eval_crop);
        gpu::synchronize();
        if (i >= 5) gpu_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (i == 0) gpu::download(on_gpu.data(), d, n * sizeof(float));
      }
      preprocess_reference(f.view, t.spec, t.r, ref.data(), t.spec.eval_crop);
      PreprocessResult r{format_name(f.format), f.width, f.height, t.name, percentile(ms, 50), percentile(ms, 90),
                         max_levels(ref, out, t.spec)};
      if (gpu) r.gpu_median_ms = percentile(gpu_ms, 50), r.gpu_diff = max_levels(on_gpu, out, t.spec);
      res.push_back(r);
    }
  return res;
}

struct Overhead {
  std::string input;  // e.g. "GRAY8 28x28"
  int level = 0;
  double element_fps = 0, engine_fps = 0;
  double pipeline_us = 0;  // a buffer through appsrc ! identity ! fakesink: what GStreamer alone costs
  double ratio() const { return engine_fps > 0 ? element_fps / engine_fps : 0; }
  // What the element and the pipeline add to a frame at this level (more at a slower level,
  // whose inference leaves the caches colder for them).
  double added_us() const { return element_fps > 0 && engine_fps > 0 ? 1e6 / element_fps - 1e6 / engine_fps : 0; }
};

#if DOFA_HAVE_GSTREAMER
// --- overhead ------------------------------------------------------------------


// The element and the engine in one thread, in turns of kTurn frames: appsrc ! dofaclassify !
// fakesink, unpaced, and in appsrc's streaming thread (need-data) before every kTurn-th buffer
// kTurn frames of the engine's own preprocess + classify of the same bytes. Each side runs its
// frames back to back, as in a loop of its own, and both see the VM's speed of the same moment
// and the same thread; each buffer wraps the frame's bytes read-only (no copy). A buffer's time
// runs from its need-data to the next (push, the element, the sink and appsrc's loop back). The
// first kTurnWarmup frames of each turn (caches the other side just used) and the whole first
// turn (negotiation, the first frame of a level in a thread) are left out. `element` is the
// launch text between appsrc and fakesink. Adds each frame's times to `element_ms` and `engine_ms`.
void run_in_turns(const ModelOptions& mo, int level, const Frame& f, int frames, const std::string& element,
                  std::vector<double>& element_ms, std::vector<double>& engine_ms) {
  const std::string launch = "appsrc name=src format=time ! video/x-raw,format=" + std::string(format_name(f.format)) +
                             ",width=" + std::to_string(f.width) + ",height=" + std::to_string(f.height) +
                             ",framerate=30/1 ! " + element + " ! fakesink sync=false";
  GError* err = nullptr;
  GstElement* pipe = gst_parse_launch(launch.c_str(), &err);
  if (!pipe) {
    std::string msg = err ? err->message : "unknown error";
    g_clear_error(&err);
    throw Error("bench element: cannot build '" + launch + "': " + msg);
  }
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipe), "src");
  GstBus* bus = gst_element_get_bus(pipe);
  constexpr int kTurn = 20, kTurnWarmup = 2;
  struct Feed {
    const Frame* frame;
    Runner engine;
    int pushed, total;
    Clock::time_point pushing;  // when the last buffer's need-data began
    std::vector<double>*element_ms, *engine_ms;
  } feed{&f, Runner(Model::get(mo), level), 0, kTurn * (1 + (frames + kTurn - 1) / kTurn), {}, &element_ms, &engine_ms};
  void (*need_data)(GstElement*, guint, gpointer) = [](GstElement* src, guint, gpointer p) {
    Feed& fd = *static_cast<Feed*>(p);
    auto ms = [](Clock::time_point from, Clock::time_point to) {
      return std::chrono::duration<double, std::milli>(to - from).count();
    };
    auto counts = [](int i) { return i >= kTurn && i % kTurn >= kTurnWarmup; };
    auto now = Clock::now();
    if (fd.pushed > 0 && counts(fd.pushed - 1)) fd.element_ms->push_back(ms(fd.pushing, now));
    if (fd.pushed == fd.total) {
      gst_app_src_end_of_stream(GST_APP_SRC(src));
      return;
    }
    if (fd.pushed % kTurn == 0)
      for (int i = fd.pushed; i < fd.pushed + kTurn; ++i) {
        fd.engine.classify(fd.frame->view, 5);
        const auto done = Clock::now();
        if (counts(i)) fd.engine_ms->push_back(ms(now, done));
        now = done;
      }
    fd.pushing = now;
    const std::vector<uint8_t>& bytes = fd.frame->data;
    // Read-only memory: the element never writes the frame.
    GstBuffer* b = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, const_cast<uint8_t*>(bytes.data()),
                                               bytes.size(), 0, bytes.size(), nullptr, nullptr);
    GST_BUFFER_PTS(b) = fd.pushed * GST_SECOND / 30;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    ++fd.pushed;
    gst_app_src_push_buffer(GST_APP_SRC(src), b);
  };
  g_signal_connect(src, "need-data", G_CALLBACK(need_data), &feed);
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    std::string why = "state change failed";
    if (m) {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(m, &e, &dbg);
      why = std::string(e->message) + (dbg ? std::string(": ") + dbg : "");
      g_clear_error(&e);
      g_free(dbg);
      gst_message_unref(m);
    }
    gst_object_unref(bus);
    gst_object_unref(src);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    throw Error("bench element: " + why);
  }
  GstMessage* m = gst_bus_timed_pop_filtered(bus, 600 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const bool eos = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (m) gst_message_unref(m);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(src);
  gst_object_unref(pipe);
  if (!eos || feed.pushed != feed.total) throw Error("bench element: the pipeline did not reach EOS");
}

#endif

double median_of(const std::vector<PreprocessResult>& res, const char* format, int w, const char* to) {
  for (const auto& r : res)
    if (r.format == format && r.width == w && r.to == to) return r.median_ms;
  return 0;
}

}  // namespace

int bench_element(const Options& o) {
  const int runs = o.get_int("runs", 200);
  if (runs < 1) throw Error("--runs " + std::to_string(runs) + ": expected >= 1");
  const int frames_n = o.get_int("frames", 200), rounds = o.get_int("rounds", 20);
  if (frames_n < 1) throw Error("--frames " + std::to_string(frames_n) + ": expected >= 1");
  if (rounds < 1) throw Error("--rounds " + std::to_string(rounds) + ": expected >= 1");
  const std::string device = device_option(o);
  // Everything on one CPU, the threads GStreamer starts included: unpinned,
  // the element's two threads (appsrc's pusher, the streaming thread) and the
  // engine's one land on this VM's two vCPUs differently from run to run, and
  // overhead_ratio ranged from 0.58 to 1.51.
  const std::vector<int> online = online_cpus();
  const int cpu = o.has("cpu") ? parse_cpus(o.get("cpu", ""), online, "--cpu").at(0) : online.front();
  pin_this_thread(cpu);
  // One thread: preprocessing runs in the element's streaming thread, and no
  // OpenCV helper thread may take part in what is measured.
  set_threads(1);
#if DOFA_HAVE_OPENCV
  cv::setNumThreads(1);
#endif

  // Section 1: preprocessing.
  std::vector<Target> targets;
  targets.push_back({"28 grey", Spec::parse(kGreySpec, "bench element"), 28});
  targets.push_back({"224 rgb", Spec::load(Spec::find("ofa-mbv3-w12")), 224});
  std::vector<Frame> frames;
  for (PixelFormat f : {PixelFormat::NV12, PixelFormat::I420, PixelFormat::RGB, PixelFormat::BGR, PixelFormat::RGBx,
                        PixelFormat::BGRx, PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::Gray8})
    frames.push_back(make_frame(f, 1920, 1080));
  frames.push_back(make_frame(PixelFormat::Gray8, 28, 28));
  std::unique_ptr<gpu::FramePreprocess> gpu;
  if (device == "cuda") gpu = std::make_unique<gpu::FramePreprocess>();
  const auto pre = bench_preprocess(frames, targets, runs, gpu.get());
  const double nv12_grey = median_of(pre, "NV12", 1920, "28 grey");
  const double nv12_rgb = median_of(pre, "NV12", 1920, "224 rgb");

  // Section 2: the element against the engine, when a model can be loaded.
  std::vector<Overhead> overhead;
  std::string overhead_skipped;
  ModelOptions mo;
  mo.spec = o.get("model", kBuiltinModel);
  mo.level_table = o.get("level-table", "");
  mo.device = device;
  int level = o.get_int("level", -1);  // -1: the top level (known once the model loads)
  try {
    mo.spec = Spec::find(mo.spec);
  } catch (const Error& e) {
    overhead_skipped = e.what();
  }
#if !DOFA_HAVE_GSTREAMER
  overhead_skipped = "this build has no GStreamer";
#else
  if (overhead_skipped.empty()) {
    // The uninstalled plugin, unless GST_PLUGIN_PATH says otherwise.
    g_setenv("GST_PLUGIN_PATH", DOFA_BUILD_DIR "/gst", FALSE);
    gst_init(nullptr, nullptr);
    // The level asked for (default the top one, which the element runs with no target) and the
    // fastest, where the element's and the pipeline's cost per buffer weighs most.
    const int n = Model::get(mo)->num_levels();
    if (level < -1 || level >= n)
      throw Error("--level " + std::to_string(level) + ": expected 0.." + std::to_string(n - 1) + " (or -1: the top)");
    if (level < 0) level = n - 1;
    for (int l : level ? std::vector<int>{level, 0} : std::vector<int>{0})
      for (const Frame* f : {&frames.back(), &frames.front()}) {  // GRAY8 28x28, NV12 1080p
        Overhead ov;
        ov.input = std::string(format_name(f->format)) + " " + std::to_string(f->width) + "x" + std::to_string(f->height);
        ov.level = l;
        const std::string element = "dofaclassify model=\"" + mo.spec + "\" device=" + mo.device + " level=" +
                                    std::to_string(l) +
                                    (mo.level_table.empty() ? "" : " level-table=\"" + mo.level_table + "\"") +
                                    " post-messages=false";
        std::vector<double> element_ms, engine_ms, pipeline_ms, unused;
        for (int round = 0; round < rounds; ++round) {
          run_in_turns(mo, l, *f, frames_n, element, element_ms, engine_ms);
          run_in_turns(mo, l, *f, frames_n, "identity", pipeline_ms, unused);
        }
        ov.element_fps = 1e3 / percentile(element_ms, 50);
        ov.engine_fps = 1e3 / percentile(engine_ms, 50);
        ov.pipeline_us = 1e3 * percentile(pipeline_ms, 50);
        overhead.push_back(ov);
      }
  }
#endif
  // The lower of the two inputs, at the level asked for and at the fastest.
  auto lower_ratio = [&overhead](int l) {
    double r = 0;
    for (const auto& ov : overhead)
      if (ov.level == l) r = r == 0 ? ov.ratio() : std::min(r, ov.ratio());
    return r;
  };

  JsonWriter w;
  w.begin_object().key("bench").value("element").key("runs").value(runs).key("threads").value(1).key("cpu").value(cpu);
  w.key("device").value(device);
  w.key("preprocess").begin_array();
  double ref_diff = 0, gpu_diff = 0;
  for (const auto& r : pre) {
    w.begin_object().key("format").value(r.format).key("width").value(r.width).key("height").value(r.height);
    w.key("to").value(r.to).key("median_ms").value(r.median_ms).key("p90_ms").value(r.p90_ms);
    w.key("reference_max_diff").value(r.reference_diff);
    if (gpu) w.key("gpu_median_ms").value(r.gpu_median_ms).key("gpu_max_diff").value(r.gpu_diff);
    w.end_object();
    ref_diff = std::max(ref_diff, r.reference_diff), gpu_diff = std::max(gpu_diff, r.gpu_diff);
  }
  w.end_array();
  w.key("reference_max_diff").value(ref_diff);
  if (gpu) w.key("gpu_max_diff").value(gpu_diff);
  w.key("preprocess_nv12_1080p_to_28_grey_ms").value(nv12_grey);
  w.key("preprocess_nv12_1080p_to_224_rgb_ms").value(nv12_rgb);
  w.key("overhead").begin_array();
  for (const auto& ov : overhead) {
    w.begin_object().key("input").value(ov.input).key("level").value(ov.level).key("element_fps").value(ov.element_fps);
    w.key("engine_fps").value(ov.engine_fps).key("ratio").value(ov.ratio()).key("added_us_per_frame").value(ov.added_us());
    w.key("pipeline_us_per_frame").value(ov.pipeline_us);
    w.end_object();
  }
  w.end_array();
  if (overhead_skipped.empty()) {
    w.key("overhead_ratio").value(lower_ratio(level)).key("overhead_ratio_level0").value(lower_ratio(0));
    w.key("model").value(mo.spec).key("level").value(level);
    w.key("frames").value(frames_n).key("rounds").value(rounds);
  } else {
    w.key("overhead_ratio").null().key("overhead_skipped").value(overhead_skipped);
  }
  w.key("system").raw(system_info_json(system_info()));
  w.end_object();

  std::string text = "element: preprocessing, 1 thread, " + std::to_string(runs) + " runs (ms)\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-6s %-10s %-8s %8s %8s %8s%s\n", "format", "size", "to", "median", "p90",
                "ref-diff", gpu ? "      gpu gpu-diff" : "");
  text += line;
  for (const auto& r : pre) {
    const std::string size = std::to_string(r.width) + "x" + std::to_string(r.height);
    std::snprintf(line, sizeof line, "  %-6s %-10s %-8s %8.3f %8.3f %8.2f", r.format.c_str(), size.c_str(), r.to.c_str(),
                  r.median_ms, r.p90_ms, r.reference_diff);
    text += line;
    if (gpu) std::snprintf(line, sizeof line, " %8.3f %8.2f", r.gpu_median_ms, r.gpu_diff), text += line;
    text += "\n";
  }
  std::snprintf(line, sizeof line, "  NV12 1920x1080: %.3f ms to 28 grey, %.3f ms to 224 rgb (medians)\n", nv12_grey,
                nv12_rgb);
  text += line;
  if (!overhead_skipped.empty()) {
    text += "overhead: skipped (" + overhead_skipped + ")\n";
  } else {
    std::snprintf(line, sizeof line,
                  "overhead: %d rounds of %d frames, in turns of 20 in one thread (fps of the median frame)\n", rounds,
                  frames_n);
    text += line;
    for (const auto& ov : overhead) {
      std::snprintf(line, sizeof line,
                    "  level %d %-16s element %9.1f  engine %9.1f  ratio %.3f  (%+.1f us a frame; appsrc ! identity ! "
                    "fakesink alone %.1f us)\n",
                    ov.level, ov.input.c_str(), ov.element_fps, ov.engine_fps, ov.ratio(), ov.added_us(), ov.pipeline_us);
      text += line;
    }
    std::snprintf(line, sizeof line, "  overhead_ratio %.3f at level %d, %.3f at level 0\n", lower_ratio(level), level,
                  lower_ratio(0));
    text += line;
  }
  std::fputs((o.flag("json") ? w.str() : text).c_str(), stdout);
  return 0;
}

}  // namespace dofa::cli
