// dofa bench preprocess: a 1080p frame of every format the element accepts to
// the built-in model's 28x28 grey input and to a 224x224 RGB input, on the CPU
// path, its per-pixel reference and (--device cuda) the GPU kernels.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cli.h"
#include "error.h"
#include "gpu_preprocess.h"
#include "json_reader.h"
#include "model.h"
#include "preprocess.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

using Clock = std::chrono::steady_clock;

// A frame in one format with what video has: gradients, a saturated disc,
// noise. Planes are owned here; view() points into them.
struct Frame {
  PixelFormat format;
  int width, height;
  std::vector<uint8_t> data, u, v;
  ImageView view() const {
    ImageView iv{data.data(), width, height, size_t(width) * bytes_per_pixel(format), format};
    const size_t cw = (size_t(width) + 1) / 2;
    if (format == PixelFormat::NV12) {
      iv.planes[0] = u.data(), iv.plane_strides[0] = 2 * cw;
    } else if (format == PixelFormat::I420) {
      iv.planes[0] = u.data(), iv.planes[1] = v.data();
      iv.plane_strides[0] = iv.plane_strides[1] = cw;
    }
    return iv;
  }
};

Frame make_frame(PixelFormat f, int w, int h) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  uint32_t noise = 12345;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      noise = noise * 1664525u + 1013904223u;
      const int n = int(noise >> 28) - 8;
      int c[3] = {40 + 150 * x / w + n, 60 + 120 * y / h + n, 200 - 120 * x / w + n};
      const int dx = x - w / 3, dy = y - h / 2;
      if (dx * dx + dy * dy < (h / 4) * (h / 4)) c[0] = 230, c[1] = 40, c[2] = 30;
      for (int k = 0; k < 3; ++k) rgb[(size_t(y) * w + x) * 3 + k] = uint8_t(std::clamp(c[k], 0, 255));
    }
  Frame fr{f, w, h, {}, {}, {}};
  const int bpp = bytes_per_pixel(f);
  fr.data.assign(size_t(w) * h * bpp, 0);
  auto px = [&](int x, int y, int k) { return rgb[(size_t(y) * w + x) * 3 + k]; };
  if (f == PixelFormat::NV12 || f == PixelFormat::I420) {
    // BT.601 limited range; chroma from the top-left pixel of each 2x2 block.
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    fr.u.assign(size_t(cw) * ch * (f == PixelFormat::NV12 ? 2 : 1), 0);
    if (f == PixelFormat::I420) fr.v.assign(size_t(cw) * ch, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        fr.data[size_t(y) * w + x] = uint8_t(16.5 + 0.257 * px(x, y, 0) + 0.504 * px(x, y, 1) + 0.098 * px(x, y, 2));
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        const int r = px(2 * x, 2 * y, 0), g = px(2 * x, 2 * y, 1), b = px(2 * x, 2 * y, 2);
        const uint8_t U = uint8_t(std::clamp(128.5 - 0.148 * r - 0.291 * g + 0.439 * b, 0.0, 255.0));
        const uint8_t V = uint8_t(std::clamp(128.5 + 0.439 * r - 0.368 * g - 0.071 * b, 0.0, 255.0));
        if (f == PixelFormat::NV12) {
          fr.u[(size_t(y) * cw + x) * 2] = U, fr.u[(size_t(y) * cw + x) * 2 + 1] = V;
        } else {
          fr.u[size_t(y) * cw + x] = U, fr.v[size_t(y) * cw + x] = V;
        }
      }
    return fr;
  }
  const bool bgr = f == PixelFormat::BGR || f == PixelFormat::BGRA || f == PixelFormat::BGRx;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* o = &fr.data[(size_t(y) * w + x) * bpp];
      if (f == PixelFormat::Gray8) {
        o[0] = px(x, y, 1);
        continue;
      }
      for (int k = 0; k < 3; ++k) o[k] = px(x, y, bgr ? 2 - k : k);
      if (bpp == 4) o[3] = 255;
    }
  return fr;
}

// The largest difference of two inputs in levels of 255 (before normalisation).
double max_levels(const std::vector<float>& a, const std::vector<float>& b, const Spec& s) {
  double m = 0;
  const size_t plane = a.size() / size_t(s.in_channels);
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]) * s.std[i / plane] * 255.0);
  return m;
}

}  // namespace

int bench_preprocess(const Options& o) {
  const int runs = o.get_int("runs", 50);
  if (runs < 1) throw Error("--runs must be >= 1");
  const std::string device = o.get("device", "cpu");
  if (device != "cpu" && device != "cuda") throw Error("--device " + device + ": expected cpu or cuda");
  const bool cuda = device == "cuda";
  if (cuda && !cuda_unavailable_reason().empty()) throw Error("--device cuda: " + cuda_unavailable_reason());
  set_threads(o.get_int("threads", 1));
  const PixelFormat formats[] = {PixelFormat::NV12, PixelFormat::I420, PixelFormat::RGB,  PixelFormat::BGR,
                                 PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx,
                                 PixelFormat::Gray8};
  struct Target {
    Spec spec;
    int r;
  };
  const Target targets[] = {{Spec::load(Spec::find(kBuiltinModel)), 28},
                            {Spec::load(Spec::find("ofa-mbv3-w12")), 224}};

  JsonWriter w;
  w.begin_object().key("bench").value("preprocess").key("device").value(device).key("runs").value(runs);
  w.key("width").value(1920).key("height").value(1080).key("results").begin_array();
  std::string text = "preprocess: 1920x1080 frames, median of " + std::to_string(runs) + " runs (ms); diff in levels of 255\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-6s %-14s %8s %10s%s\n", "format", "input", "cpu", "ref-diff",
                cuda ? "   gpu-all  gpu-events  gpu-diff" : "");
  text += line;
  double worst_ref = 0, worst_gpu = 0;
  gpu::FramePreprocess* gpu_pre = nullptr;
  std::unique_ptr<gpu::FramePreprocess> keep;
  if (cuda) keep = std::make_unique<gpu::FramePreprocess>(), gpu_pre = keep.get();
  for (PixelFormat f : formats) {
    const Frame frame = make_frame(f, 1920, 1080);
    const ImageView view = frame.view();
    for (const Target& t : targets) {
      const size_t n = size_t(t.spec.in_channels) * t.r * t.r;
      std::vector<float> cpu(n), ref(n), gpu_out(n);
      std::vector<double> t_cpu, t_gpu, t_events;
      preprocess_reference(view, t.spec, t.r, ref.data(), t.spec.eval_crop);
      for (int i = 0; i < runs + 2; ++i) {
        auto t0 = Clock::now();
        preprocess(view, t.spec, t.r, cpu.data());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (i >= 2) t_cpu.push_back(ms);
        if (!cuda) continue;
        gpu::EventTimer timer;
        t0 = Clock::now();
        timer.start();
        const float* out = gpu_pre->run(view, t.spec, t.r, t.spec.eval_crop);
        timer.stop();
        const double events = timer.elapsed_ms();
        const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (i >= 2) t_gpu.push_back(wall), t_events.push_back(events);
        if (i == 0) gpu::download(gpu_out.data(), out, n * sizeof(float));
      }
      const double d_ref = max_levels(ref, cpu, t.spec), d_gpu = cuda ? max_levels(gpu_out, cpu, t.spec) : 0;
      worst_ref = std::max(worst_ref, d_ref), worst_gpu = std::max(worst_gpu, d_gpu);
      const std::string input = std::to_string(t.r) + "x" + std::to_string(t.r) + (t.spec.in_channels == 1 ? " grey" : " RGB");
      w.begin_object().key("format").value(format_name(f)).key("input").value(input);
      w.key("cpu_ms").value(percentile(t_cpu, 50)).key("reference_max_diff").value(d_ref);
      if (cuda) {
        w.key("gpu_ms").value(percentile(t_gpu, 50)).key("gpu_events_ms").value(percentile(t_events, 50));
        w.key("gpu_max_diff").value(d_gpu);
      }
      w.end_object();
      std::snprintf(line, sizeof line, "  %-6s %-14s %8.3f %10.2f", format_name(f), input.c_str(),
                    percentile(t_cpu, 50), d_ref);
      text += line;
      if (cuda) {
        std::snprintf(line, sizeof line, " %9.3f %11.3f %9.2f", percentile(t_gpu, 50), percentile(t_events, 50), d_gpu);
        text += line;
      }
      text += "\n";
    }
  }
  w.end_array().key("reference_max_diff").value(worst_ref);
  if (cuda) w.key("gpu_max_diff").value(worst_gpu);
  w.key("system").raw(system_info_json(system_info()));
  w.end_object();
  std::snprintf(line, sizeof line, "  largest difference: reference %.2f levels", worst_ref);
  text += line;
  if (cuda) std::snprintf(line, sizeof line, ", GPU %.2f levels", worst_gpu), text += line;
  text += "\n";
  if (o.flag("json")) std::fputs(w.str().c_str(), stdout);
  else std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace dofa::cli
