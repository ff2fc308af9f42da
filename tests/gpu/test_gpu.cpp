// device=cuda: the preprocessing kernels against their host-side reference
// and the CPU path, levels in GPU memory against the same levels on the CPU,
// switching on the GPU. Exits 77 (skipped) where device=cuda does not work.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "error.h"
#include "gpu_preprocess.h"
#include "level.h"
#include "model.h"
#include "preprocess.h"
#include "runner.h"
#include "supernet.h"
#include "system_info.h"
#include "test_util.h"

using namespace dofa;

namespace {

// Every format at sizes with no shrink, odd factors, odd offsets and padded rows.
struct Frame {
  std::vector<uint8_t> a, b, c;
  ImageView view;
};

Frame make(PixelFormat f, int w, int h, size_t pad) {
  Frame fr;
  const int bpp = bytes_per_pixel(f);
  const size_t stride = size_t(w) * bpp + pad, cw = (size_t(w) + 1) / 2, ch = (size_t(h) + 1) / 2;
  fr.a.resize(stride * h);
  for (size_t i = 0; i < fr.a.size(); ++i) fr.a[i] = uint8_t((i * 2654435761u >> 13) ^ (i / stride * 3));
  fr.view = ImageView{fr.a.data(), w, h, stride, f};
  if (f == PixelFormat::NV12 || f == PixelFormat::I420) {
    const size_t cs = (f == PixelFormat::NV12 ? 2 * cw : cw) + pad;
    fr.b.resize(cs * ch);
    fr.c.resize(cs * ch);
    for (size_t i = 0; i < fr.b.size(); ++i) fr.b[i] = uint8_t(60 + (i * 7) % 140), fr.c[i] = uint8_t(200 - (i * 5) % 150);
    fr.view.planes[0] = fr.b.data(), fr.view.plane_strides[0] = cs;
    if (f == PixelFormat::I420) fr.view.planes[1] = fr.c.data(), fr.view.plane_strides[1] = cs;
  }
  return fr;
}

const PixelFormat kFormats[] = {PixelFormat::Gray8, PixelFormat::RGB,  PixelFormat::BGR,  PixelFormat::RGBA,
                                PixelFormat::BGRA,  PixelFormat::RGBx, PixelFormat::BGRx, PixelFormat::NV12,
                                PixelFormat::I420};

Spec spec_with(int channels) {
  Spec s = Spec::load(dofa_test::fixtures() + "/tiny-mbv3.json");
  s.in_channels = channels;
  s.mean = {0.5f, 0.4f, 0.3f};
  s.std = {0.25f, 0.2f, 0.3f};
  s.mean.resize(channels), s.std.resize(channels);
  return s;
}

double max_levels(const std::vector<float>& a, const std::vector<float>& b, const Spec& s) {
  double m = 0;
  const size_t plane = a.size() / size_t(s.in_channels);
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]) * s.std[i / plane] * 255.0);
  return m;
}

}  // namespace

START_TEST(test_devices) {
  const std::vector<std::string> d = available_devices();
  ck_assert_int_eq(d.size(), 2);
  ck_assert_str_eq(d[1].c_str(), "cuda");
  std::printf("GPU: %s\n", system_info().gpu.c_str());
}
END_TEST

START_TEST(test_kernels_match_reference_and_cpu) {
  struct Case {
    int w, h, r;
    double crop;
    size_t pad;
  };
  const Case cases[] = {{33, 17, 24, 1.0, 0}, {64, 48, 24, 1.0, 3}, {321, 241, 28, 0.875, 5}, {1920, 1080, 28, 1.0, 0},
                        {1920, 1080, 224, 0.875, 64}, {1281, 721, 160, 0.875, 1}};
  gpu::FramePreprocess pre;
  double worst_ref = 0, worst_cpu = 0;
  for (int channels : {1, 3})
    for (const Case& c : cases)
      for (PixelFormat f : kFormats) {
        const Spec s = spec_with(channels);
        const Frame fr = make(f, c.w, c.h, c.pad);
        const size_t n = size_t(channels) * c.r * c.r;
        std::vector<float> ref(n), cpu(n), got(n);
        preprocess_reference(fr.view, s, c.r, ref.data(), c.crop);
        preprocess(fr.view, s, c.r, cpu.data(), c.crop);
        gpu::download(got.data(), pre.run(fr.view, s, c.r, c.crop), n * sizeof(float));
        const double d_ref = max_levels(got, ref, s), d_cpu = max_levels(got, cpu, s);
        ck_assert_msg(d_ref < 1e-3, "%s %dx%d -> %d (%d ch): kernels differ from their reference by %.3f levels",
                      format_name(f), c.w, c.h, c.r, channels, d_ref);
        ck_assert_msg(d_cpu <= 1.0 + 1e-3, "%s %dx%d -> %d (%d ch): kernels differ from the CPU by %.3f levels",
                      format_name(f), c.w, c.h, c.r, channels, d_cpu);
        worst_ref = std::max(worst_ref, d_ref), worst_cpu = std::max(worst_cpu, d_cpu);
      }
  std::printf("kernels: largest difference %.4f levels from the reference, %.4f from the CPU path\n", worst_ref,
              worst_cpu);
  // A malformed view is refused before anything is uploaded.
  ImageView bad{nullptr, 10, 10, 30, PixelFormat::RGB};
  DOFA_ASSERT_ERROR(pre.run(bad, spec_with(3), 8, 1.0), "empty image");
}
END_TEST

START_TEST(test_levels_on_gpu_match_cpu) {
  // The built-in model's CPU family on both devices: the same logits up to float reordering.
  const Spec spec = Spec::load(Spec::find(kBuiltinModel));
  Supernet net = Supernet::open(spec, "");
  ModelOptions o;
  o.spec = kBuiltinModel;
  o.level_table = dofa_test::source_root() + "/luts/" + spec.name + "-cpu.json";
  o.warmup_runs = 2;
  auto cpu = Model::load(o);
  o.device = "cuda";
  auto gpu = Model::load(o);
  ck_assert_int_eq(gpu->num_levels(), cpu->num_levels());
  Runner rc(cpu), rg(gpu);
  const Frame fr = make(PixelFormat::NV12, 640, 480, 0);
  int agree = 0, frames = 0;
  for (int l = 0; l < gpu->num_levels(); ++l) {
    ck_assert_double_gt(gpu->level(l).measured_ms, 0);
    rc.switch_to(l), rg.switch_to(l);
    Classification a = rc.classify(fr.view, 3), b = rg.classify(fr.view, 3);
    ck_assert_int_eq(b.level, l);
    ck_assert_double_gt(b.infer_ms, 0);
    for (int k = 0; k < 3; ++k) ck_assert_msg(std::fabs(a.top_scores[k] - b.top_scores[k]) < 2e-3,
                                              "level %d: top-%d score %.5f on the CPU, %.5f on the GPU", l, k,
                                              a.top_scores[k], b.top_scores[k]);
    agree += a.class_id == b.class_id;
    ++frames;
  }
  ck_assert_int_eq(agree, frames);
}
END_TEST

START_TEST(test_switching_on_gpu) {
  ModelOptions o;
  o.spec = dofa_test::fixtures() + "/tiny-mbv3.json";
  o.weights = "random:5";
  o.archs = {"min", "random:3", "max"};
  o.device = "cuda";
  o.warmup_runs = 2;
  auto m = Model::load(o);
  Runner r(m, 0);
  const Frame fr = make(PixelFormat::RGB, 320, 240, 0);
  for (int i = 0; i < 60; ++i) {
    const int want = (i * 7) % 3;
    r.switch_to(want);
    Classification c = r.classify(fr.view);
    ck_assert_int_eq(c.level, want);
    ck_assert_int_ge(c.class_id, 0);
  }
  // Lazy on the GPU: the old level runs while the new one is built.
  o.materialize = Materialize::Lazy;
  auto lazy = Model::load(o);
  Runner rl(lazy, 0);
  rl.switch_to(2);
  for (int i = 0; i < 200 && rl.active_level() != 2; ++i) rl.classify(fr.view);
  ck_assert_int_eq(rl.classify(fr.view).level, 2);
  o.materialize = Materialize::None;
  DOFA_ASSERT_ERROR(Model::load(o), "materialize=none");
}
END_TEST

int main() {
  const std::string why = cuda_unavailable_reason();
  if (!why.empty()) {
    std::printf("skipped: device=cuda does not work here: %s\n", why.c_str());
    return 77;
  }
  setenv("CK_FORK", "no", 1);  // CUDA, initialised above, does not survive fork()
  Suite* s = suite_create("gpu");
  TCase* tc = tcase_create("gpu");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_devices);
  tcase_add_test(tc, test_kernels_match_reference_and_cpu);
  tcase_add_test(tc, test_levels_on_gpu_match_cpu);
  tcase_add_test(tc, test_switching_on_gpu);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
